"""The README's examples work as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper  # Hydra's grid sweeper (1.3)
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException

from plait.train import check


@pytest.fixture(scope="module")
def readme(repo_root) -> str:
    return (repo_root / "README.md").read_text()


# Appended to the README's Python example: what it promises.
PYTHON_CHECKS = """
assert scores["test/main/acc"] > 0.8, scores  # main reads meta[:, 0]: learnable
assert probabilities.shape == (2000, 1)
np.testing.assert_allclose(again.predict(x)["main"], probabilities, rtol=1e-6)
assert again.graph.get_block("lstm_encoder").hidden_size == 32
features = graph.subgraph(outputs=["lstm_encoder"])  # from the inputs it needs: text
assert features.input_names == ["text"]
assert features(torch.as_tensor(x["text"][:3]))["lstm_encoder"].shape == (3, 32)
"""


def test_python_example_builds_trains_evaluates_predicts_and_reloads(readme, tmp_path) -> None:
    """Run as a user runs it: a script of its own, in a fresh process."""
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    run = subprocess.run([sys.executable, "-c", code + PYTHON_CHECKS], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "headline.ckpt").is_file()


def commands(readme: str, heading: str, end: str) -> list[list[str]]:
    """The single-run `python train.py` commands between `heading` and the next `end`."""
    section = readme.split(heading)[1].split(end)[0]
    lines = re.findall(r"^python train\.py (?!-m)(.*?)(?:\s+#.*)?$", section, re.M)
    return [shlex.split(line) for line in lines]


def swap_commands(readme: str) -> list[list[str]]:
    return commands(readme, "## Swapping presets", "##")


def test_readme_has_swap_commands(readme) -> None:
    assert len(swap_commands(readme)) >= 4  # three presets and a callback


@pytest.mark.parametrize("index", range(4))
def test_swap_commands_check(readme, compose_cfg, index) -> None:
    overrides = swap_commands(readme)[index]
    check(compose_cfg(*overrides, "mode=check"))


def train_commands(readme: str) -> list[list[str]]:
    return commands(readme, "### 3. Train it", "###")


def test_readme_has_train_commands(readme) -> None:
    assert len(train_commands(readme)) >= 6


@pytest.mark.parametrize("index", range(6))
def test_train_commands_check(readme, compose_cfg, index) -> None:
    """Each checks: keys, trainer switches without +, model.compile (no device is claimed)."""
    check(compose_cfg(*train_commands(readme)[index], "mode=check"))


def sweep_commands(readme: str) -> list[list[str]]:
    """Every `python train.py -m` command of the README, continued lines joined."""
    lines = re.findall(r"^python train\.py -m (.*?)(?:\s+#.*)?$", readme.replace("\\\n", " "), re.M)
    return [shlex.split(line) for line in lines]


def test_readme_has_sweep_commands(readme) -> None:
    assert len(sweep_commands(readme)) == 7  # grids, Optuna, DDP, SLURM and its local trial


@pytest.mark.parametrize("index", range(7))
def test_sweep_commands_check(readme, compose_cfg, index) -> None:
    """The first and last job of each, as Hydra's grid sweeper splits the command (an
    Optuna command is one job here: its searched values come from the study)."""
    overrides = sweep_commands(readme)[index]
    [jobs] = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(overrides), None)
    for job in {tuple(jobs[0]), tuple(jobs[-1])}:
        check(compose_cfg(*job, "mode=check"))


def test_the_common_trainer_switches_need_no_plus(readme, compose_cfg) -> None:
    """Every switch the README lists is a key of the composed trainer config, for each trainer preset."""
    listed = re.search(r"The common Trainer switches \((.*?)\) are in\s+`conf/trainer/default.yaml`", readme, re.S)
    names = re.findall(r"`(\w+)`", listed.group(1))
    assert len(names) == 6
    for preset in ("cpu", "gpu", "ddp", "ddp_cpu", "multinode"):
        assert set(names) <= set(compose_cfg("experiment=digits", f"trainer={preset}").trainer), preset


def test_a_preset_placed_by_its_model_relative_package_is_refused(readme, compose_cfg) -> None:
    """The README: "`encoder@blocks.vision=...` is refused"; Hydra names the root-relative form."""
    assert "(`encoder@blocks.vision=...` is refused" in readme
    with pytest.raises(ConfigCompositionException, match=r"encoder@model\.blocks\.vision"):
        compose_cfg("experiment=vqa", "encoder@blocks.vision=cnn_tower")
