"""`model.compile`: the graph compiled in place from a config switch, LSTMs traced through,
checkpoints unchanged. (`mode=check` counting graph breaks: tests/train/test_check.py.)"""

from __future__ import annotations

import copy

import lightning as L
import numpy as np
import pytest
import torch

from plait import Graph, Input
from plait.blocks import Concat, Dense, LSTMEncoder
from plait.data import ArrayDataModule
from plait.spec import SpecError
from plait.system import GraphSystem


def lstm_graph() -> Graph:
    words = Input("words", shape=(None,), dtype=torch.long)
    extra = Input("extra", shape=(3,))
    merged = Concat()([LSTMEncoder(8, vocab_size=20, embedding_dim=4)(words), extra])
    return Graph([words, extra], {"label": Dense(4)(merged)})


def _fit(system: GraphSystem, tmp_path) -> None:
    rng = np.random.default_rng(0)
    data = ArrayDataModule({"words": rng.integers(1, 20, (32, 6)), "extra": rng.random((32, 3), dtype=np.float32)},
                           {"label": rng.integers(0, 4, 32)}, batch_size=8, val_fraction=0.25)
    L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
              enable_model_summary=False, default_root_dir=tmp_path).fit(system, data)


def test_a_compiled_graph_trains_through_its_lstm_and_keeps_its_state_dict_keys(tmp_path) -> None:
    graph = lstm_graph()
    keys = list(graph.state_dict())
    compiled = GraphSystem(graph, loss="cross_entropy", compile={"backend": "eager", "fullgraph": True})
    assert compiled.compile_options == {"backend": "eager", "fullgraph": True}
    assert list(compiled.graph.state_dict()) == keys  # compiled in place: checkpoints do not change
    _fit(compiled, tmp_path)  # fullgraph: a break at the LSTM would fail here


@pytest.mark.slow
def test_inductor_compiles_the_graph_and_matches_eager() -> None:
    torch.manual_seed(0)
    graph = lstm_graph()
    eager = GraphSystem(copy.deepcopy(graph), loss="cross_entropy")
    compiled = GraphSystem(graph, loss="cross_entropy", compile=True)
    words, extra = torch.randint(1, 20, (5, 6)), torch.rand(5, 3)
    torch.testing.assert_close(compiled({"words": words, "extra": extra})["label"],
                               eager({"words": words, "extra": extra})["label"], rtol=1e-4, atol=1e-5)


def test_a_bad_compile_setting_names_the_key() -> None:
    with pytest.raises(SpecError, match=r"model.compile.mod: not an argument of torch.compile"):
        GraphSystem(lstm_graph(), loss="cross_entropy", compile={"mod": "max-autotune"})
