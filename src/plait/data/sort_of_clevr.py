"""Sort-of-CLEVR (Santoro et al. 2017): six coloured squares and circles, 20 questions each.

Made by the paper's recipe: a white 75x75 image holds one object of each of six colours,
a square or a circle; every image has 10 non-relational questions (the shape of the object
of colour c; is it on the left; is it at the top) and 10 relational ones (the shape of the
object closest to c; of the one furthest from c; how many objects share c's shape). A
question is an 11-bit vector: 6 bits colour, 2 bits non-relational/relational, 3 bits
subtype. The 10 answers: yes, no, square, circle, 1..6.

The scenes are drawn by `generator_seed` in `prepare_data` and cached as arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.base import DataError, DictDataModule, split_indices

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


class SharedInputDataset(Dataset):
    """Rows (questions) that share larger inputs (an image, a clip, its objects) by id.

    A batch gathers each row's shared inputs by its id, so an image asked about 20 times
    is stored once.

    Args:
        shared: batch key -> a function from `(B,)` input ids to that input's `(B, ...)`
            float32 batch.
        ids: `(N,)` the input each row reads.
        columns: name -> `(N, ...)` arrays, already of the batch's dtype.
    """

    def __init__(self, shared: dict[str, Callable[[np.ndarray], np.ndarray]], ids: np.ndarray,
                 columns: dict[str, np.ndarray]) -> None:
        self.shared, self.ids, self.columns = shared, ids, columns

    def __len__(self) -> int:
        return len(self.ids)

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        ids = self.ids[idx]
        batch = {key: torch.from_numpy(gather(ids)) for key, gather in self.shared.items()}
        return batch | {name: torch.from_numpy(a[idx]) for name, a in self.columns.items()}

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


def scaled(images: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """`images[ids]` (uint8) as float32 in [0, 1]."""
    return np.multiply(images[ids], np.float32(1 / 255), dtype=np.float32)


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


class SortOfClevrDataModule(DictDataModule):
    """Sort-of-CLEVR batches: `image` (B, 3, S, S) float32 in [0, 1], `question` (B, 11)
    float32, `answer` (B,) int64 (see `ANSWERS`), and for reports `kind` (B,) int64 (see
    `KINDS`) and `relational` (B,) int64 (1 for relational questions). `objects` (B, 6, 10)
    float32 describes the same scene as a set of object vectors (`object_vectors`), for
    models that reason without reading pixels.

    Splits hold whole images, so no image of val or test is seen in training.

    Args:
        batch_size: questions per batch.
        num_workers: loader worker processes.
        seed: seeds the split of the images, the `limit` slice and the shuffle.
        limit: keep only the first `limit` questions of each split after shuffling.
        cache_dir: where the generated arrays are kept.
        num_images: scenes to generate (the paper: 10,000).
        questions_per_image: questions per scene, half of them relational (the paper: 20).
        image_size: image side in pixels (the paper: 75).
        object_size: half the side of a square, the radius of a circle, in pixels.
        generator_seed: draws the scenes and questions; the same seed gives the same data.
        val_fraction: share of the images held out for val.
        test_fraction: share of the images held out for test.
        num_answers: answer classes the head predicts; the data has 10.
        question_dim: the question input's size; the data's vectors have 11.
    """

    kind_names = KINDS
    kind_groups = {"non-relational": (0, 1, 2), "relational": (3, 4, 5)}

    def __init__(self, *, batch_size: int = 64, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 num_images: int = 10000, questions_per_image: int = 20, image_size: int = 75,
                 object_size: int = 5, generator_seed: int = 0, val_fraction: float = 0.1,
                 test_fraction: float = 0.1, num_answers: int = 10,
                 question_dim: int = QUESTION_DIM) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        owner = type(self).__name__
        if num_images < 3:
            raise DataError(f"{owner}: data.num_images must be at least 3 (one per split), "
                            f"got {num_images}.")
        if questions_per_image < 2 or questions_per_image % 2:
            raise DataError(f"{owner}: data.questions_per_image must be even and at least 2 "
                            f"(half relational), got {questions_per_image}.")
        self.num_images, self.questions_per_image = num_images, questions_per_image
        self.image_size, self.object_size = image_size, object_size
        self.generator_seed = generator_seed
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.num_answers, self.question_dim = num_answers, question_dim

    # For accuracy by kind of question; the objects feed only the state-description model.
    extras = frozenset({"kind", "relational", "objects"})

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({"image", "objects", "question", "answer", "kind", "relational"})

    @property
    def data_dir(self) -> Path:
        """The cache folder of this configuration's generated arrays."""
        return self.cache_dir / (f"sort_of_clevr-g{GENERATOR}-{self.num_images}x"
                                 f"{self.questions_per_image}-{self.image_size}px-"
                                 f"r{self.object_size}-seed{self.generator_seed}")

    def build_cache(self, folder: Path) -> None:
        generate(folder, num_images=self.num_images, questions=self.questions_per_image,
                 size=self.image_size, half=self.object_size, seed=self.generator_seed)

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        if self.num_answers < len(ANSWERS):
            raise DataError(f"{owner}: the data has {len(ANSWERS)} answers, but data.num_answers "
                            f"is {self.num_answers}. Set data.num_answers to at least {len(ANSWERS)}.")
        if self.question_dim != QUESTION_DIM:
            raise DataError(f"{owner}: the data's questions are {QUESTION_DIM}-bit vectors, but "
                            f"data.question_dim is {self.question_dim}. Set data.question_dim="
                            f"{QUESTION_DIM}.")
        folder = self.cached_dir()
        arrays = {name: np.load(folder / f"{name}.npy")
                  for name in ("images", "scenes", "colours", "kinds", "answers")}
        kinds = arrays["kinds"]
        q = self.questions_per_image
        columns = {"question": question_vectors(arrays["colours"], kinds),
                   "answer": arrays["answers"], "kind": kinds.astype(np.int64),
                   "relational": np.asarray(RELATIONAL, dtype=np.int64)[kinds]}
        parts = split_indices(self.num_images, val_fraction=self.val_fraction,
                              test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        shared = {"image": partial(scaled, arrays["images"]),  # one of each per image
                  "objects": object_vectors(arrays["scenes"], self.image_size).__getitem__}
        return {name: SharedInputDataset(
                    shared, np.repeat(images, q),
                    {k: v[images].reshape(len(images) * q, *v.shape[2:]) for k, v in columns.items()})
                for name, images in parts.items()}
