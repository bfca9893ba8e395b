"""Every `python train.py` command in an experiment's README passes `mode=check` as written.

Each key a command sets exists, each preset it names is there, each `~` deletes something,
and the model it describes builds (its node expressions, losses, metrics and optimizer): a
README whose command went stale with its config fails here. A sweep (`-m`) is checked with
the first value of each swept setting; a command that loads a past run's checkpoint into a
block (`_checkpoint_=`) is composed only. Commands with shell variables or `<placeholders>`
are left out; `tests/data/test_babi.py` and others run some of these commands for real.
A command's `PYTHONPATH=` (a user's own module in the experiment's folder) is put on the path.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

from plait.train import check

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"
COMMAND = re.compile(r"^\s*((?:[A-Z_]+=\S+\s+)*)(?:nice -n \d+\s+)?python train\.py (.*)$")


def shell_blocks(text: str) -> list[str]:
    """The fenced blocks of a Markdown text that are shell (no language, bash or sh)."""
    blocks, language, lines = [], None, []
    for line in text.splitlines():
        if not line.startswith("```"):
            lines.append(line)
        elif language is None:
            language, lines = line[3:].strip(), []
        else:
            if language in ("", "bash", "sh"):
                blocks.append("\n".join(lines))
            language = None
    return blocks


def readme_commands() -> list[tuple[str, str, str]]:
    """(experiment folder, the command's environment settings, its arguments) for every
    runnable command."""
    found = []
    for readme in sorted((ROOT / "experiments").glob("*/README.md")):
        for block in shell_blocks(readme.read_text()):
            for line in re.sub(r"\\\n\s*", " ", block).splitlines():
                match = COMMAND.match(line)
                if match and not re.search(r"[$<]", match.group(2).split("#")[0]):
                    found.append((readme.parent.name, match.group(1), match.group(2)))
    return found


COMMANDS = readme_commands()


def first_of_sweep(argument: str) -> str:
    """`key=a,b` -> `key=a`; `key=interval(x,y)` -> `key=x`; anything else as it is."""
    override = OverridesParser.create().parse_overrides([argument])[0]
    if not override.is_sweep_override():
        return argument
    sweep = override.value()
    if isinstance(sweep, IntervalSweep):
        first = sweep.start
    elif isinstance(sweep, (ChoiceSweep, RangeSweep)):
        first = next(override.sweep_string_iterator())
    else:
        raise AssertionError(f"a sweep this test does not know: {argument}")
    return f"{override.get_key_element()}={first}"


def test_every_experiment_readme_has_commands() -> None:
    readmes = {p.parent.name for p in (ROOT / "experiments").glob("*/README.md")}
    assert {folder for folder, *_ in COMMANDS} == readmes


@pytest.mark.parametrize(("folder", "environment", "command"), COMMANDS,
                         ids=[f"{folder}-{i}" for i, (folder, *_) in enumerate(COMMANDS)])
def test_readme_command_checks(folder: str, environment: str, command: str, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in shlex.split(environment):  # PYTHONPATH=experiments/x: a user's own module
        name, value = setting.split("=", 1)
        if name == "PYTHONPATH":
            for folder in reversed(value.split(os.pathsep)):
                monkeypatch.syspath_prepend(str(ROOT / folder))  # an absolute folder stays as it is
    arguments = shlex.split(command, comments=True)
    overrides = [first_of_sweep(a) if "-m" in arguments else a for a in arguments if a != "-m"]
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[*overrides, "mode=check", f"paths.output_dir={tmp_path}",
                                          f"paths.data_dir={tmp_path / 'data'}"])
    if "_checkpoint_=" not in command:  # a file of a run made for that README
        check(cfg)
