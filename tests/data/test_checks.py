"""The config checks: one message each, raised with the module's name in front."""

import inspect

import pytest

from plait.data import DataError, DigitsDataModule, MNISTPairsDataModule
from plait.data.checks import at_least, distinct, fractions, image_keys, one_of, room


def test_each_check_names_the_key_and_both_values():
    assert room("max_len", 56, 53, "the longest has 53 tokens") is None
    assert room("max_len", 50, 53, "the longest has 53 tokens") == (
        "the longest has 53 tokens, but data.max_len is 50. Set data.max_len to at least 53.")
    assert at_least("steps", 1, 2, " (a direction needs two frames)") == (
        "data.steps must be at least 2 (a direction needs two frames), got 1.")
    assert one_of("task", 3, [1, 2]) == "data.task must be one of [1, 2], got 3."
    assert one_of("task", 2, [1, 2]) is None
    assert fractions(0.5, 0.5) == ("data.val_fraction + data.test_fraction must be below 1, "
                                   "got 0.5 + 0.5.")


def test_batch_keys_must_differ():
    assert distinct({"a_key": "x", "b_key": None, "c_key": "y"}) is None
    assert distinct({"a_key": "x", "c_key": "x"}) == (
        "the batch keys must differ, got ['x', 'x'] (data.a_key='x', data.c_key='x').")
    assert image_keys(None, None, "digit") == "set data.image_key or data.pixels_key (both are null)."


def test_a_module_raises_the_first_problem_with_its_name():
    data = DigitsDataModule()
    data.check(None, None)
    with pytest.raises(DataError, match=r"^DigitsDataModule: first$"):
        data.check(None, "first", "second")


def test_a_module_signature_spells_out_the_common_arguments():
    """The train entry checks config keys against it: `**common` must not hide them."""
    params = inspect.signature(MNISTPairsDataModule).parameters
    assert {"pairs_per_image", "batch_size", "seed", "limit", "val_fraction"} <= params.keys()
    assert params["test_fraction"].default == 0.2 and params["batch_size"].default == 64
    assert not any(p.kind is p.VAR_KEYWORD for p in params.values())
