"""Every check the grader runs, in order: its name, the plan section, its time limit, and the quick subset."""

from __future__ import annotations

from dataclasses import dataclass

from . import checks_learning as learning
from . import checks_model as model
from . import checks_probes as probes
from .checks_components import COMPONENT_CHECKS
from .checks_ops import OP_CHECKS
from .checks_tasks import check_attention_entropy, make_task_check


@dataclass(frozen=True)
class Check:
    name: str
    section: str  # the test plan's section (or "gate" for the gates added after it)
    title: str
    run: object  # run(ctx) -> Outcome
    timeout: float = 60.0  # seconds before the parent kills the worker and fails the check
    quick: bool = False  # part of `--quick`


def _checks():
    out = [Check(name, "1.1", f"Autograd operations: {name.split('.')[1]}", fn, 30, True) for name, fn in OP_CHECKS.items()]
    out += [Check(name, "1.2", f"Component: {name.split('.')[1].replace('_', ' ')}", fn, 30, True)
            for name, fn in COMPONENT_CHECKS.items()]
    out += [
        Check("component.gpt", "1.2", "Full GPT: logits and every gradient", model.check_gpt, 60, True),
        Check("gradient_flow", "3.1", "Gradient flow to every parameter", model.check_gradient_flow, 30, True),
        Check("loss.cross_entropy", "gate", "Loss recomputed from the logits", model.check_cross_entropy, 30, True),
        Check("optim.adam", "1.2", "Adam against its formula", model.check_adam, 30, True),
        Check("component.dropout", "1.2", "Dropout in training and eval", model.check_dropout, 30, True),
        Check("data.tokens_targets", "checklist 3", "Tokenizer and shifted targets", model.check_data, 30, True),
        Check("probe.causality", "gate", "Causality probe", probes.check_causality, 30, True),
        Check("probe.position", "gate", "Position probe", probes.check_position, 30, True),
        Check("autograd.backward_cost", "gate", "Backward on a 400-deep chain", probes.check_backward_cost, 20, True),
        Check("learn.memorization", "2.1", "Memorization (plan recipe, 500 steps)", learning.check_memorization, 120),
        Check("generation.cached_vs_full", "gate", "Cached vs full generation", learning.check_cached_generation, 60),
        Check("checkpoint.resume", "5.2", "Checkpoint save/load/resume", learning.check_resume, 60),
        Check("task.copy", "gate", "Copy task (95% exact)", make_task_check("copy"), 120),
        Check("task.reversal", "gate", "Reversal task (95% exact)", make_task_check("reversal"), 120, True),
        Check("probe.attention_entropy", "gate", "Attention-entropy probe", check_attention_entropy, 120),
        Check("task.mixed", "gate", "Mixed-prefix task (90% exact)", make_task_check("mixed"), 180),
        Check("learn.pattern", "2.2", "Pattern learning (unseen names)", learning.check_pattern, 180),
        Check("learn.generalization", "2.3", "Generalization (45/5 split)", learning.check_generalization, 180),
        Check("learn.pipeline", "5.1", "Training pipeline (45 snippets)", learning.check_pipeline, 180),
        Check("generation.validity", "5.3", "Generation validity (ast.parse)", learning.check_generation, 120),
    ]
    return out


CHECKS = {c.name: c for c in _checks()}
