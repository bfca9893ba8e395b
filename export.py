"""Export a checkpoint for serving: `python export.py ckpt_path=path/to/last.ckpt format=onnx`."""

import hydra
from omegaconf import DictConfig

from plait.train import main


@hydra.main(version_base="1.3", config_path="conf", config_name="export")
def app(cfg: DictConfig) -> float | None:
    return main(cfg)


if __name__ == "__main__":
    app()
