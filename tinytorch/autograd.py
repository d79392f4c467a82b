"""PyTorch-style path `tinytorch.autograd`: core.autograd's public names plus `detect_anomaly`."""

from .core.anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled
from .core.autograd import Function, enable_autograd, enable_grad, is_grad_enabled, no_grad

__all__ = ["Function", "no_grad", "enable_grad", "is_grad_enabled", "enable_autograd",
           "detect_anomaly", "is_anomaly_enabled", "AnomalyError"]
