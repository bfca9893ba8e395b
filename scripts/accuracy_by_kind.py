"""Accuracy per question kind of trained runs, beside the majority-answer baseline.

For data modules whose batches carry a `kind` per example and that name the kinds
(`kind_names`, and optionally `kind_groups`): Sort-of-CLEVR (relational vs non-relational),
moving-shapes video QA (direction, colour, shape). Each run's best checkpoint predicts the
split of its own data config; the baseline answers each kind with its most frequent train
answer.

    python scripts/accuracy_by_kind.py logs/vqa_relational/runs/<run> [more runs] \
        [--label NAME ...] [--split test] [--set data.frame_order=reversed ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import yaml
from hydra.utils import instantiate
from omegaconf import OmegaConf

from plait.system import load_checkpoint


def best_checkpoint(run: Path) -> Path:
    """The run's best checkpoint (`checkpoints/epoch_*.ckpt`), else `last.ckpt`."""
    found = sorted((run / "checkpoints").glob("epoch_*.ckpt")) or [run / "checkpoints" / "last.ckpt"]
    if not found[-1].is_file():
        raise SystemExit(f"{run} has no checkpoint in {run / 'checkpoints'}")
    return found[-1]


def load_data(run: Path, settings: list[str]):
    """The run's data module, with `key=value` settings applied, prepared and set up."""
    cfg = OmegaConf.load(run / ".hydra" / "config.yaml")
    for setting in settings:
        key, _, value = setting.partition("=")
        OmegaConf.update(cfg, key, yaml.safe_load(value))
    data = instantiate(cfg.data)
    if not hasattr(data, "kind_names"):
        raise SystemExit(f"{type(data).__name__} names no question kinds (kind_names)")
    data.prepare_data()
    data.setup("test")
    return data


@torch.no_grad()
def predict(run: Path, data, split: str, output: str | None) -> tuple[np.ndarray, ...]:
    """Predicted and true answers and kinds of every example of `split`."""
    system = load_checkpoint(best_checkpoint(run))
    output = output or system.graph.output_names[0]
    loader = {"val": data.val_dataloader, "test": data.test_dataloader}[split]()
    predicted, true, kinds = [], [], []
    for batch in loader:
        inputs = {n: batch[n] for n in system.graph.input_names}
        probabilities = system.predict(inputs, batch_size=len(batch[output]))[output]
        predicted.append(probabilities.argmax(-1))
        true.append(batch[output].numpy())
        kinds.append(batch["kind"].numpy())
    return np.concatenate(predicted), np.concatenate(true), np.concatenate(kinds)


def majority(data, output: str) -> dict[int, int]:
    """Each kind's most frequent answer in the train split."""
    train = data.splits["train"]
    batch = train.__getitems__(range(len(train)))
    answers, kinds = batch[output].numpy(), batch["kind"].numpy()
    return {k: int(np.bincount(answers[kinds == k]).argmax()) for k in np.unique(kinds)}


def rows_of(data) -> list[tuple[str, list[int]]]:
    """Table rows: each kind, each group of kinds, and all."""
    names = list(data.kind_names)
    rows = [(name, [k]) for k, name in enumerate(names)]
    groups = getattr(data, "kind_groups", {})
    rows += [(f"**{group}**", list(kinds)) for group, kinds in groups.items()]
    return rows + [("**all**", list(range(len(names))))]


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--label", action="append", default=[], help="a name per run, in order")
    parser.add_argument("--split", default="test", choices=["val", "test"])
    parser.add_argument("--output", default=None, help="the graph output (default: the first)")
    parser.add_argument("--set", action="append", default=[], help="data.key=value for every run")
    args = parser.parse_args(argv)
    labels = args.label + [str(r.name) for r in args.runs[len(args.label):]]
    results, data = [], None
    for run in args.runs:
        data = load_data(run, args.set)
        results.append(predict(run, data, args.split, args.output))
    output = args.output or "answer"
    common = majority(data, output)
    _, true, kinds = results[0]
    lines = ["| kind | questions | majority answer | " + " | ".join(labels) + " |",
             "| --- | --- | --- |" + " --- |" * len(labels)]
    for name, group in rows_of(data):
        mask = np.isin(kinds, group)
        baseline = np.mean([common[k] == t for k, t in zip(kinds[mask], true[mask])])
        accuracies = [np.mean(p[np.isin(k, group)] == t[np.isin(k, group)]) for p, t, k in results]
        lines.append(f"| {name} | {int(mask.sum())} | {baseline:.4f} | "
                     + " | ".join(f"{a:.4f}" for a in accuracies) + " |")
    table = "\n".join(lines)
    print(table)
    return table


if __name__ == "__main__":
    main()
