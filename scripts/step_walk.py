"""Walk one training step the way `tinytorch train` runs it and name the files it passes.

`Trainer.fit` for one step (AdamW with weight decay, warmup and cosine decay, global-norm clipping:
the CLI's TrainConfig defaults) on a small GPT, after one warm-up step. Prints:
- the call chain from `Trainer.fit` to the optimizer's update (tinytorch's frames only), with the files;
- every distinct file the step enters (tinytorch's and the rest), counted with `sys.setprofile`.

Only the top-level API is used, so the same script runs on older checkouts:
    PYTHONPATH=path/to/checkout python scripts/step_walk.py
"""

from __future__ import annotations

import os
import sys

import numpy as np

import tinytorch

PACKAGE = os.path.dirname(os.path.abspath(tinytorch.__file__))


def _short(path: str) -> str:
    return "tinytorch/" + os.path.relpath(path, PACKAGE) if path.startswith(PACKAGE) else path


def main() -> None:
    tinytorch.manual_seed(0)
    model = tinytorch.GPT(65, 64, 2, 4, 32)  # vocab, width, layers, heads, context
    optimizer = tinytorch.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.99), weight_decay=0.1)
    schedule = tinytorch.CosineSchedule(max_lr=1e-3, min_lr=1e-4, total_steps=100, warmup_steps=10)
    trainer = tinytorch.Trainer(model, optimizer, tinytorch.CrossEntropyLoss(), schedule=schedule, grad_clip_norm=1.0)
    ids = np.random.default_rng(0).integers(0, 65, (4, 33))
    batches = [(ids[:, :-1], ids[:, 1:])] * 2
    trainer.fit(batches[:1], steps=1)  # warm-up: imports and first-call work are not part of a step

    files, chain = set(), []
    update_names = {"_update", "_fused_update", "update"}

    def profile(frame, event, arg):
        if event != "call":
            return
        files.add(frame.f_code.co_filename)
        if not chain and frame.f_code.co_name in update_names and frame.f_code.co_filename.startswith(PACKAGE):
            stack, f = [], frame
            while f is not None:
                if f.f_code.co_filename.startswith(PACKAGE):
                    stack.append((_short(f.f_code.co_filename), f.f_code.co_name))
                f = f.f_back
            chain.extend(reversed(stack))

    sys.setprofile(profile)
    try:
        trainer.fit(batches[1:], steps=1)
    finally:
        sys.setprofile(None)

    ours = sorted(_short(f) for f in files if f.startswith(PACKAGE))
    print(f"call chain from Trainer.fit to the optimizer update: {len(chain)} calls across "
          f"{len({f for f, _ in chain})} files")
    for path, name in chain:
        print(f"  {path}:{name}")
    print(f"files entered during one step: {len(files)} ({len(ours)} of tinytorch)")
    for path in ours:
        print(f"  {path}")


if __name__ == "__main__":
    main()
