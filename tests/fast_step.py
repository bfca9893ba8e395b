"""One fast, real training step of an experiment on a small slice of its real data."""

from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir

from plait.train import train

CONF = Path(__file__).resolve().parents[1] / "conf"
FAST = ["data.limit=64", "trainer.max_epochs=1", "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1", "test=false", "logger=csv"]


def fast_step(experiment: str, data_dir: Path | None, out: Path, *overrides: str) -> pd.DataFrame:
    """Train `experiment` for two batches; the run's metrics, which hold its optimized metric."""
    where = [f"paths.output_dir={out}"] + ([f"paths.data_dir={data_dir}"] if data_dir else [])
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"experiment={experiment}", *FAST, *overrides, *where])
    assert train(cfg) is not None
    metrics = pd.read_csv(out / "csv" / "metrics.csv")
    assert cfg.optimized_metric in metrics
    return metrics
