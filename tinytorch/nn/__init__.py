"""PyTorch-style namespace: `tinytorch.nn.Linear`, `tinytorch.nn.GPT`, ... over the core classes."""

from .activations import GELU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiHeadAttention
from .embeddings import Embedding, EmbeddingLayer, PositionalEncoding, SinusoidalPositionalEncoding
from .layers import Dropout, Layer, Linear, Module, ModuleList, Parameter, Sequential
from .losses import BinaryCrossEntropyLoss, CrossEntropyLoss, MSELoss
from .transformer import GPT, LayerNorm, MLP, TransformerBlock
from . import functional

__all__ = [
    "GELU", "ReLU", "Sigmoid", "Softmax", "Tanh", "MultiHeadAttention", "Embedding", "EmbeddingLayer",
    "PositionalEncoding", "SinusoidalPositionalEncoding", "Dropout", "Layer", "Linear", "Module", "ModuleList",
    "Parameter", "Sequential", "BinaryCrossEntropyLoss", "CrossEntropyLoss", "MSELoss", "GPT", "LayerNorm", "MLP",
    "TransformerBlock", "functional",
]
