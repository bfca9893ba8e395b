"""Sort-of-CLEVR's recipe: question vectors, answers, rendering."""

import numpy as np

from plait.data.sources.sort_of_clevr import (
    ANSWERS,
    KINDS,
    RGB,
    SHAPES,
    answer,
    make_scene,
    question_vectors,
    render,
)

SIZE, HALF = 75, 5


def test_questions_are_the_papers_11_bit_vectors():
    colours, kinds = np.array([[2, 5]]), np.array([[1, 4]])
    vectors = question_vectors(colours, kinds)
    assert vectors.tolist() == [[[0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0]]]


def test_relational_answers_depend_on_the_other_objects():
    """Redraw every object but the one asked about: non-relational answers never change,
    relational ones often do."""
    rng = np.random.default_rng(0)
    changed = np.zeros(6)
    trials = 300
    for _ in range(trials):
        scene, colour = make_scene(rng, SIZE, HALF), int(rng.integers(6))
        redrawn = make_scene(rng, SIZE, HALF)
        redrawn[colour] = scene[colour]
        for kind in range(6):
            changed[kind] += answer(scene, colour, kind, SIZE) != answer(redrawn, colour, kind, SIZE)
    assert changed[:3].tolist() == [0, 0, 0]
    assert (changed[3:] / trials > 0.3).all()


def test_moving_one_other_object_changes_the_closest_and_furthest():
    rng = np.random.default_rng(1)
    scene = make_scene(rng, SIZE, HALF)
    while len(set(scene[1:, 2])) < 2:
        scene = make_scene(rng, SIZE, HALF)
    for kind, offset in ((KINDS.index("closest"), 1), (KINDS.index("furthest"), 1000)):
        before = answer(scene, 0, kind, SIZE)
        other = next(o for o in range(1, 6) if SHAPES[scene[o, 2]] != ANSWERS[before])
        moved = scene.copy()
        moved[other, :2] = scene[0, :2] + (offset, 0)  # next to object 0, or far away
        assert answer(moved, 0, kind, SIZE) == ANSWERS.index(SHAPES[scene[other, 2]]) != before


def test_render_draws_each_colour_once():
    scene = make_scene(np.random.default_rng(2), SIZE, HALF)
    image = render(scene, SIZE, HALF).transpose(1, 2, 0)
    counts = [(image == rgb).all(-1).sum() for rgb in RGB]
    assert counts == [121 if SHAPES[s] == "square" else 81 for s in scene[:, 2]]

