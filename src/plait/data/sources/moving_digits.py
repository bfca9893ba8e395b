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

import numpy as np

from plait.data.checks import DataError
from plait.data.sources.mnist import SIDE


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
