"""bAbI tasks 1 and 2 as batches (the generator: sources/test_babi.py): keyed and trimmed,
splits from independent streams, config errors named, the experiments' fast steps."""

import logging
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from tests.fast_step import CONF, fast_step

from plait.data import BabiDataModule, DataError
from plait.data.sources.babi import LOCATIONS, words
from plait.train import check


def test_batches_are_keyed_typed_and_trimmed():
    data = BabiDataModule(task=2, batch_size=16, num_train=200, num_val=50, num_test=50)
    data.setup()
    batch = next(iter(data.val_dataloader()))
    assert set(batch) == data.provides == {"story", "question", "answer"}
    assert batch["story"].dtype == torch.int64 and batch["story"].shape[0] == 16
    assert (batch["story"][:, -1] != 0).any() and (batch["question"][:, -1] != 0).any()
    assert batch["answer"].dtype == torch.int64 and int(batch["answer"].max()) < 6
    assert data.answers == sorted(LOCATIONS)
    assert {len(data.splits[s]) for s in ("val", "test")} == {50}


def test_splits_come_from_independent_streams():
    data = BabiDataModule(task=1, num_train=100, num_val=100, num_test=100)
    data.setup()
    train, test = data.splits["train"], data.splits["test"]
    assert not (train.story[:20] == test.story[:20]).all()
    assert len(data.vocab) + 2 == 23
    assert words("Where is Mary?") == ["where", "is", "mary", "?"]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"vocab_size": 20}, r"data\.vocab_size >= 23 .* but data\.vocab_size is 20"),
    ({"max_story_len": 30}, r"longest story has \d+ tokens, but data\.max_story_len is 30"),
    ({"num_answers": 4}, r"6 answers, but data\.num_answers is 4"),
    ({"num_train": 1}, r"answers \[.*\] never occur in the train split \['\w+'\]"),
])
def test_config_too_small_names_the_key(kwargs, message):
    with pytest.raises(DataError, match=message):
        BabiDataModule(**{"num_val": 100, "num_test": 100, **kwargs}).setup()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"task": 3}, r"data\.task must be one of \[1, 2\], got 3"),
    ({"num_train": 0}, r"data\.num_train must be at least 1, got 0"),
    ({"num_val": -1}, r"data\.num_val must be at least 0, got -1"),
])
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(DataError, match=message):
        BabiDataModule(**kwargs)


@pytest.mark.parametrize("task", [1, 2])
def test_one_fast_step_of_the_experiment(task: int, tmp_path: Path):
    fast_step("text_qa", tmp_path / "data", tmp_path, f"data.task={task}")


def test_the_question_only_baseline_drops_the_story(tmp_path: Path, caplog):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[
            "experiment=text_qa_book", "mode=check", "fusion@model.blocks.merge=concat",  # multiply needs two
            "~model.inputs.story", "~model.nodes.story_vec",
            "model.nodes.merged='merge(question_vec)'", f"paths.output_dir={tmp_path}"])
    with caplog.at_level(logging.WARNING, logger="plait.train.check"):
        assert check(cfg).system.graph.input_names == ["question"]
    assert "the data provides ['story'], which the model does not read" in caplog.text  # a warning


@pytest.mark.slow  # about 25 s: two whole default runs
def test_the_default_answers_task_1_where_the_books_graph_cannot(tmp_path: Path):
    """experiment=text_qa as its README runs it (40 epochs, 1k questions) passes Weston et al.'s
    LSTM (0.50) by far; the book's graph, with every story read before its question, does not.
    The second bound holds the README's explanation of the book's graph: a change that lifts
    text_qa_book past it changes that explanation too."""
    from plait.train import train

    def test_accuracy(experiment: str) -> float:
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            cfg = compose("train", overrides=[f"experiment={experiment}", "logger=csv",
                                              f"paths.output_dir={tmp_path / experiment}"])
        train(cfg)
        metrics = pd.read_csv(tmp_path / experiment / "csv" / "metrics.csv")
        return float(metrics["test/answer/acc"].dropna().iloc[-1])

    assert test_accuracy("text_qa") > 0.95
    assert test_accuracy("text_qa_book") < 0.55
