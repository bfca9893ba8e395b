"""Train, check or predict with a config: `python train.py experiment=vqa [mode=check]`."""

import hydra
from omegaconf import DictConfig

from plait.train import main


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def app(cfg: DictConfig) -> float | None:
    return main(cfg)


if __name__ == "__main__":
    app()
