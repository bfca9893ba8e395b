"""Sort-of-CLEVR (Santoro et al. 2017): six coloured squares and circles, 20 questions each.

Made by the paper's recipe: a white 75x75 image holds one object of each of six colours,
a square or a circle; every image has 10 non-relational questions (the shape of the object
of colour c; is it on the left; is it at the top) and 10 relational ones (the shape of the
object closest to c; of the one furthest from c; how many objects share c's shape). A
question is an 11-bit vector: 6 bits colour, 2 bits non-relational/relational, 3 bits
subtype. The 10 answers: yes, no, square, circle, 1..6.

`generate` draws the scenes by seed and writes them as arrays; a DataModule caches them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plait.data.checks import DataError

COLOURS = ("red", "green", "blue", "orange", "gray", "yellow")
RGB = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 156, 0], [128, 128, 128],
                [255, 255, 0]], dtype=np.uint8)
SHAPES = ("square", "circle")
ANSWERS = ("yes", "no", "square", "circle", "1", "2", "3", "4", "5", "6")
KINDS = ("shape", "horizontal", "vertical", "closest", "furthest", "count")
RELATIONAL = (False, False, False, True, True, True)  # per kind
QUESTION_DIM = len(COLOURS) + 2 + 3
GENERATOR = 1  # bump when the recipe changes: it names the cache folder
YES, NO, SHAPE_ANSWER, COUNT_ANSWER = 0, 1, 2, 4


def make_scene(rng: np.random.Generator, size: int, half: int) -> np.ndarray:
    """One scene: `(6, 3)` int64 rows `(x, y, shape)`, row c for colour c.

    Objects keep apart (no two overlap), none sits on the image's middle lines, and every
    object's closest and furthest other objects are unique, so every answer is defined.
    """
    gap, middle = 2 * half * np.sqrt(2) + 1, (size - 1) / 2
    for _ in range(1000):
        xy = rng.integers(half, size - half, size=(len(COLOURS), 2))
        dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
        np.fill_diagonal(dist, np.nan)
        ordered = np.sort(dist, axis=1)[:, :-1]  # nan (self) sorts last
        if (np.nanmin(dist) > gap and not (xy == middle).any()
                and (ordered[:, 0] < ordered[:, 1]).all() and (ordered[:, -2] < ordered[:, -1]).all()):
            shapes = rng.integers(0, len(SHAPES), size=len(COLOURS))
            return np.column_stack([xy, shapes]).astype(np.int64)
    raise DataError(f"Sort-of-CLEVR: six objects of half-size data.object_size={half} do not "
                    f"fit apart in a {size}x{size} image (data.image_size); make it larger.")


def render(scene: np.ndarray, size: int, half: int) -> np.ndarray:
    """The scene as a white `(3, size, size)` uint8 image."""
    image = np.full((size, size, 3), 255, dtype=np.uint8)
    dy, dx = np.mgrid[-half:half + 1, -half:half + 1]
    disc = dx ** 2 + dy ** 2 <= half ** 2
    for colour, (x, y, shape) in enumerate(scene):
        patch = image[y - half:y + half + 1, x - half:x + half + 1]
        patch[disc if SHAPES[shape] == "circle" else slice(None)] = RGB[colour]
    return image.transpose(2, 0, 1)


def answer(scene: np.ndarray, colour: int, kind: int, size: int) -> int:
    """The answer index to question `kind` about the object of `colour`."""
    x, y, shape = scene[colour]
    middle = (size - 1) / 2
    dist = np.sqrt(((scene[:, :2] - scene[colour, :2]) ** 2).sum(-1)).astype(float)
    name = KINDS[kind]
    if name == "shape":
        return SHAPE_ANSWER + int(shape)
    if name in ("horizontal", "vertical"):
        return YES if (x if name == "horizontal" else y) < middle else NO  # left / top
    if name == "count":
        return COUNT_ANSWER + int((scene[:, 2] == shape).sum()) - 1
    dist[colour] = np.inf if name == "closest" else -np.inf
    other = np.argmin(dist) if name == "closest" else np.argmax(dist)
    return SHAPE_ANSWER + int(scene[other, 2])


def question_vectors(colours: np.ndarray, kinds: np.ndarray) -> np.ndarray:
    """The paper's 11-bit questions: colour one-hot, relational one-hot, subtype one-hot."""
    vectors = np.zeros((*colours.shape, QUESTION_DIM), dtype=np.float32)
    np.put_along_axis(vectors, colours[..., None], 1.0, axis=-1)
    relational = np.asarray(RELATIONAL)[kinds].astype(np.int64)
    np.put_along_axis(vectors, len(COLOURS) + relational[..., None], 1.0, axis=-1)
    np.put_along_axis(vectors, len(COLOURS) + 2 + (kinds % 3)[..., None], 1.0, axis=-1)
    return vectors


def object_vectors(scenes: np.ndarray, size: int) -> np.ndarray:
    """The scenes as state descriptions, the paper's alternative to pixels: `(N, 6, 10)`
    float32, one row per object (row c for colour c): colour one-hot, `(x, y)` in [-1, 1],
    shape one-hot."""
    n, objects = scenes.shape[:2]
    vectors = np.zeros((n, objects, len(COLOURS) + 2 + len(SHAPES)), dtype=np.float32)
    vectors[:, :, :len(COLOURS)] = np.eye(len(COLOURS), dtype=np.float32)
    vectors[:, :, len(COLOURS):len(COLOURS) + 2] = scenes[:, :, :2] / (size - 1) * 2 - 1
    np.put_along_axis(vectors, len(COLOURS) + 2 + scenes[:, :, 2:3], 1.0, axis=-1)
    return vectors


def generate(dest: Path, *, num_images: int, questions: int, size: int, half: int,
             seed: int) -> None:
    """Write scenes, images, question colours and kinds, and answers into `dest`."""
    rng = np.random.default_rng([seed, GENERATOR])
    scenes = np.stack([make_scene(rng, size, half) for _ in range(num_images)])  # (N, 6, 3)
    colours = rng.integers(0, len(COLOURS), size=(num_images, questions))
    kinds = rng.integers(0, 3, size=(num_images, questions))
    kinds[:, questions // 2:] += 3  # the second half is relational
    answers = np.array([[answer(scene, c, k, size) for c, k in zip(cs, ks)]
                        for scene, cs, ks in zip(scenes, colours, kinds)], dtype=np.int64)
    np.save(dest / "scenes.npy", scenes)
    np.save(dest / "images.npy", np.stack([render(s, size, half) for s in scenes]))
    np.save(dest / "colours.npy", colours)
    np.save(dest / "kinds.npy", kinds)
    np.save(dest / "answers.npy", answers)
