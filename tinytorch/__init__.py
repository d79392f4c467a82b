"""tinytorch: a deep-learning framework on numpy whose transformers demonstrably learn."""

from .core.autograd import enable_grad, is_grad_enabled, no_grad
from .core.random import manual_seed
from .core.tensor import Tensor
from .core import functions as functional_ops

__version__ = "0.1.0"

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "__version__"]
