"""Entry of the ranks plait starts: `python -m plait.train.rank <resolved config.yaml>`."""

from __future__ import annotations

import sys

from omegaconf import OmegaConf


def main(argv: list[str]) -> None:
    from plait.train.fit import train

    train(OmegaConf.load(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
