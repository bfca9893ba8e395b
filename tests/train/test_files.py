"""Bring your own data: the README's FileDataModule command, on a generated CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from plait.train import ConfigError, check, main, train


@pytest.fixture
def my_csv(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 4))
    species = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    path = tmp_path / "my.csv"
    pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "x4": x[:, 3],
                  "species": species}).to_csv(path, index=False)
    return path


def readme_overrides(path) -> list[str]:
    """The README's command line, as overrides."""
    return ["data=files", "model=table_classifier", f"data.train_path={path}",
            "data.inputs={features: [x1, x2, x3, x4]}", "data.targets={label: species}",
            "model.inputs.features.shape=[4]", "model.blocks.head.units=3",
            "optimized_metric=val/label/acc", "optimized_mode=max"]


def test_files_data_checks(compose_cfg, my_csv) -> None:
    checked = check(compose_cfg(*readme_overrides(my_csv), "mode=check"))
    assert checked.system.graph.input_names == ["features"]


def test_a_sample_weight_column_is_checked_and_trained_on(compose_cfg, my_csv, tmp_path) -> None:
    """`model.outputs.label.sample_weight: w` reads the batch key `w`, which the file gives as
    a column of its own: check names it when the data lacks it, and counts it as read."""
    frame = pd.read_csv(my_csv)
    frame["w"] = np.linspace(0.5, 2.0, len(frame))
    frame.to_csv(my_csv, index=False)
    weighted = [*readme_overrides(my_csv), "+model.outputs.label.sample_weight=w"]
    with pytest.raises(ConfigError, match=r"but the model needs inputs \['features'\] and outputs \['label'\] "
                                          r"and sample weights \['w'\] .*missing \['w'\]"):
        check(compose_cfg(*weighted, "mode=check"))
    with_column = [o if not o.startswith("data.inputs=") else "data.inputs={features: [x1, x2, x3, x4], w: w}"
                   for o in weighted]
    check(compose_cfg(*with_column, "mode=check"))
    assert train(compose_cfg(*with_column, "trainer.max_epochs=1", "logger=csv")) is not None


def test_files_data_trains(compose_cfg, my_csv, tmp_path) -> None:
    value = train(compose_cfg(*readme_overrides(my_csv), "trainer.max_epochs=2", "logger=csv"))
    assert 0.0 <= value <= 1.0
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert {"val/label/acc", "test/label/acc"} <= set(metrics.columns)


def test_a_column_the_model_does_not_read_is_an_error(compose_cfg, my_csv) -> None:
    overrides = [o.replace("{label: species}", "{label: species, size: x4}")
                 for o in readme_overrides(my_csv)]
    with pytest.raises(ConfigError, match=r"the data provides \['size'\], which the model does not read"):
        check(compose_cfg(*overrides, "mode=check"))


def test_files_model_needs_its_sizes(compose_cfg, my_csv) -> None:
    overrides = [o for o in readme_overrides(my_csv) if not o.startswith("model.inputs")]
    with pytest.raises(ConfigError, match="model.inputs.features.shape"):
        check(compose_cfg(*overrides, "mode=check"))


# Each spoils the README's CSV and returns the file to train on and the message it must give.
def nan_in_x2(path: Path) -> tuple[Path, str]:
    frame = pd.read_csv(path)
    frame.loc[[7, 9, 40], "x2"] = np.nan
    frame.to_csv(path, index=False)
    return path, (f"data.train_path: {path}: column 'x2' (input 'features') has 3 rows with NaN "
                  "or Inf (first at row 7, counting from 0); clean or impute them first.")


def header_only(path: Path) -> tuple[Path, str]:
    path.write_text("x1,x2,x3,x4,species\n")
    return path, (f"data.train_path: {path}: expected a CSV with a header row and at least one "
                  "data row; this file has a header and 0 rows.")


def text_as_parquet(path: Path) -> tuple[Path, str]:
    parquet = path.with_suffix(".parquet")
    parquet.write_text(path.read_text())
    return parquet, (f"data.train_path: {parquet}: expected a Parquet file with at least one "
                     "row; this file is text (rename it to .csv?).")


def missing(path: Path) -> tuple[Path, str]:
    path.unlink()
    return path, (f"data.train_path: {path}: no such file; expected a CSV with a header row and "
                  "at least one data row.")  # raised while building the module, in mode=check too


@pytest.mark.parametrize("spoil", [nan_in_x2, header_only, text_as_parquet, missing])
def test_bad_file_is_one_line_and_exit_1(spoil, my_csv, run, tmp_path) -> None:
    """The README's command (training) on a spoiled file: one message, exit 1, no traceback."""
    path, expected = spoil(my_csv)
    overrides = [*readme_overrides(path), "trainer.max_epochs=1", "logger=csv"]
    result = run(overrides, tmp_path / "run")
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("Config error: ")]
    assert len(errors) == 1 and errors[0].startswith(f"Config error: {expected}"), result.stderr


def test_missing_file_fails_the_check(compose_cfg, my_csv, capsys, monkeypatch) -> None:
    """`mode=check` reads no data, but a file that is not there is named before any run."""
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(compose_cfg(*readme_overrides(my_csv.with_name("nope.csv")), "mode=check"))
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith(
        f"Config error: data.train_path: {my_csv.with_name('nope.csv')}: no such file; expected "
        "a CSV with a header row and at least one data row.")


@pytest.mark.slow  # tests/system and tests/losses check the same refusals in process
@pytest.mark.parametrize("overrides, refusal", [
    (["model.blocks.head.units=1", "model.outputs.label.loss=binary_cross_entropy", "data.dtypes={label: float32}"],
     "output 'label': loss binary_cross_entropy takes targets from 0 to 1 (a label or a probability), received 2 ("),
    (["model.blocks.head.units=2"],
     "output 'label': loss cross_entropy takes class indices 0 to 1 (its head has 2 units), received 2 ("),
], ids=["binary", "too_few_units"])
def test_a_target_its_loss_cannot_take_stops_before_anything_is_saved(run, my_csv, tmp_path, overrides,
                                                                        refusal) -> None:
    """The README's command, its 3-class `species` trained with binary_cross_entropy (as
    its `data.dtypes` sentence says for a 0/1 target) or on a 2-unit head: exit 1 naming
    the output, the loss and the values, no checkpoint."""
    result = run([*readme_overrides(my_csv), *overrides], tmp_path / "run")
    assert result.returncode == 1, result.stderr[-3000:]
    assert refusal in result.stderr
    assert "Traceback" not in result.stderr
    assert "You have overridden `on_before_batch_transfer`" not in result.stderr  # Lightning's warning, silenced
    assert not list((tmp_path / "run").rglob("*.ckpt"))
