"""tinytorch: a deep-learning framework on numpy whose transformers demonstrably learn."""

from .core.autograd import Function, enable_autograd, enable_grad, is_grad_enabled, no_grad
from .core.random import manual_seed
from .runtime.threads import get_num_threads, set_num_threads
from .core.tensor import Tensor
from .core.functions import cat, concatenate, stack, where
from .core.factories import (arange, float32, float64, full, int32, int64, ones, ones_like, rand, randn,
                             randn_like, tensor, zeros, zeros_like)
from .nn.layers import Linear, Module, Parameter, Sequential
from .nn.losses import CrossEntropyLoss, MSELoss
from .optim.optimizers import SGD, Adam, AdamW
from .text.tokenization import BPETokenizer, CharTokenizer
from .data.dataloader import DataLoader, TensorDataset
from .training.trainer import CosineSchedule, Trainer, clip_grad_norm, load_checkpoint, save_checkpoint
from .nn.transformer import GPT
from .nn.config import GPTConfig
from .pretrained import load_pretrained
from .hf import save_pretrained
from . import autograd, nn, optim  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "enable_autograd", "manual_seed",
    "set_num_threads", "get_num_threads",
    "concatenate", "cat", "stack", "where", "tensor", "zeros", "ones", "full", "arange", "randn", "rand",
    "zeros_like", "ones_like", "randn_like", "float32", "float64", "int32", "int64",
    "Linear", "Module", "Parameter", "Sequential", "CrossEntropyLoss",
    "MSELoss", "SGD", "Adam", "AdamW", "BPETokenizer", "CharTokenizer", "DataLoader", "TensorDataset",
    "CosineSchedule", "Trainer", "clip_grad_norm", "load_checkpoint", "save_checkpoint", "GPT", "GPTConfig", "nn",
    "optim", "load_pretrained", "save_pretrained", "__version__",
]
