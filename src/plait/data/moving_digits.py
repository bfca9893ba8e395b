"""Moving digits: short videos of one MNIST 5k digit bouncing around a small canvas.

After Srivastava et al. 2015 ("Unsupervised learning of video representations using
LSTMs", Moving MNIST): a 28x28 digit moves with constant velocity over a larger canvas
and bounces off the walls. Each video has two targets: which `digit` it shows (frame order
does not matter) and its `direction`: whether the digit ends up right (1) or left (0) of
where it started, which only the order of the frames tells.

The recipe makes direction unanswerable without frame order. Positions follow a triangle
wave of an unfolded straight line `u0 + v t` whose start `u0` is uniform over one period
and whose velocity is symmetric about 0, so a video and its time reversal (start
`u0 + v (T - 1)`, velocity `-v`) are equally likely; they hold the same frames, in reverse
order, and have opposite directions. A model that sees the frames as a set is at chance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from plait.data.base import SPLITS, DataError
from plait.data.mnist import CLASSES, SIDE, MNISTBase, check_distinct_keys


def bounce(unfolded: np.ndarray, span: float) -> np.ndarray:
    """Fold positions on an endless line into `[0, span]`, reflecting at both walls."""
    return span - np.abs(np.mod(unfolded, 2 * span) - span)


def draw_motion(count: int, *, steps: int, span: float, speed: tuple[float, float],
                min_shift: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw `count` bouncing trajectories; keep those that end `min_shift` away horizontally.

    Args:
        count: trajectories to return.
        steps: frames per trajectory.
        span: the range of the digit's top-left corner, `[0, span]` on both axes.
        speed: the horizontal speed's range in pixels per frame; the vertical speed is
            uniform in `[-speed[1], speed[1]]`.
        min_shift: the least horizontal distance between the first and last position, so
            that every direction is visible; the rule is symmetric in time.
        rng: the source of randomness.

    Returns:
        Positions `(count, steps, 2)` float64 as (row, column), and the direction
        `(count,)` float32: 1.0 where the last column lies right of the first.
    """
    kept: list[np.ndarray] = []
    for _ in range(100):
        if sum(len(k) for k in kept) >= count:
            break
        n = 2 * count + 16  # some draws end too close to their start and are dropped
        start = rng.uniform(0, 2 * span, (n, 2))  # one period of the fold, so time-symmetric
        horizontal = rng.uniform(*speed, n) * rng.choice([-1.0, 1.0], n)
        vertical = rng.uniform(-speed[1], speed[1], n)
        velocity = np.stack([vertical, horizontal], axis=1)  # (n, 2) as (row, column)
        positions = bounce(start[:, None] + velocity[:, None] * np.arange(steps)[:, None], span)
        shift = positions[:, -1, 1] - positions[:, 0, 1]
        kept.append(positions[np.abs(shift) >= min_shift])
    else:
        raise DataError(f"data.min_shift={min_shift}: almost no trajectory of {steps} frames at "
                        f"speeds {speed} on a range of {span} pixels moves that far; lower it.")
    positions = np.concatenate(kept)[:count] if kept else np.zeros((0, steps, 2))  # (count, steps, 2)
    return positions, (positions[:, -1, 1] > positions[:, 0, 1]).astype(np.float32)


def render(digits: np.ndarray, corners: np.ndarray, canvas: int) -> np.ndarray:
    """Paste each video's digit at each frame's corner on a black canvas.

    Args:
        digits: `(B, 28, 28)` float32 digit images.
        corners: `(B, T, 2)` integer top-left corners (row, column), within the canvas.
        canvas: the frame's height and width.

    Returns:
        `(B, T, 1, canvas, canvas)` float32 frames.
    """
    batch, steps = corners.shape[:2]
    frames = np.zeros((batch, steps, canvas, canvas), dtype=np.float32)
    offsets = np.arange(SIDE)
    rows = corners[:, :, 0, None, None] + offsets[:, None]  # (B, T, 28, 1)
    cols = corners[:, :, 1, None, None] + offsets  # (B, T, 1, 28)
    frames[np.arange(batch)[:, None, None, None], np.arange(steps)[:, None, None], rows,
           cols] = digits[:, None]
    return frames[:, :, None]  # (B, T, 1, canvas, canvas)


class VideoDataset(Dataset):
    """Moving-digit videos, rendered batch by batch from digit images and corner positions.

    Args:
        digits: `(n, 28, 28)` float32 images of one split.
        rows: `(N,)` the image each video shows.
        corners: `(N, T, 2)` int64 top-left corners per frame.
        labels: `(N,)` int64 digit classes.
        direction: `(N,)` float32, 1.0 for right.
        canvas: frame height and width.
        keys: batch keys of the frames, the digit and the direction.
    """

    def __init__(self, *, digits: np.ndarray, rows: np.ndarray, corners: np.ndarray,
                 labels: np.ndarray, direction: np.ndarray, canvas: int,
                 keys: tuple[str, str, str]) -> None:
        self.digits, self.rows, self.corners = digits, rows, corners
        self.labels, self.direction = labels, direction
        self.canvas, self.keys = canvas, keys

    def __len__(self) -> int:
        return len(self.rows)

    def __getitems__(self, indices: Sequence[int]) -> dict[str, Tensor]:
        idx = np.asarray(indices, dtype=np.int64)
        video, digit, direction = self.keys
        frames = render(self.digits[self.rows[idx]], self.corners[idx], self.canvas)
        return {video: torch.from_numpy(frames),  # (B, T, 1, S, S)
                digit: torch.from_numpy(self.labels[idx]),  # (B,)
                direction: torch.from_numpy(self.direction[idx])}  # (B,)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return {key: value[0] for key, value in self.__getitems__([index]).items()}


