"""Moving digits' recipe: bouncing motion, time reversal, rendering."""


import numpy as np
import pytest

from plait.data import DataError
from plait.data.sources.moving_digits import bounce, draw_motion, render


def test_motion_is_constant_velocity_bouncing_off_the_walls():
    start, velocity, steps, span = np.array([3.0, 43.0]), np.array([1.5, -3.5]), 12, 20.0
    path = bounce(start + velocity * np.arange(steps)[:, None], span)
    assert (path >= 0).all() and (path <= span).all()
    assert np.allclose(np.diff(path[:, 0]), 1.5)  # no wall on the way: constant velocity
    assert np.allclose(path[:4, 1], [3.0, 0.5, 4.0, 7.5])  # 43 folds to 3; hits 0, returns


def test_time_reversal_gives_the_same_frames_and_the_opposite_direction():
    start, velocity, steps, span = np.array([5.0, 11.0]), np.array([1.5, 3.2]), 10, 20.0
    forward = bounce(start + velocity * np.arange(steps)[:, None], span)
    back_start = start + velocity * (steps - 1)  # an equally likely draw: uniform start mod 2*span
    backward = bounce(back_start - velocity * np.arange(steps)[:, None], span)
    assert np.allclose(backward, forward[::-1])


def test_render_pastes_the_digit_at_each_corner():
    digit = np.arange(28 * 28, dtype=np.float32).reshape(1, 28, 28) / 784
    frames = render(digit, np.array([[[0, 0], [4, 2]]]), canvas=32)
    assert frames.shape == (1, 2, 1, 32, 32)
    assert np.array_equal(frames[0, 1, 0, 4:32, 2:30], digit[0])
    assert frames[0, 1, 0, :4].sum() == 0 and frames[0, 0, 0, 28:].sum() == 0


def test_an_unreachable_min_shift_is_named():
    with pytest.raises(DataError, match=r"data\.min_shift=5\.0: almost no trajectory"):
        draw_motion(10, steps=2, span=10.0, speed=(1.0, 2.0), min_shift=5.0,
                    rng=np.random.default_rng(0))

