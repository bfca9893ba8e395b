"""Moving shapes video QA (after Srivastava et al. 2015's Moving MNIST), in easy-VQA's style.

A clip holds one or two shapes (circle, rectangle, triangle) in easy-VQA's eight colours on
a light background, each moving along one axis at constant speed, bouncing off the walls.
Questions use easy-VQA's words plus "direction" and "move": "what direction does the red
shape move?" / "... the circle move?" (left, right, up, down: the shape's net displacement
from the first frame to the last), "what color is the triangle?", "what is the blue shape?".

Reversing a clip's frames gives a clip of the same distribution whose direction answers
are the opposite ones, so a model blind to frame order can tell the axis but not the sign:
at most 50% on direction questions. `prepare_data` draws the clips by `generator_seed` and
caches their tracks; frames are drawn from the tracks batch by batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from plait.data.base import DataError, DictDataModule, split_indices
from plait.data.easy_vqa import EasyVQADataModule
from plait.data.sort_of_clevr import SharedInputDataset
from plait.data.text import build_vocab, encode, tokenize

COLOURS = ("red", "green", "blue", "yellow", "teal", "brown", "gray", "black")
RGB = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 128, 128],
                [165, 42, 42], [128, 128, 128], [0, 0, 0]], dtype=np.float32) / 255
SHAPES = ("circle", "rectangle", "triangle")
DIRECTIONS = ("left", "right", "up", "down")
OPPOSITE = np.array([1, 0, 3, 2])  # the index of each direction's opposite
ANSWERS = DIRECTIONS + COLOURS + SHAPES
KINDS = ("direction", "color", "shape")
GENERATOR = 1  # bump when the recipe changes: it names the cache folder


def simulate(start: float, velocity: float, frames: int, low: float, high: float) -> np.ndarray:
    """Positions along one axis over `frames` steps, reflected at `low` and `high`."""
    out = np.empty(frames, dtype=np.float32)
    position = start
    for t in range(frames):
        out[t] = position
        position += velocity
        if position > high:
            position, velocity = 2 * high - position, -velocity
        elif position < low:
            position, velocity = 2 * low - position, -velocity
    return out


def direction_of(track: np.ndarray) -> int:
    """The direction (index into `DIRECTIONS`) of a `(T, 2)` track's net (x, y) displacement."""
    dx, dy = track[-1] - track[0]
    if abs(dx) >= abs(dy):
        return DIRECTIONS.index("right" if dx > 0 else "left")
    return DIRECTIONS.index("down" if dy > 0 else "up")  # image rows grow downwards


def make_clip(rng: np.random.Generator, *, size: int, frames: int, max_shapes: int,
              min_travel: float) -> dict[str, np.ndarray]:
    """One clip: per shape slot a track `(T, 2)`, half-size, colour and shape (-1: empty)."""
    count = int(rng.integers(1, max_shapes + 1))
    colours = np.full(max_shapes, -1)
    shapes = np.full(max_shapes, -1)
    colours[:count] = rng.choice(len(COLOURS), count, replace=False)
    shapes[:count] = rng.choice(len(SHAPES), count, replace=False)
    halves = np.zeros(max_shapes, dtype=np.float32)
    tracks = np.zeros((max_shapes, frames, 2), dtype=np.float32)
    for k in range(count):
        halves[k] = rng.uniform(6, 10)
        low, high = halves[k], size - 1 - halves[k]
        while True:
            axis, speed = int(rng.integers(2)), rng.uniform(2, 5) * rng.choice([-1, 1])
            start = rng.uniform(low, high, size=2)
            track = np.repeat(start[None], frames, axis=0).astype(np.float32)
            track[:, axis] = simulate(start[axis], speed, frames, low, high)
            if abs(track[-1, axis] - track[0, axis]) >= min_travel:
                break
        tracks[k] = track
    return {"tracks": tracks, "halves": halves, "colours": colours, "shapes": shapes,
            "background": rng.uniform(0.88, 1.0, size=3).astype(np.float32)}


