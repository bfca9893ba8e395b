"""plait's Optuna sweeper for Hydra: `hydra/sweeper=plait_optuna` (see `conf/hparams_search/`).

`hydra_plugins` is a namespace package (no `__init__.py`), so Hydra finds this plugin
beside every other installed one, in an editable install and in a wheel alike.
"""
