"""PyTorch-style namespace: `tinytorch.nn.Linear`, `tinytorch.nn.GPT`, ... over the core classes."""

from ..core.activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from ..core.attention import MultiHeadAttention
from ..core.embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding
from ..core.layers import Dropout, Layer, Linear, Module, ModuleList, Parameter, Sequential
from ..core.losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from ..core.transformer import GPT, LayerNorm, MLP, TransformerBlock
from . import functional

__all__ = [
    "GELU", "ReLU", "Sigmoid", "Softmax", "Tanh", "MultiHeadAttention", "Embedding", "EmbeddingLayer",
    "PositionalEncoding", "SinusoidalPositionalEncoding", "Dropout", "Layer", "Linear", "Module", "ModuleList",
    "Parameter", "Sequential", "BinaryCrossEntropyLoss", "CrossEntropyLoss", "MSELoss", "GPT", "LayerNorm", "MLP",
    "TransformerBlock", "functional",
]
