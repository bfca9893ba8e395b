"""The tweet experiments (`headline`, `tweet_siamese`, `posts` and the seeds' exact models
`tweet_siamese_lstm`, `posts_book`) take real steps on a slice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
from hydra import compose, initialize_config_dir
from tests.fast_step import CONF, FAST

from plait.graph import module_name
from plait.train import check, train
from plait.train.errors import ConfigError


def _compose(*overrides: str):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize("experiment", ["headline", "headline_python", "tweet_siamese",
                                        "tweet_siamese_lstm", "posts", "posts_book"])
def test_one_fast_step_on_real_tweets(experiment: str, plait_cache: Path, tmp_path: Path):
    cfg = _compose(f"experiment={experiment}", *FAST, f"paths.output_dir={tmp_path}",
                   f"paths.data_dir={plait_cache}")
    value = train(cfg)
    assert value is not None
    metrics = pd.read_csv(tmp_path / "csv" / "metrics.csv")
    assert cfg.optimized_metric in metrics


def _checked_graph(tmp_path: Path, *overrides: str):
    cfg = _compose(*overrides, "mode=check", f"paths.output_dir={tmp_path}",
                   f"paths.data_dir={tmp_path / 'data'}")
    return check(cfg).system.graph


def test_siamese_lstm_without_hidden_layer_is_the_guides_exact_model(tmp_path: Path):
    graph = _checked_graph(tmp_path, "experiment=tweet_siamese_lstm", "model.blocks.joint.hidden=[]")
    assert sum(p.numel() for p in graph.parameters()) == 673_280 + 129  # LSTM + Dense(1)


def test_siamese_default_reads_both_tweets_with_one_encoder(tmp_path: Path):
    graph = _checked_graph(tmp_path, "experiment=tweet_siamese")
    for block in ("embed", "pool", "drop", "project"):
        assert len(graph.nodes_of(graph.blocks[block])) == 2, block
    assert type(graph.blocks["merge"]).__name__ == "Multiply"
    # Embedding(3000, 128) + Dense(64, tanh) + Dense(1), counted once though called twice
    assert sum(p.numel() for p in graph.parameters()) == 384_000 + 8_256 + 65


def test_posts_default_is_one_shared_encoder_under_three_heads(tmp_path: Path):
    cfg = _compose("experiment=posts", "mode=check", f"paths.output_dir={tmp_path}",
                   f"paths.data_dir={tmp_path / 'data'}")
    assert {k: v.weight for k, v in cfg.model.outputs.items()} == {
        "favorites": 4.0, "android": 3.0, "hour": 3.0}
    graph = check(cfg).system.graph
    assert [type(graph.blocks[b]).__name__ for b in ("embed", "pool", "drop", "dense")] == [
        "Embedding", "GlobalAveragePool1D", "Dropout", "MLP"]
    for head in ("favorites", "android", "hour"):  # each head's own MLP on the shared Dense
        [node] = graph.nodes_of(graph.blocks[head])
        assert node.connected_to == [f"{head}_mlp"], head
        [mlp] = graph.nodes_of(graph.blocks[f"{head}_mlp"])
        assert mlp.connected_to == ["dense"], head
    assert [graph.blocks[f"{h}_mlp"].hidden for h in ("favorites", "android", "hour")] == [
        (64,), (64,), ()]
    assert torch.equal(graph.blocks["favorites"].bias, torch.tensor([9.25]))
    # every training word has an id: 6,599 of them on this split, and room for them all
    assert cfg.data.vocab_size == graph.blocks["embed"].embedding.num_embeddings == 10_000


def test_posts_default_adds_wide_paths_with_optimizer_settings_of_their_own(tmp_path: Path):
    cfg = _compose("experiment=posts", "mode=check", f"paths.output_dir={tmp_path}",
                   f"paths.data_dir={tmp_path / 'data'}")
    assert cfg.model.param_groups == {"hour_wide": {"lr": 0.03, "weight_decay": 1e-5},
                                      "android_wide": {"lr": 0.03, "weight_decay": 1e-5},
                                      "embed": {"weight_decay": 1e-4}}
    system = check(cfg).system
    assert len(system.graph.nodes_of(system.graph.blocks["wide_add"])) == 3  # one per output
    widths = [[p.shape[1] for p in system.graph.blocks[f"{h}_wide"].parameters()]
              for h in ("favorites", "android", "hour")]
    assert widths == [[1], [1], [cfg.data.num_hour_buckets]]
    groups = dict(zip(system.param_group_names, system.configure_optimizers()["optimizer"].param_groups))
    assert {name: (g["lr"], g["weight_decay"]) for name, g in groups.items()} == {
        "": (0.003, 0.0), "embed": (0.003, 1e-4), "android_wide": (0.03, 1e-5),
        "hour_wide": (0.03, 1e-5)}
    assert [id(p) for p in groups["embed"]["params"]] == [
        id(p) for p in system.graph.blocks["embed"].parameters()]
    # the default before the fifth round, without the wide paths or the groups
    before = _compose("experiment=posts", "model=posts", "mode=check")
    assert before.model.param_groups is None and "hour_wide" not in before.model.blocks


def test_posts_book_is_the_books_network(tmp_path: Path):
    graph = _checked_graph(tmp_path, "experiment=posts_book")
    cnn = graph.blocks["cnn"]
    assert cnn.channels == (128, 256, 256, 256, 256) and cnn.pool_after == (0, 2)


def test_a_python_graph_built_again_in_one_process_names_its_blocks_alike(tmp_path: Path):
    """Hydra runs a sweep's jobs one after another in one process: each job's graph names
    its blocks as the first did (`lstm_encoder`, not `lstm_encoder_1`), so a block's
    `param_groups` entry holds in every job and one job's weights load into another's."""
    first, again = (_checked_graph(tmp_path / str(i), "experiment=headline_python") for i in range(2))
    assert list(again.blocks) == list(first.blocks) == ["embedding", "lstm_encoder", "dense", "concat", "mlp",
                                                        "dense_1"]
    assert module_name(again) == "graph"
    again.load_state_dict(first.state_dict())


@pytest.mark.slow  # 30 s; Python graphs train, save and reload in the default suite
def test_a_sweep_over_a_python_graph_builders_argument(plait_cache: Path, tmp_path: Path):
    """`model.graph` names a Python function; a multirun varies its arguments, each job
    with the same per-block learning rate, and each run's checkpoint reloads in a process
    that never saw the config, and tests with `mode=test` in one that builds the graph anew."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "WANDB_MODE": "offline"}
    sweep = subprocess.run(
        [sys.executable, "train.py", "-m", "experiment=headline_python", *FAST,
         "model.graph.lstm_units=8,16", "model.param_groups={lstm_encoder: {lr: 0.0001}}",
         f"paths.data_dir={plait_cache}", f"paths.log_dir={tmp_path}"],
        cwd=CONF.parent, env=env, capture_output=True, text=True, timeout=600)
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    [folder] = (tmp_path / "headline_python" / "multiruns").iterdir()
    tested = subprocess.run(
        [sys.executable, "train.py", "experiment=headline_python", *FAST, "mode=test", "model.graph.lstm_units=16",
         f"ckpt_path={folder / '1' / 'checkpoints' / 'last.ckpt'}", f"paths.data_dir={plait_cache}",
         f"paths.log_dir={tmp_path}"], cwd=CONF.parent, env=env, capture_output=True, text=True, timeout=600)
    assert tested.returncode == 0, tested.stderr[-3000:]
    for job, units in (("0", 8), ("1", 16)):
        code = ("import torch; from plait import load_checkpoint; "
                f"m = load_checkpoint('{folder / job / 'checkpoints' / 'last.ckpt'}'); "
                "p = m.predict({'text': torch.randint(1, 50, (3, 7)), 'meta': torch.rand(3, 12)}); "
                "[lstm] = [b for b in m.graph.blocks.values() if type(b).__name__ == 'LSTMEncoder']; "
                "print(lstm.hidden_size, sorted(p), p['popular'].shape)")
        shown = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
        assert shown.stdout.split(maxsplit=1) == [str(units), "['popular', 'popular_aux'] (3, 1)\n"], shown.stderr


def test_posts_tfidf_reads_the_tf_idf_bag_in_its_wide_paths(plait_cache: Path, tmp_path: Path):
    """`model=posts_tfidf` with `data.bag_key=bag` trains a step on real tweets, its wide
    paths a Dense over the bag; without the bag the check names the missing input."""
    cfg = _compose("experiment=posts", "model=posts_tfidf", "data.bag_key=bag", *FAST,
                   f"paths.output_dir={tmp_path}", f"paths.data_dir={plait_cache}")
    system = check(cfg).system
    for head in ("favorites", "android", "hour"):
        [node] = system.graph.nodes_of(system.graph.blocks[f"{head}_wide"])
        assert node.connected_to == ["bag"], head
    assert system.param_group_names == ["", "embed", "favorites_wide", "android_wide", "hour_wide"]
    assert train(cfg) is not None
    with pytest.raises(ConfigError, match=r"but the model needs inputs \['text', 'bag'\] .*missing \['bag'\]"):
        check(_compose("experiment=posts", "model=posts_tfidf", "mode=check",
                       f"paths.output_dir={tmp_path / 'no_bag'}", f"paths.data_dir={plait_cache}"))
