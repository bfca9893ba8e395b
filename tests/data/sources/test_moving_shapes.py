"""Moving shapes' recipe: tracks that reflect, and clips whose reverse flips the direction."""

import numpy as np

from plait.data.sources.moving_shapes import (
    OPPOSITE,
    direction_of,
    make_clip,
    simulate,
)


def test_reflection_keeps_shapes_inside_and_runs_backwards():
    track = simulate(10.0, -4.5, 30, 8.0, 55.0)
    assert track.min() >= 8 and track.max() <= 55
    velocity = track[-1] - track[-2]  # no bounce in the last step of this track
    assert np.allclose(simulate(track[-1], -velocity, 30, 8.0, 55.0), track[::-1], atol=1e-4)


def test_reversing_a_clip_flips_every_direction_answer():
    """An order-blind model sees a clip and its reverse (just as likely) alike, yet their
    direction answers always differ, so it cannot beat 50% on them."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        clip = make_clip(rng, size=64, frames=8, max_shapes=2, min_travel=8.0)
        for track in clip["tracks"][clip["colours"] >= 0]:
            forward, backward = direction_of(track), direction_of(track[::-1])
            assert backward == OPPOSITE[forward] != forward

