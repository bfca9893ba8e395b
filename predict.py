"""Predict with a checkpoint: `python predict.py experiment=vqa ckpt_path=path/to/last.ckpt`."""

import hydra
from omegaconf import DictConfig

from plait.train import main


@hydra.main(version_base="1.3", config_path="conf", config_name="predict")
def app(cfg: DictConfig) -> float | None:
    return main(cfg)


if __name__ == "__main__":
    app()
