"""TinyTorch's path `tinytorch.core.dataloader`: the code lives in `tinytorch.data.dataloader`."""

from ..data.dataloader import (  # noqa: F401
    DataLoader, Dataset, PaddedSequenceDataset, TensorDataset, TokenWindowDataset,
)