class MovingDigitsDataModule(MNISTBase):
    """Videos of one MNIST 5k digit bouncing on a black canvas: `video`, `digit`, `direction`.

    The 5,000 images are split by `seed` first; each split's videos show only that split's
    images, and their motions are drawn by `seed`, so the data is the same on every machine.

    Args:
        batch_size: videos per batch.
        num_workers: loader worker processes.
        seed: seeds the image split, the motions, the `limit` slice and the shuffle.
        limit: keep only the first `limit` videos of each split after shuffling.
        cache_dir: where the wheel and the decoded arrays are kept.
        val_fraction: share of the images held out for val.
        test_fraction: share of the images held out for test.
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

    Shape:
        video `(B, steps, 1, canvas, canvas)`, digit `(B,)`, direction `(B,)`.
    """

    def __init__(self, *, batch_size: int = 32, num_workers: int = 0, seed: int = 0,
                 limit: int | None = None, cache_dir: str | None = None,
                 val_fraction: float = 0.1, test_fraction: float = 0.2, steps: int = 8,
                 canvas: int = 36, min_speed: float = 1.0, max_speed: float = 3.0,
                 min_shift: float = 4.0, videos_per_image: float = 1.0,
                 shuffle_frames: bool = False, video_key: str = "video",
                 digit_key: str = "digit", direction_key: str = "direction") -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, seed=seed, limit=limit,
                         cache_dir=cache_dir, val_fraction=val_fraction,
                         test_fraction=test_fraction)
        owner = type(self).__name__
        check_distinct_keys(owner, video_key=video_key, digit_key=digit_key,
                            direction_key=direction_key)
        _check_motion(owner, steps=steps, canvas=canvas, min_speed=min_speed,
                      max_speed=max_speed, min_shift=min_shift)
        if videos_per_image <= 0:
            raise DataError(f"{owner}: data.videos_per_image must be above 0, got {videos_per_image}.")
        self.steps, self.canvas = steps, canvas
        self.speed, self.min_shift = (min_speed, max_speed), min_shift
        self.videos_per_image, self.shuffle_frames = videos_per_image, shuffle_frames
        self.keys = (video_key, digit_key, direction_key)

    @property
    def provides(self) -> frozenset[str]:
        return frozenset(self.keys)

    @property
    def num_classes(self) -> int:
        """Digit classes the videos show."""
        return CLASSES

    def build_splits(self) -> dict[str, Dataset]:
        return {name: self._videos(name, images, labels)
                for name, (images, labels) in self.split_digits().items()}

    def _videos(self, name: str, images: np.ndarray, labels: np.ndarray) -> VideoDataset:
        rng = np.random.default_rng([self.seed, SPLITS.index(name), 3])
        count = round(len(labels) * self.videos_per_image) if len(labels) else 0
        rows = rng.permutation(np.arange(count) % max(len(labels), 1))
        positions, direction = draw_motion(count, steps=self.steps, span=self.canvas - SIDE,
                                           speed=self.speed, min_shift=self.min_shift, rng=rng)
        corners = np.rint(positions).astype(np.int64)  # (N, T, 2)
        if self.shuffle_frames:  # targets were read from the true order above
            order = np.argsort(rng.random((count, self.steps)), axis=1)
            corners = np.take_along_axis(corners, order[:, :, None], axis=1)
        digits = np.multiply(images, np.float32(1 / 255), dtype=np.float32)  # (n, 28, 28)
        return VideoDataset(digits=digits, rows=rows, corners=corners,
                            labels=labels[rows] if count else labels, direction=direction,
                            canvas=self.canvas, keys=self.keys)


def _check_motion(owner: str, *, steps: int, canvas: int, min_speed: float, max_speed: float,
                  min_shift: float) -> None:
    """Raise a `DataError`, naming the key, for motion settings that cannot make videos."""
    if steps < 2:
        raise DataError(f"{owner}: data.steps must be at least 2 (a direction needs two "
                        f"frames), got {steps}.")
    if canvas <= SIDE:
        raise DataError(f"{owner}: data.canvas must exceed the digit's {SIDE} pixels so it can "
                        f"move, got {canvas}.")
    if not 0 < min_speed <= max_speed:
        raise DataError(f"{owner}: data.min_speed and data.max_speed must satisfy 0 < min_speed "
                        f"<= max_speed, got {min_speed} and {max_speed}.")
    if not 0 <= min_shift < canvas - SIDE:
        raise DataError(f"{owner}: data.min_shift must lie in [0, canvas - {SIDE}) = "
                        f"[0, {canvas - SIDE}), got {min_shift}.")
