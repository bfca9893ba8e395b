"""Training on a CUDA GPU: fp32, bf16-mixed and compiled, through train.py as a user runs it.
Skipped without CUDA; `scripts/gpu_check.sh` runs these on a GPU machine."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.mark.parametrize("switches", [[], ["trainer.precision=bf16-mixed"], ["model.compile=true"]],
                         ids=["fp32", "bf16-mixed", "compile"])
def test_digits_trains_on_the_gpu(run, tmp_path, switches) -> None:
    result = run(["experiment=digits", "trainer=gpu", "trainer.max_epochs=2", "logger=csv", *switches],
                 tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert metrics["test/digit/acc"].dropna().iloc[-1] > 0.5  # chance: 0.1


def test_a_gpu_checkpoint_loads_on_the_cpu(run, tmp_path) -> None:
    from plait import load_checkpoint

    result = run(["experiment=digits", "trainer=gpu", "trainer.max_epochs=1", "logger=csv"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    model = load_checkpoint(tmp_path / "checkpoints" / "last.ckpt")
    assert model.predict({"image": torch.zeros(2, 1, 8, 8)})["digit"].shape == (2, 10)
