"""Regenerate the documentation's pictures in docs/figures/ (deterministic seeds, matplotlib's Agg backend).

usage: python scripts/make_figures.py [--out DIR] [--only NAME[,NAME]]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from tinytorch import GPT, CharTokenizer, CrossEntropyLoss, Tensor, manual_seed  # noqa: E402
from tinytorch.data.python_snippets import MEMORIZATION_PATTERNS  # noqa: E402
from tinytorch.experiments.memorization import padded_patterns, run_memorization  # noqa: E402
from tinytorch.experiments.recipes import DEFAULT_TRAIN, PLAN_MODEL, PLAN_TRAIN  # noqa: E402
from tinytorch.report import attention_maps  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PNG_METADATA = {"Software": None}  # no version stamp: the same figure gives the same bytes


def save(fig, out_dir: str, name: str) -> str:
    path = os.path.join(out_dir, f"{name}.png")
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata=PNG_METADATA)
    plt.close(fig)
    return path


# ----- the memorization loss curve -------------------------------------------------------------------
def memorization_loss(out_dir: str) -> str:
    """Training loss per step of the test plan's layer 2.1 run (plan recipe, seed 0)."""
    result = run_memorization(seed=0, train=PLAN_TRAIN)
    losses = np.asarray(result.losses)
    steps = np.arange(1, len(losses) + 1)
    window = 25
    running = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    ax.plot(steps, losses, color="#9db4d3", linewidth=0.8, label="loss of each step's snippet (batch 1)")
    ax.plot(steps[window - 1:], running, color="#1f4e8c", linewidth=2, label=f"mean of the last {window} steps")
    ax.axhline(np.log(result.vocab_size), color="#888888", linestyle=":", linewidth=1)
    ax.text(len(losses), np.log(result.vocab_size) * 1.08, f"ln V = {np.log(result.vocab_size):.2f} (uniform guess)",
            ha="right", va="bottom", fontsize=9, color="#555555")
    ax.axhline(0.1, color="#c0392b", linestyle="--", linewidth=1)
    ax.text(len(losses), 0.1 * 1.12, "0.1", ha="right", va="bottom", fontsize=9, color="#c0392b")
    reached = result.steps_to(0.1)
    if reached is not None:
        ax.axvline(reached, color="#c0392b", linewidth=0.8, alpha=0.5)
        ax.text(reached + 5, 2.0, f"5-step mean below 0.1\nfrom step {reached}", fontsize=9, color="#c0392b")
    ax.set_yscale("log")
    ax.set_ylim(top=7.0)  # room for the ln V label
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy loss (log scale)")
    ax.set_title(f"Memorization (test plan 2.1), plan recipe, seed 0: loss over the five snippets\n"
                 f"{result.initial_loss:.3f} before training, {result.final_loss:.3f} after 500 steps "
                 f"({result.decrease:.1%} decrease)", fontsize=10.5)
    ax.legend(loc="lower left", fontsize=9, frameon=False)
    ax.grid(alpha=0.25, which="both")
    return save(fig, out_dir, "memorization_loss")


# ----- attention before and after training -------------------------------------------------------
def head_weights(model: GPT, ids: np.ndarray) -> np.ndarray:
    """(H, T, T) attention weights of the first block for one sequence of ids (the model's return_attention)."""
    return attention_maps(model, ids)[0]


def attention_map(out_dir: str) -> str:
    """One head of a one-layer GPT on a memorized snippet: at initialization, then after training."""
    train = DEFAULT_TRAIN
    tokenizer = CharTokenizer().build_vocab(MEMORIZATION_PATTERNS)
    data = padded_patterns(tokenizer, MEMORIZATION_PATTERNS, PLAN_MODEL.block_size)
    manual_seed(0)
    model = GPT(dataclasses.replace(PLAN_MODEL, vocab_size=tokenizer.vocab_size))
    snippet = MEMORIZATION_PATTERNS[0]
    ids = np.array(tokenizer.encode(snippet))
    before = head_weights(model, ids)
    trainer = train.make_trainer(model, CrossEntropyLoss())
    trainer.fit(itertools.repeat((data[:, :-1], data[:, 1:])), steps=train.max_iters)  # all patterns, every step
    loss = trainer.last_loss
    after = head_weights(model, ids)
    # Show the head that learned the sharpest pattern: the lowest mean entropy of its rows.
    entropy = -(after * np.log(after + 1e-12)).sum(axis=-1).mean(axis=-1)  # (H,)
    head = int(np.argmin(entropy))
    labels = ["\u21b5" if c == "\n" else ("\u00b7" if c == " " else c) for c in snippet]  # newline, space
    masked = np.triu(np.ones((len(ids), len(ids)), dtype=bool), k=1)  # keys after the query: causal mask
    cmap = matplotlib.colormaps["viridis"].copy()
    cmap.set_bad("#f2f2f2")  # masked cells in light grey, apart from weights that are merely small
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.9), layout="constrained")
    for ax, weights, title in ((axes[0], before, "at initialization"),
                               (axes[1], after, f"after {train.max_iters} training steps (loss {loss:.3f})")):
        image = ax.imshow(np.ma.array(weights[head], mask=masked), cmap=cmap, vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels)), labels, fontsize=7, family="monospace")
        ax.set_yticks(range(len(labels)), labels, fontsize=7, family="monospace")
        ax.set_xlabel("key: the position looked at")
        ax.set_ylabel("query: the position looking")
        ax.set_title(f"head {head}, {title}", fontsize=11)
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    fig.suptitle(f"One attention head of a one-layer GPT on the snippet {snippet.splitlines()[0]!r}... "
                 "(each row sums to 1; grey: masked, a later position)", fontsize=11)
    return save(fig, out_dir, "attention_map")


