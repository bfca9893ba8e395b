"""Blocks: plain `nn.Module`s that take their input sizes from the graph, not the user.

Encoders (`LSTMEncoder`, `GRUEncoder`, `Conv1DEncoder`, `CNNTower`, `MLP`, `Embedding`),
fusions (`Concat`, `Add`, `Multiply`, `Average`), layers and heads (`Dense`, `Conv1D`,
pools, `Flatten`, `Dropout`, `RepeatVector`), wrappers (`TimeDistributed`) and image modules
(`InceptionBlock`, `ResidualBlock`). Heads produce logits.

Padding: sequence blocks built with `mask_zero=True` read all-zero steps as padding (an
`Embedding`'s padding id gives one) and skip it wherever it is; see `plait.blocks.masking`.
"""

from plait.blocks.activations import ACTIVATIONS, activation
from plait.blocks.base import Block, spec_of
from plait.blocks.cnn_tower import CNNTower
from plait.blocks.conv1d import Conv1D
from plait.blocks.conv1d_encoder import Conv1DEncoder
from plait.blocks.dense import Dense
from plait.blocks.dropout import Dropout
from plait.blocks.embedding import Embedding
from plait.blocks.flatten import Flatten
from plait.blocks.global_pool import GlobalAveragePool1D, GlobalMaxPool1D
from plait.blocks.gru import GRUEncoder
from plait.blocks.inception import InceptionBlock
from plait.blocks.lstm import LSTMEncoder
from plait.blocks.merge import Add, Average, Concat, Multiply
from plait.blocks.mlp import MLP
from plait.blocks.pooling import MaxPool1D
from plait.blocks.recurrent import RecurrentEncoder
from plait.blocks.relation import RelationNetwork
from plait.blocks.repeat import RepeatVector
from plait.blocks.residual import ResidualBlock
from plait.blocks.time_distributed import TimeDistributed

__all__ = [
    "ACTIVATIONS", "MLP", "Add", "Average", "Block", "CNNTower", "Concat", "Conv1D",
    "Conv1DEncoder", "Dense", "Dropout", "Embedding", "Flatten", "GRUEncoder",
    "GlobalAveragePool1D", "GlobalMaxPool1D", "InceptionBlock", "LSTMEncoder", "MaxPool1D",
    "Multiply", "RecurrentEncoder", "RelationNetwork", "RepeatVector", "ResidualBlock",
    "TimeDistributed", "activation", "spec_of",
]
