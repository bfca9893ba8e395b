"""`plait.data` loads each module on first use: every exported name resolves to its home,
and a training run that needs no table imports no pandas."""

import importlib
import subprocess
import sys

import pytest

import plait.data


@pytest.mark.parametrize("name", plait.data.__all__)
def test_every_exported_name_comes_from_the_module_named_for_it(name: str):
    value = getattr(plait.data, name)
    home = importlib.import_module(f"plait.data.{plait.data._HOMES[name]}")
    assert getattr(home, name) is value


def test_an_unknown_name_is_an_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="no attribute 'VQADataModule'"):
        plait.data.VQADataModule  # noqa: B018


def test_star_import_and_dir_list_the_exports():
    namespace: dict = {}
    exec("from plait.data import *", namespace)
    assert set(plait.data.__all__) <= set(namespace) and set(plait.data.__all__) <= set(dir(plait.data))


def test_the_training_entry_and_an_image_data_set_import_no_pandas():
    code = ("import sys, plait.train, plait.data; plait.data.EasyVQADataModule; "
            "print(sorted(m for m in ('pandas', 'pyarrow', 'optuna', 'sklearn', 'wandb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
