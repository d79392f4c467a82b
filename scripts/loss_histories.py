"""Print the loss history of each of the test plan's experiments, every value as its float64 repr.

Run it from two checkouts and diff the outputs to show a change kept training bit for bit the same:
    PYTHONPATH=path/to/a python scripts/loss_histories.py > a.txt
    PYTHONPATH=path/to/b python scripts/loss_histories.py > b.txt && diff a.txt b.txt
"""

from __future__ import annotations

import sys

import numpy as np


def _line(name: str, values) -> str:
    return f"{name} ({len(values)}): " + " ".join(repr(float(np.float64(v))) for v in values)


def main() -> None:
    from tinytorch.experiments.copilot import run_copilot
    from tinytorch.experiments.generalization import run_generalization
    from tinytorch.experiments.memorization import run_memorization
    from tinytorch.experiments import pattern

    def pattern_losses() -> list:
        runs = []
        train = pattern.train_code_model  # keep the trained run, whose losses the result does not carry

        def keep(*args, **kwargs):
            runs.append(train(*args, **kwargs))
            return runs[-1]

        pattern.train_code_model = keep
        try:
            result = pattern.run_pattern_learning(0)
        finally:
            pattern.train_code_model = train
        return list(runs[0].train_losses) + [result.accuracy, result.unseen_args_accuracy]

    only = set(sys.argv[1:])
    runs = {
        "memorization": lambda: run_memorization(0).losses,
        "pattern": pattern_losses,
        "generalization": lambda: [v for e in run_generalization(0).evals for v in e[1:]],
        "copilot": lambda: run_copilot(0).train_losses,
    }
    for name, run in runs.items():
        if not only or name in only:
            print(_line(name, run()), flush=True)


if __name__ == "__main__":
    main()
