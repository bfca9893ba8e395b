"""The digits experiment's val or test rows, as `evaluate` takes them."""

from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

from plait.train.build import build_data

CONF = Path(__file__).resolve().parents[1] / "conf"


def digits_split(name: str) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """`experiment=digits`'s split `name` (val or test): `({"image": ...}, {"digit": ...})`."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        data = build_data(compose("train", overrides=["experiment=digits"]))
    data.prepare_data()
    data.setup("fit" if name == "val" else name)
    batches = list(getattr(data, f"{name}_dataloader")())
    return ({"image": torch.cat([b["image"] for b in batches])},
            {"digit": torch.cat([b["digit"] for b in batches])})
