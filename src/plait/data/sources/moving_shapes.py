"""Moving shapes video QA (after Srivastava et al. 2015's Moving MNIST), in easy-VQA's style.

A clip holds one or two shapes (circle, rectangle, triangle) in easy-VQA's eight colours on
a light background, each moving along one axis at constant speed, bouncing off the walls.
Questions use easy-VQA's words plus "direction" and "move": "what direction does the red
shape move?" / "... the circle move?" (left, right, up, down: the shape's net displacement
from the first frame to the last), "what color is the triangle?", "what is the blue shape?".

Reversing a clip's frames gives a clip of the same distribution whose direction answers
are the opposite ones, so a model blind to frame order can tell the axis but not the sign:
at most 50% on direction questions. `generate` draws the clips by seed and writes their
tracks; `ClipFrames` draws frames from the tracks batch by batch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plait.data.checks import DataError

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
