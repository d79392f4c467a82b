"""The optimizers' update rules as a book writes them, one parameter at a time, to read and to test against.

`optimizers.py` runs the same rules once over every parameter in a flat buffer, slice by slice in
cache and with reused scratch arrays; a test checks the two agree in float64.
"""

from __future__ import annotations

import numpy as np


def sgd_step(p, g, buf, lr, momentum=0.0, weight_decay=0.0, nesterov=False) -> tuple[np.ndarray, np.ndarray]:
    """(new p, new momentum buffer): g += wd p; buf = momentum buf + g; p -= lr (g + momentum buf if nesterov else buf)."""
    g = g + weight_decay * p
    buf = momentum * buf + g if momentum else g
    step = g + momentum * buf if nesterov else buf
    return p - lr * step, buf


def adam_step(p, g, m, v, t: int, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False) -> tuple:
    """(new p, m, v) after Adam's step t (1-based); `decoupled` is AdamW's p *= 1 - lr wd, else L2 on g."""
    beta1, beta2 = betas
    if decoupled:
        p = p * (1 - lr * weight_decay)
    else:
        g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
