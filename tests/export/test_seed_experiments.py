"""Every seed experiment, trained for two batches on its real data, exports to ONNX and
torch.export, and each file matches the eager model on real inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from tests.fast_step import fast_step
from tests.test_configs import EXPERIMENTS
from tests.train.conftest import CONF

from plait.export import FORMATS
from plait.train.export import export_checkpoint


def _export_both_ways(experiment: str, tmp_path: Path) -> None:
    fast_step(experiment, None, tmp_path / "train")
    for fmt in FORMATS:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("export", overrides=[f"experiment={experiment}", f"format={fmt}",
                                               f"ckpt_path={tmp_path / 'train/checkpoints/last.ckpt'}",
                                               f"paths.output_dir={tmp_path / fmt}"])
        report = export_checkpoint(cfg)
        assert report.path.is_file()
        assert "rows of the test split of" in report.checks[0], report.checks  # real inputs


def test_digits_exports_both_ways(tmp_path) -> None:
    _export_both_ways("digits", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_exports_both_ways(experiment, tmp_path) -> None:
    _export_both_ways(experiment, tmp_path)