# ----- the computation graph ---------------------------------------------------------------------
def topological_order(root: Tensor) -> list:
    """Every tensor `root` depends on (through `_ctx.inputs`), each one after all of its inputs."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            if node._ctx is not None:
                stack.extend((parent, False) for parent in reversed(node._ctx.inputs))
    return order


def graph_layout(order: list) -> dict:
    """id -> (x, y): the operations in a column in topological order, each leaf beside its first consumer."""
    ops = [node for node in order if node._ctx is not None]
    positions = {id(node): (0.0, -float(row)) for row, node in enumerate(ops)}
    placed_leaves: dict = {}
    for node in ops:
        leaves = [p for p in node._ctx.inputs if p._ctx is None and id(p) not in positions]
        cx, cy = positions[id(node)]
        for i, leaf in enumerate(leaves):
            if node is ops[0]:  # the first operation's inputs go on a row above it
                positions[id(leaf)] = (cx + 1.8 * (i - (len(leaves) - 1) / 2), cy + 1.1)
            else:  # later leaves sit half a row up, to the right
                count = placed_leaves.get(id(node), 0)
                positions[id(leaf)] = (cx + 1.9 * (1 if count % 2 == 0 else -1), cy + 0.55)
                placed_leaves[id(node)] = count + 1
    return positions


def computation_graph(out_dir: str) -> str:
    """The graph of loss = (h * (1 - h)).mean() with h = tanh(x @ w + b), as autograd records it."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3)))
    w = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    b = Tensor(np.zeros(2), requires_grad=True)
    h = (x @ w + b).tanh()
    loss = (h * (1 - h)).mean()
    names = {id(x): "x", id(w): "w", id(b): "b", id(h): "h", id(loss): "loss"}
    order = topological_order(loss)
    positions = graph_layout(order)
    number = {id(node): i + 1 for i, node in enumerate(order)}

    fig, ax = plt.subplots(figsize=(6.5, 7.8))
    box_w, box_h = 1.5, 0.5
    boxes = {}
    for node in order:
        cx, cy = positions[id(node)]
        name = names.get(id(node))
        shape = "scalar" if node.shape == () else str(node.shape)
        if node._ctx is not None:
            op = type(node._ctx).__name__
            title, subtitle, face = (f"{name} = {op}" if name else op), shape, "#d6e6f5"
        elif node.requires_grad:
            title, subtitle, face = name, f"{shape}, needs grad", "#fde2b8"
        else:
            title, subtitle, face = (name or f"{node.data.item():g}"), (f"{shape}, data" if name else "constant"), "#eeeeee"
        boxes[id(node)] = box = FancyBboxPatch((cx - box_w / 2, cy - box_h / 2), box_w, box_h,
                                               boxstyle="round,pad=0.02,rounding_size=0.08", facecolor=face,
                                               edgecolor="#333333", linewidth=1, zorder=2)
        ax.add_patch(box)
        ax.text(cx, cy + 0.08, title, ha="center", va="center", fontsize=10, weight="bold", zorder=3)
        ax.text(cx, cy - 0.13, subtitle, ha="center", va="center", fontsize=8, color="#333333", zorder=3)
        ax.text(cx - box_w / 2 - 0.06, cy, str(number[id(node)]), ha="right", va="center",
                fontsize=9, color="#c0392b", weight="bold", zorder=3)
    for node in order:
        if node._ctx is None:
            continue
        for parent in node._ctx.inputs:
            (x0, y0), (x1, y1) = positions[id(parent)], positions[id(node)]
            skips = parent._ctx is not None and y0 - y1 > 1.5  # an edge past other operations: curve around them
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), zorder=1,
                        arrowprops=dict(arrowstyle="-|>", color="#555555", linewidth=1.2, shrinkA=2, shrinkB=2,
                                        patchA=boxes[id(parent)], patchB=boxes[id(node)],
                                        connectionstyle="arc3,rad=1.0" if skips else "arc3,rad=0"))
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    ax.set_xlim(min(xs) - 1.1, max(xs) + 1.1)
    ax.set_ylim(min(ys) - 0.5, max(ys) + 0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("loss = (h * (1 - h)).mean(),  h = tanh(x @ w + b)\n"
                 "arrows follow _ctx.inputs forward; the red numbers are a topological order;\n"
                 "backward visits the nodes from the highest number down", fontsize=9.5)
    return save(fig, out_dir, "computation_graph")


FIGURES = {
    "memorization_loss": memorization_loss,
    "attention_map": attention_map,
    "computation_graph": computation_graph,
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "figures"), help="output folder")
    parser.add_argument("--only", default=None, help=f"comma-separated subset of: {', '.join(FIGURES)}")
    args = parser.parse_args(argv)
    names = list(FIGURES) if args.only is None else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in FIGURES]
    if unknown or not names:
        parser.error(f"unknown figure(s) {unknown or [args.only]}; choose from {', '.join(FIGURES)}")
    os.makedirs(args.out, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        path = FIGURES[name](args.out)
        print(f"{path}  ({time.perf_counter() - start:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
