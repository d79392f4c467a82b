"""What every check receives: the adapter, the seed, the parent's data, and results shared between checks."""

from __future__ import annotations

import numpy as np

from . import reference as ref


class Context:
    def __init__(self, adapter, seed: int = 0, data: dict | None = None, quick: bool = False):
        self.adapter = adapter
        self.seed = seed
        self.data = data or {}  # corpora sent by the parent (the worker imports no tinytorch)
        self.quick = quick
        self.shared = {}  # trained models etc., reused by later checks in the same worker
        self._gelu_variant = None

    @property
    def gelu_variant(self) -> str:
        """"exact" or "tanh": whichever of the two standard GELUs the implementation's forward is closer to."""
        if self._gelu_variant is None:
            x = np.linspace(-4, 4, 81)
            try:
                got = np.asarray(self.adapter.array(self.adapter.op("gelu", self.adapter.tensor(x))), dtype=np.float64)
                errs = {v: float(np.max(np.abs(got - ref.gelu(x, v)))) for v in ("tanh", "exact")}
                self._gelu_variant = min(errs, key=errs.get)
            except Exception:
                self._gelu_variant = "tanh"
        return self._gelu_variant

    def once(self, key, make):
        """`make()` the first time `key` is asked for in this worker; the same object afterwards."""
        if key not in self.shared:
            self.shared[key] = make()
        return self.shared[key]