def questions_for(rng: np.random.Generator, clip: dict[str, np.ndarray],
                  count: int) -> list[tuple[str, int, int]]:
    """`count` questions `(text, answer, kind)`, kinds in turn: direction, colour, shape."""
    present = np.flatnonzero(clip["colours"] >= 0)
    out = []
    for j in range(count):
        k = int(rng.choice(present))
        colour, shape = COLOURS[clip["colours"][k]], SHAPES[clip["shapes"][k]]
        kind = KINDS[j % len(KINDS)]
        if kind == "direction":
            subject = f"the {colour} shape" if rng.integers(2) else f"the {shape}"
            text = f"what direction does {subject} move?"
            answer = direction_of(clip["tracks"][k])
        elif kind == "color":
            text, answer = f"what color is the {shape}?", ANSWERS.index(colour)
        else:
            text, answer = f"what is the {colour} shape?", ANSWERS.index(shape)
        out.append((text, answer, KINDS.index(kind)))
    return out


def generate(dest: Path, *, num_clips: int, questions: int, size: int, frames: int,
             max_shapes: int, min_travel: float, seed: int) -> None:
    """Write the clips' arrays and their questions into `dest`."""
    if min_travel > size / 2:
        raise DataError(f"MovingShapesDataModule: data.min_travel={min_travel} cannot be "
                        f"reached in a {size}-pixel frame; keep it below {size / 2}.")
    rng = np.random.default_rng([seed, GENERATOR])
    clips = [make_clip(rng, size=size, frames=frames, max_shapes=max_shapes,
                       min_travel=min_travel) for _ in range(num_clips)]
    for key in clips[0]:
        np.save(dest / f"{key}.npy", np.stack([c[key] for c in clips]))
    asked = [questions_for(rng, clip, questions) for clip in clips]
    (dest / "questions.txt").write_text("".join(f"{t}\n" for qs in asked for t, _, _ in qs))
    np.save(dest / "answers.npy", np.array([[a for _, a, _ in qs] for qs in asked]))
    np.save(dest / "kinds.npy", np.array([[k for _, _, k in qs] for qs in asked]))


def render(clips: dict[str, np.ndarray], ids: np.ndarray, size: int) -> np.ndarray:
    """The frames of clips `ids`: `(B, T, 3, size, size)` float32 in [0, 1]."""
    tracks = clips["tracks"][ids]  # (B, K, T, 2)
    batch, slots, frames = tracks.shape[:3]
    out = np.empty((batch, frames, 3, size, size), dtype=np.float32)
    out[:] = clips["background"][ids][:, None, :, None, None]
    grid = np.arange(size, dtype=np.float32)
    for k in range(slots):
        colour, shape = clips["colours"][ids, k], clips["shapes"][ids, k]  # (B,)
        half = clips["halves"][ids, k][:, None, None, None]  # (B, 1, 1, 1)
        dx = grid - tracks[:, k, :, 0, None, None]  # (B, T, 1, S)
        dy = grid[:, None] - tracks[:, k, :, 1, None, None]  # (B, T, S, 1)
        masks = np.stack([dx ** 2 + dy ** 2 <= half ** 2,  # circle
                          (np.abs(dx) <= half) & (np.abs(dy) <= 0.7 * half),  # rectangle
                          (np.abs(dy) <= half) & (2 * np.abs(dx) <= dy + half)])  # triangle
        mask = masks[np.maximum(shape, 0), np.arange(batch)] & (colour >= 0)[:, None, None, None]
        paint = RGB[np.maximum(colour, 0)][:, None, :, None, None]  # (B, 1, 3, 1, 1)
        out[:] = np.where(mask[:, :, None], paint, out)
    return out


class ClipFrames:
    """Draws the frames of clips by id, in the configured order.

    Args:
        clips: the cached arrays (tracks, halves, colours, shapes, background).
        size: the frame side in pixels.
        order: `forward`, `reversed`, or `shuffled` (a fresh permutation per draw).
        seed: seeds the shuffled order.
    """

    def __init__(self, clips: dict[str, np.ndarray], size: int, order: str, seed: int) -> None:
        self.clips, self.size, self.order = clips, size, order
        self.rng = np.random.default_rng([seed, GENERATOR, 7])

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        frames = render(self.clips, ids, self.size)  # (B, T, 3, S, S)
        if self.order == "reversed":
            return np.ascontiguousarray(frames[:, ::-1])
        if self.order == "shuffled":
            steps = np.tile(np.arange(frames.shape[1]), (len(ids), 1))
            order = self.rng.permuted(steps, axis=1)[:, :, None, None, None]
            return np.take_along_axis(frames, order, axis=1)
        return frames


