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
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig


def save_loss_curve(path: str, train_losses, val_steps=(), val_losses=(), title: str = "Training loss") -> str:
    fig = loss_curve_figure(train_losses, val_steps, val_losses, title)
    fig.savefig(path, bbox_inches="tight")
    return path


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
    fig = new_figure(5 * (len(panels) + bool(gens)), 3.6)
    n = len(panels) + bool(gens)
    for i, (title, series, hline) in enumerate(panels):
        ax = fig.add_subplot(1, n, i + 1)
        for label, losses in series:
            steps = np.arange(1, len(losses) + 1)
            ax.plot(steps, losses, color="#9ecae1", linewidth=0.7)
            ax.plot(steps, smooth(losses, max(1, len(losses) // 40)), color="#08519c", label=label)
        if hline is not None:
            ax.axhline(hline, color="#636363", linestyle="--", linewidth=0.8, label=f"loss {hline}")
        ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    if gens:
        ax = fig.add_subplot(1, n, n)
        g = gens[0]
        steps = [e[0] for e in g.evals]
        ax.plot(steps, [e[1] for e in g.evals], "o-", color="#08519c", label="train (45 snippets)")
        ax.plot(steps, [e[2] for e in g.evals], "o-", color="#e6550d", label="held-out (5 snippets)")
        ax.axvline(g.step, color="#636363", linestyle="--", linewidth=0.8, label=f"early stop, step {g.step}")
        ax.set_yscale("log")
        ax.set_title("Generalization: train vs validation")
        ax.set_xlabel("step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
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
    """maps: per layer an (H, T, T) array; one heatmap per head, query rows, key columns."""
    layers, heads = len(maps), maps[0].shape[0]
    t = len(tokens)
    size = max(2.2, 0.16 * t + 0.8)
    fig = new_figure(size * heads, size * layers + 0.3)
    labels = [repr(c)[1:-1] if c.strip() else ("\\n" if c == "\n" else "␣") for c in tokens]
    for layer, weights in enumerate(maps):
        for head in range(heads):
            ax = fig.add_subplot(layers, heads, layer * heads + head + 1)
            ax.imshow(weights[head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {layer}, head {head}", fontsize=8)
            ax.set_xticks(range(t))
            ax.set_yticks(range(t))
            ax.set_xticklabels(labels, fontsize=6, family="monospace")
            ax.set_yticklabels(labels, fontsize=6, family="monospace")
    fig.suptitle("Attention of the trained copilot (rows: queries, columns: keys)", fontsize=10)
    return fig
