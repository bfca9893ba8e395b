#!/usr/bin/env bash
# Train VQA on 2 nodes x 4 GPUs through SLURM, from a login node with this repo installed.
# Each task runs one rank; Lightning takes the ranks from SLURM's environment.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
python train.py -m experiment=vqa \
    trainer=multinode trainer.num_nodes=2 trainer.devices=4 data.batch_size=16 \
    hydra/launcher=slurm hydra.launcher.partition="${PARTITION:-gpu}"
