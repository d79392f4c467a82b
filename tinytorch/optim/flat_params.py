"""An optimizer's flat layout: weights, gradients and state each in one buffer, inside the optimizer.

An update is then a handful of numpy calls over all weights at once instead of a Python loop per
parameter (PyTorch's foreach/fused optimizers and tinygrad's fused optimizer do the same). The layout
stays inside the optimizer: each step copies the weights in and the result back into each `.data`
in place, so a parameter's array is never replaced (views of it, such as attention's q|k|v blocks
of one (C, 3C) weight, stay views) and other code may assign or edit `.data` freely between steps.
"""

from __future__ import annotations

from operator import attrgetter, is_

import numpy as np

from .grads import checked_grad

# C-level reads: these checks run on every step
_DATA, _GRAD, _SHAPE, _DTYPE = attrgetter("data"), attrgetter("grad"), attrgetter("shape"), attrgetter("dtype")


class FlatParameters:
    """Copies every parameter's `.data` into one buffer and back, and gathers gradients in the same layout."""

    def __init__(self, params: list):
        self.params = params
        self.shapes = [p.data.shape for p in params]
        sizes = [p.data.size for p in params]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        self.size = self.offsets[-1]
        self.flat = None  # the weights during a step, when they share one dtype
        self._views: list = []  # each parameter's view of `flat`
        self._grad = None  # the latest gathered gradients
        self._grad_views: list = []
        self._complete = False  # whether every parameter had a gradient at the latest gathering
        if len({p.data.dtype for p in params}) == 1:
            self.flat = np.empty(self.size, dtype=params[0].data.dtype)  # (total,)
            self._views = self.slices(self.flat)

    def slices(self, flat: np.ndarray) -> list:
        """Per-parameter views of an array in this layout (weights, gradients or optimizer state)."""
        return [flat[lo:hi].reshape(shape) for shape, lo, hi in zip(self.shapes, self.offsets[:-1], self.offsets[1:])]

    def check_shapes(self, where: str) -> None:
        """Raise if a parameter's `.data` was replaced by an array of another shape (its state would not fit)."""
        for i, (p, shape) in enumerate(zip(self.params, self.shapes)):
            if p.data.shape != shape:
                raise ValueError(f"{where}: parameter {i} now has shape {p.data.shape}, "
                                 f"but the optimizer was built for {shape}")

    def usable(self, where: str) -> bool:
        """True when every `.data` still has its shape and the layout's dtype (else the update goes one by one).

        A new shape is an error naming `where` (the optimizer's state would not fit)."""
        if self.flat is None:
            return False
        datas = list(map(_DATA, self.params))
        if list(map(_SHAPE, datas)) != self.shapes:
            self.check_shapes(where)
        return all(map(self.flat.dtype.__eq__, map(_DTYPE, datas)))

    def gather_data(self) -> np.ndarray:
        """The weights copied into `flat` in one call (they may be views of any layout)."""
        return np.concatenate(list(map(_DATA, self.params)), axis=None, out=self.flat)  # axis=None: each raveled

    def scatter_data(self) -> None:
        """`flat` written back into each parameter's own array, in place."""
        for p, view in zip(self.params, self._views):
            p.data[...] = view

    def gathered(self) -> np.ndarray | None:
        """The latest gathered gradients if every parameter had one and each `.grad` is still its view there, else None."""
        if self._grad is not None and self._complete and all(map(is_, map(_GRAD, self.params), self._grad_views)):
            return self._grad
        return None

    def gather_grads(self, where: str) -> np.ndarray:
        """Every `.grad` copied into one flat array (zeros where there is none); each `.grad` becomes its view.

        Editing the result (scaling, clipping) therefore edits every `p.grad`. A fresh array per
        gathering, so a `.grad` array someone kept from an earlier step is never overwritten. A bad
        gradient is an error naming `where` and the parameter. Needs the flat layout (`usable()`).
        """
        flat = self.gathered()
        if flat is not None:
            return flat
        flat = np.empty(self.size, dtype=self.flat.dtype)  # (total,)
        views = self.slices(flat)
        grads = list(map(_GRAD, self.params))
        if (all(type(g) is np.ndarray for g in grads) and list(map(_SHAPE, grads)) == self.shapes
                and all(map(flat.dtype.__eq__, map(_DTYPE, grads)))):
            np.concatenate(grads, axis=None, out=flat)  # the usual case: one copy of every gradient
            complete = True
        else:
            complete = self._copy_one_by_one(grads, views, where)
        for p, view in zip(self.params, views):
            p.grad = view
        self._grad, self._grad_views, self._complete = flat, views, complete  # each `.grad` is its view when complete
        return flat

    def _copy_one_by_one(self, grads: list, views: list, where: str) -> bool:
        """Each gradient into its view, converted or checked (zeros where there is none); True if none was missing."""
        complete = True
        for i, (p, g, view) in enumerate(zip(self.params, grads, views)):
            if g is None:
                view.fill(0)
                complete = False
                continue
            if type(g) is not np.ndarray or g.shape != view.shape or g.dtype != view.dtype:
                g = checked_grad(g, p, i, where)  # a Tensor, a list, another dtype, or an error
            np.copyto(view, g)
        return complete
