"""Alias of `tinytorch.core.dataloader` (the older TinyTorch import path)."""

from tinytorch.data.dataloader import (  # noqa: F401
    DataLoader, Dataset, PaddedSequenceDataset, TensorDataset, TokenWindowDataset,
)