class MovingShapesDataModule(DictDataModule):
    """Moving-shapes video QA batches: `frames` (B, T, 3, S, S) float32 in [0, 1],
    `question` (B, L) int64 token ids right-padded with 0, `answer` (B,) int64 (see
    `ANSWERS`), and for reports `kind` (B,) int64 (see `KINDS`).

    Splits hold whole clips. With `question_vocab="easy_vqa"` the token ids are those the
    `vqa` experiment's EasyVQADataModule gives (built from its train part with
    `easy_vqa_seed`), new words after them, so a `vqa` run's question encoder reads them.

    Args:
        batch_size: questions per batch.
        num_workers: loader worker processes.
        seed: seeds the split of the clips, the `limit` slice and the shuffle.
        limit: keep only the first `limit` questions of each split after shuffling.
        cache_dir: where the generated arrays (and easy-VQA, if used) are kept.
        num_clips: clips to generate.
        questions_per_clip: questions per clip, kinds in turn: direction, colour, shape.
        frames: frames per clip.
        image_size: frame side in pixels (64, as easy-VQA, to reuse its vision tower).
        max_shapes: at most this many shapes per clip (1 to 3); at least one.
        min_travel: the least net displacement of a shape, in pixels.
        generator_seed: draws the clips and questions; the same seed gives the same data.
        val_fraction: share of the clips held out for val.
        test_fraction: share of the clips held out for test.
        vocab_size: token ids the question embedding holds, padding and OOV included.
        num_answers: answer classes the head predicts; the data has 15.
        max_question_len: the longest question allowed, in words; the data's has 7.
        question_vocab: `easy_vqa` (easy-VQA's ids, then new words) or `own` (train only).
        easy_vqa_seed: the seed of the `vqa` run whose vocabulary to follow; None: `seed`.
        frame_order: `forward`; `shuffled` (a baseline that cannot see the order); or
            `reversed` (direction answers flipped to match).
    """

    kind_names = KINDS

    def __init__(self, *, batch_size: int = 32, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 num_clips: int = 3000, questions_per_clip: int = 3, frames: int = 8,
                 image_size: int = 64, max_shapes: int = 2, min_travel: float = 8.0,
                 generator_seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1,
                 vocab_size: int = 32, num_answers: int = len(ANSWERS), max_question_len: int = 12,
                 question_vocab: str = "easy_vqa", easy_vqa_seed: int | None = None,
                 frame_order: str = "forward") -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed,
                         limit=limit, cache_dir=cache_dir)
        owner = type(self).__name__
        for key, value, allowed in (("question_vocab", question_vocab, ("easy_vqa", "own")),
                                    ("frame_order", frame_order, ("forward", "shuffled", "reversed"))):
            if value not in allowed:
                raise DataError(f"{owner}: data.{key} must be one of {list(allowed)}, got {value!r}.")
        for key, value, least in (("num_clips", num_clips, 3), ("questions_per_clip", questions_per_clip, 1),
                                  ("frames", frames, 2), ("max_shapes", max_shapes, 1)):
            if value < least:
                raise DataError(f"{owner}: data.{key} must be at least {least}, got {value}.")
        if max_shapes > min(len(COLOURS), len(SHAPES)):
            raise DataError(f"{owner}: data.max_shapes must be at most {len(SHAPES)} (one per "
                            f"shape, so each is named uniquely), got {max_shapes}.")
        self.num_clips, self.questions_per_clip, self.frames = num_clips, questions_per_clip, frames
        self.image_size, self.max_shapes, self.min_travel = image_size, max_shapes, min_travel
        self.generator_seed = generator_seed
        self.val_fraction, self.test_fraction = val_fraction, test_fraction
        self.vocab_size, self.num_answers, self.max_question_len = vocab_size, num_answers, max_question_len
        self.question_vocab, self.frame_order = question_vocab, frame_order
        self.easy_vqa_seed = seed if easy_vqa_seed is None else easy_vqa_seed
        self.vocab: dict[str, int] = {}

    # For accuracy by kind of question (scripts/accuracy_by_kind.py).
    extras = frozenset({"kind"})

    @property
    def provides(self) -> frozenset[str]:
        return frozenset({"frames", "question", "answer", "kind"})

    @property
    def data_dir(self) -> Path:
        """The cache folder of this configuration's generated arrays."""
        return self.cache_dir / (f"moving_shapes-g{GENERATOR}-{self.num_clips}x{self.questions_per_clip}-"
                                 f"{self.frames}f-{self.image_size}px-{self.max_shapes}s-"
                                 f"t{self.min_travel:g}-seed{self.generator_seed}")

    def build_cache(self, folder: Path) -> None:
        generate(folder, num_clips=self.num_clips, questions=self.questions_per_clip,
                 size=self.image_size, frames=self.frames, max_shapes=self.max_shapes,
                 min_travel=self.min_travel, seed=self.generator_seed)

    def prepare_data(self) -> None:
        super().prepare_data()
        if self.question_vocab == "easy_vqa":
            self._easy_vqa().prepare_data()

    def _easy_vqa(self) -> EasyVQADataModule:
        return EasyVQADataModule(batch_size=1, seed=self.easy_vqa_seed, cache_dir=str(self.cache_dir))

    def build_splits(self) -> dict[str, Dataset]:
        owner = type(self).__name__
        folder = self.cached_dir()
        clips = {k: np.load(folder / f"{k}.npy")
                 for k in ("tracks", "halves", "colours", "shapes", "background")}
        answers, kinds = np.load(folder / "answers.npy"), np.load(folder / "kinds.npy")
        tokens = [tokenize(line) for line in (folder / "questions.txt").read_text().splitlines()]
        if self.frame_order == "reversed":  # a reversed clip moves the opposite way
            answers = np.where(kinds == KINDS.index("direction"), OPPOSITE[answers % 4], answers)
        for key, needed, what in (("num_answers", len(ANSWERS), "answers"),
                                  ("max_question_len", max(map(len, tokens)), "words in the longest question")):
            if needed > getattr(self, key):
                raise DataError(f"{owner}: the data has {needed} {what}, but data.{key} is "
                                f"{getattr(self, key)}. Set data.{key} to at least {needed}.")
        parts = split_indices(self.num_clips, val_fraction=self.val_fraction,
                              test_fraction=self.test_fraction, seed=self.seed, owner=owner)
        q = self.questions_per_clip
        rows = {name: (ids[:, None] * q + np.arange(q)).ravel() for name, ids in parts.items()}
        self.vocab = self._vocab([tokens[i] for i in rows["train"]], owner)
        ids, _ = encode(tokens, self.vocab, width=self.max_question_len)
        columns = {"question": ids, "answer": answers.ravel().astype(np.int64),
                   "kind": kinds.ravel().astype(np.int64)}
        frames = ClipFrames(clips, self.image_size, self.frame_order, self.seed)
        return {name: SharedInputDataset({"frames": frames}, r // q, {k: v[r] for k, v in columns.items()})
                for name, r in rows.items()}

    def _vocab(self, train: list[list[str]], owner: str) -> dict[str, int]:
        """Word ids from the train questions, after easy-VQA's ids when so configured."""
        if self.question_vocab == "own":
            return build_vocab(train, vocab_size=self.vocab_size, owner=owner)
        easy = self._easy_vqa()
        easy.setup()
        new = [[w for w in text if w not in easy.vocab] for text in train]
        start, words = len(easy.vocab) + 2, {w for text in new for w in text}
        if start + len(words) > self.vocab_size:
            raise DataError(f"{owner}: easy-VQA's {len(easy.vocab)} words and {len(words)} new "
                            f"words need data.vocab_size >= {start + len(words)} (padding and "
                            f"out-of-vocabulary included), but data.vocab_size is {self.vocab_size}.")
        added = build_vocab(new, vocab_size=self.vocab_size - start + 2, owner=owner)
        return easy.vocab | {w: i + start - 2 for w, i in added.items()}
