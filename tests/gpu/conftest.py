"""The entry-point helpers of tests/train: real train.py runs, no wandb account."""

from tests.train.conftest import no_wandb_account, run  # noqa: F401
