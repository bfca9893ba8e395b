"""Moving MNIST 5k digits (motions from `plait.data.sources.moving_digits`) as video batches."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from plait.data.base import SPLITS
from plait.data.checks import above_zero, distinct
from plait.data.columns import ColumnDataset, scale_uint8
from plait.data.mnist import MNISTBase
from plait.data.sources.mnist import SIDE
from plait.data.sources.moving_digits import draw_motion, render


class MovingDigitsDataModule(MNISTBase):
    """Videos of one MNIST 5k digit bouncing on a black canvas: `video`, `digit`, `direction`.

    The 5,000 images are split by `seed` first; each split's videos show only that split's
    images, and their motions are drawn by `seed`, so the data is the same on every machine.

    Args:
        steps: frames per video.
        canvas: frame height and width in pixels; more than 28 (the digit).
        min_speed: least horizontal speed, pixels per frame.
        max_speed: greatest horizontal (and vertical) speed, pixels per frame.
        min_shift: least horizontal distance between the first and the last position.
        videos_per_image: videos drawn per image of a split.
        shuffle_frames: put each video's frames in a random (seeded, fixed) order, keeping
            its targets: the baseline of a model that cannot use frame order.
        video_key: batch key of the frames.
        digit_key: batch key of the int64 digit class.
        direction_key: batch key of the float32 direction, 1.0 for right.
        **common: as `MNISTBase` (`limit` counts videos).

    Shape:
        video `(B, steps, 1, canvas, canvas)`, digit `(B,)`, direction `(B,)`.
    """

    def __init__(self, *, batch_size: int = 32, steps: int = 8, canvas: int = 36,
                 min_speed: float = 1.0, max_speed: float = 3.0, min_shift: float = 4.0,
                 videos_per_image: float = 1.0, shuffle_frames: bool = False,
                 video_key: str = "video", digit_key: str = "digit",
                 direction_key: str = "direction", **common: Any) -> None:
        super().__init__(batch_size=batch_size, **common)
        self.check(distinct({"video_key": video_key, "digit_key": digit_key,
                             "direction_key": direction_key}),
                   motion_problem(steps, canvas, min_speed, max_speed, min_shift),
                   above_zero("videos_per_image", videos_per_image))
        self.steps, self.canvas = steps, canvas
        self.speed, self.min_shift = (min_speed, max_speed), min_shift
        self.videos_per_image, self.shuffle_frames = videos_per_image, shuffle_frames
        self.keys = (video_key, digit_key, direction_key)

    def build_splits(self) -> dict[str, ColumnDataset]:
        return {name: self._videos(name, images, labels)
                for name, (images, labels) in self.split_digits().items()}

    def _videos(self, name: str, images: np.ndarray, labels: np.ndarray) -> ColumnDataset:
        rng = np.random.default_rng([self.seed, SPLITS.index(name), 3])
        count = round(len(labels) * self.videos_per_image) if len(labels) else 0
        rows = rng.permutation(np.arange(count) % max(len(labels), 1))
        positions, direction = draw_motion(count, steps=self.steps, span=self.canvas - SIDE,
                                           speed=self.speed, min_shift=self.min_shift, rng=rng)
        corners = np.rint(positions).astype(np.int64)  # (N, T, 2)
        if self.shuffle_frames:  # targets were read from the true order above
            order = np.argsort(rng.random((count, self.steps)), axis=1)
            corners = np.take_along_axis(corners, order[:, :, None], axis=1)
        digits, labels = scale_uint8(images), labels[rows] if count else labels  # (n, 28, 28)
        video, digit, direction_key = self.keys
        return ColumnDataset({video: partial(_frames, digits, rows, corners, self.canvas),
                              digit: labels, direction_key: direction},
                             digits=digits, rows=rows, labels=labels, corners=corners,
                             direction=direction)


def _frames(digits: np.ndarray, rows: np.ndarray, corners: np.ndarray, canvas: int,
            idx: np.ndarray) -> np.ndarray:
    """A batch's videos `(B, T, 1, canvas, canvas)`, rendered from its digits and corners."""
    return render(digits[rows[idx]], corners[idx], canvas)


def motion_problem(steps: int, canvas: int, min_speed: float, max_speed: float,
                   min_shift: float) -> str | None:
    """Why these motion settings cannot make videos, naming the key; None if they can."""
    if steps < 2:
        return f"data.steps must be at least 2 (a direction needs two frames), got {steps}."
    if canvas <= SIDE:
        return f"data.canvas must exceed the digit's {SIDE} pixels so it can move, got {canvas}."
    if not 0 < min_speed <= max_speed:
        return ("data.min_speed and data.max_speed must satisfy 0 < min_speed <= max_speed, "
                f"got {min_speed} and {max_speed}.")
    if not 0 <= min_shift < canvas - SIDE:
        return (f"data.min_shift must lie in [0, canvas - {SIDE}) = [0, {canvas - SIDE}), "
                f"got {min_shift}.")
    return None
