"""Matplotlib figures for the verification report and `tinytorch train` (Agg canvas, no pyplot state)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


def smooth(values, window: int = 10) -> np.ndarray:
    """Trailing moving average (same length; the first points average what exists so far)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0 or window <= 1:
        return v
    cumsum = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, v.size + 1)
    lo = np.maximum(0, idx - window)
    return (cumsum[idx] - cumsum[lo]) / (idx - lo)


def loss_axes(ax, title: str) -> None:
    """Log loss axis with plain tick labels (0.1, 0.2, 0.5, 1, 2, ...), at most six step ticks, labels, grid."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy loss (log scale)")
    ax.set_title(title)
    ax.grid(True, which="major", alpha=0.3)


def loss_curve_figure(train_losses, val_steps=(), val_losses=(), title: str = "Training loss") -> Figure:
    """Per-step training loss (raw and smoothed), validation points on top, log y axis."""
    fig = new_figure(7, 4)
    ax = fig.add_subplot(1, 1, 1)
    steps = np.arange(1, len(train_losses) + 1)
    if len(train_losses):
        ax.plot(steps, train_losses, color="#9ecae1", linewidth=0.8, label="train (per step)")
        ax.plot(steps, smooth(train_losses, max(1, len(train_losses) // 50)), color="#08519c", label="train (smoothed)")
    if len(val_losses):
        ax.plot(list(val_steps), list(val_losses), "o-", color="#e6550d", label="validation")
    loss_axes(ax, title)
    if len(train_losses) or len(val_losses):  # an empty legend is a matplotlib warning, not a plot
        ax.legend()
    return fig


def save_loss_curve(path: str, train_losses, val_steps=(), val_losses=(), title: str = "Training loss") -> str:
    """Write the loss curve as a PNG at `path`, atomically (an interrupted save keeps the old plot)."""
    from ..runtime.fileio import atomic_write

    return atomic_write(path, png_bytes(loss_curve_figure(train_losses, val_steps, val_losses, title)))


def verification_loss_figure(artifacts: dict) -> Figure | None:
    """One panel per training run that the verification kept: memorization, copilot, generalization."""
    panels = []
    memo = artifacts.get("memorization") or {}
    if memo:
        seed = min(memo)
        panels.append(("Memorization (plan recipe)", [(f"train, seed {seed}", memo[seed].losses)], None))
    conv = artifacts.get("convergence") or []
    if conv:
        panels.append(("Convergence (default recipe)", [("train", conv[0].losses)], 0.1))
    copilot = artifacts.get("copilot") or {}
    if copilot:
        seed = min(copilot)
        panels.append(("Copilot training", [(f"train, seed {seed}", copilot[seed].train_losses)], None))
    gens = artifacts.get("generalization") or []
    if not panels and not gens:
        return None
    n = len(panels) + bool(gens)
    cols = min(n, 2)  # two panels a row: wide enough to read at the page's width
    rows = (n + cols - 1) // cols
    fig = new_figure(5.5 * cols, 3.8 * rows)
    for i, (title, series, hline) in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        for label, losses in series:
            steps = np.arange(1, len(losses) + 1)
            ax.plot(steps, losses, color="#9ecae1", linewidth=0.7)
            ax.plot(steps, smooth(losses, max(1, len(losses) // 40)), color="#08519c", label=label)
        if hline is not None:
            ax.axhline(hline, color="#636363", linestyle="--", linewidth=0.8, label=f"loss {hline}")
        loss_axes(ax, title)
        ax.legend(fontsize=8)
    if gens:
        ax = fig.add_subplot(rows, cols, n)
        g = gens[0]
        steps = [e[0] for e in g.evals]
        ax.plot(steps, [e[1] for e in g.evals], "o-", color="#08519c", label="train (45 snippets)")
        ax.plot(steps, [e[2] for e in g.evals], "o-", color="#e6550d", label="held-out (5 snippets)")
        ax.axvline(g.step, color="#636363", linestyle="--", linewidth=0.8, label=f"early stop, step {g.step}")
        loss_axes(ax, "Generalization: train vs held-out")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def grad_norm_figure(names: list, before: list, after: list) -> Figure:
    """Horizontal bars: each parameter's gradient norm at initialisation and after training."""
    fig = new_figure(8, 0.22 * len(names) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(names))
    floor = 1e-12  # zero gradients would vanish on a log axis; show them at the floor
    ax.barh(y - 0.2, np.maximum(before, floor), height=0.4, color="#9ecae1", label="untrained")
    ax.barh(y + 0.2, np.maximum(after, floor), height=0.4, color="#08519c", label="trained")
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("gradient L2 norm (training-set loss)")
    ax.set_title("Per-parameter gradient norms")
    ax.grid(True, axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def attention_figure(maps: list, tokens: list) -> Figure:
    """maps: per layer an (H, T, T) array; one heatmap per head (query rows, key columns), two a row,
    with the tokens as tick labels and one colour bar for all."""
    layers, heads = len(maps), maps[0].shape[0]
    t = len(tokens)
    cols = min(heads, 2)
    rows = (layers * heads + cols - 1) // cols
    panel = max(2.5, 0.2 * t)  # inches of heatmap: about 0.2 inch (20 px) per token
    fig = new_figure(cols * (panel + 1.0) + 1.2, rows * (panel + 0.8) + 0.4)  # + tick labels, titles, colour bar
    fig.set_layout_engine("constrained")
    labels = [repr(c)[1:-1] if c.strip() else ("\\n" if c == "\n" else "\u2423") for c in tokens]
    axes, image = [], None
    for layer, weights in enumerate(maps):
        for head in range(heads):
            ax = fig.add_subplot(rows, cols, layer * heads + head + 1)
            image = ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer}, head {head}", fontsize=10)
            ax.set_xticks(range(t))
            ax.set_yticks(range(t))
            ax.set_xticklabels(labels, fontsize=9, family="monospace")
            ax.set_yticklabels(labels, fontsize=9, family="monospace")
            ax.set_xlabel("key (attended-to token)", fontsize=9)
            ax.set_ylabel("query token", fontsize=9)
            axes.append(ax)
    fig.colorbar(image, ax=axes, shrink=0.4, aspect=30, label="attention probability")
    fig.suptitle("Attention of the trained copilot (rows: queries, columns: keys)", fontsize=12)
    return fig
