"""The README's examples work as written."""

from __future__ import annotations

import re
import shlex

import pytest

from plait.train import check


@pytest.fixture(scope="module")
def readme(repo_root) -> str:
    return (repo_root / "README.md").read_text()


def test_python_example_runs(readme) -> None:
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["logits"]["answer"].shape == (2, 13)


def swap_commands(readme: str) -> list[list[str]]:
    section = readme.split("## Swapping presets")[1].split("##")[0]
    lines = re.findall(r"^python train\.py (.*?)(?:\s+#.*)?$", section, re.M)
    return [shlex.split(line) for line in lines]


def test_readme_has_swap_commands(readme) -> None:
    assert len(swap_commands(readme)) >= 3


@pytest.mark.parametrize("index", range(3))
def test_swap_commands_check(readme, compose_cfg, index) -> None:
    overrides = swap_commands(readme)[index]
    check(compose_cfg(*overrides, "mode=check"))
