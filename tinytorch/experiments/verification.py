"""The test plan's layers as one runner (used by `tinytorch verify`, the tests and the docs).

Each layer gives a `LayerResult` (figure and threshold); raw results stay in `Verification.artifacts`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

from .memorization import run_memorization
from .recipes import DEFAULT_TRAIN, PLAN_TRAIN


@dataclass(frozen=True)
class Budget:
    """How much each layer trains. `None` means the experiment's own default step count."""

    name: str
    seeds: tuple = (0,)
    scale: float = 1.0  # multiplies the pattern and resume experiments' own step counts
    pattern_steps: int | None = None  # explicit step counts override the scaled defaults
    generalization_steps: int | None = None  # (generalization stops early on its own)
    copilot_steps: int | None = None  # (the plan times the copilot run: < 3 minutes)
    resume_steps: int | None = None
    prompts: int | None = None  # completion prompts checked (held-out first); None = all 50


# The quick run uses each experiment's own budget (about 6 s on an idle 2-core machine); the full run
# checks three seeds and trains pattern learning and the resumed run twice as long.
QUICK = Budget("quick", (0,))
FULL = Budget("full", (0, 1, 2), scale=2.0)

# (key, plan section, title) in the order `tinytorch verify` prints them.
LAYERS = (
    ("gradients", "1.2", "Component gradients vs finite differences"),
    ("memorization", "2.1", "Memorization (plan recipe, 500 steps)"),
    ("pattern", "2.2", "Pattern learning (unseen names)"),
    ("generalization", "2.3", "Generalization (45/5 split)"),
    ("convergence", "4.3", "Convergence (default recipe)"),
    ("pipeline", "5.1", "Copilot training pipeline"),
    ("resume", "5.2", "Checkpoint save/load/resume"),
    ("generation", "5.3", "Generation validity (ast.parse)"),
)
LAYER_KEYS = tuple(key for key, _, _ in LAYERS)

MEMORIZATION_MIN_DECREASE = 0.80
MEMORIZATION_MAX_LAST100 = 0.1
CONVERGENCE_MAX_STEPS = 150
PATTERN_MIN_ACCURACY = 0.90
GENERALIZATION_MAX_RATIO = 2.0
PIPELINE_MIN_DECREASE = 0.80
PIPELINE_MAX_SECONDS = 180.0
GENERATION_MIN_VALID = 0.80


@dataclass
class LayerResult:
    key: str
    section: str
    title: str
    passed: bool
    figure: str  # the measured value, in words
    threshold: str
    seconds: float = 0.0


@dataclass
class Verification:
    budget: Budget
    quick: object = None  # MemorizationResult of the plan recipe, first seed (None if it crashed)
    quick_error: str = ""
    layers: list = field(default_factory=list)
    artifacts: dict = field(default_factory=dict)  # raw experiment results, by name
    seconds: float = 0.0

    @property
    def verified(self) -> bool:
        return bool(self.layers) and all(layer.passed for layer in self.layers)

    @property
    def failures(self) -> list:
        return [layer for layer in self.layers if not layer.passed]


def quick_block(result, date: str | None = None, error: str = "") -> str:
    """The plan's "Quick Validation Results" block for a memorization run."""
    head = "**Quick Validation Results**" + (f" ({date})" if date else "") + ":"
    if result is None:
        return f"{head}\n- could not run: {error}"
    flow_ok = result.params_with_grad == result.params_total
    return "\n".join([
        head,
        f"- Initial loss: {result.initial_loss:.3f}",
        f"- Final loss: {result.final_loss:.3f}",
        f"- Loss decrease: {result.decrease:.1%}",
        f"- Training time: {result.seconds:.1f}s ({len(result.losses)} steps)",
        f"- Gradient flow: {result.params_with_grad}/{result.params_total} parameters {'✅' if flow_ok else '❌'}",
    ])


def layer_line(layer: LayerResult) -> str:
    mark = "✅" if layer.passed else "❌"
    return f"{mark} {layer.section} {layer.title}: {layer.figure} (threshold: {layer.threshold}) [{layer.seconds:.1f}s]"


def verdict_line(verification: Verification) -> str:
    if verification.verified:
        return "Transformer learning: ✅ VERIFIED"
    failed = ", ".join(f"{layer.key} ({layer.figure})" for layer in verification.failures) or "no layer ran"
    return f"Transformer learning: ❌ NOT VERIFIED: {failed}"


# ----- the layers ----------------------------------------------------------------------------------
def _worst(values, key):
    return max(values, key=key)


def _seeds_note(budget: Budget) -> str:
    return f", worst of seeds {list(budget.seeds)}" if len(budget.seeds) > 1 else ""


def layer_gradients(budget: Budget, ctx: Verification):
    from .gradients import RTOL, run_gradient_checks

    checks, _ = run_gradient_checks(budget.seeds[0])
    ctx.artifacts["gradients"] = checks
    passed = [c for c in checks if c.passed]
    worst = _worst(checks, key=lambda c: c.max_error)
    figure = f"{len(passed)}/{len(checks)} components match (worst relative error {worst.max_error:.1e} in {worst.name})"
    failed = [c for c in checks if not c.passed]
    if failed:
        figure = f"{len(passed)}/{len(checks)} components match; wrong: " + ", ".join(c.name for c in failed)
    return not failed, figure, f"{len(checks)}/{len(checks)}, relative error <= {RTOL:g}"


def _memorization_runs(budget: Budget, ctx: Verification) -> list:
    runs = ctx.artifacts.setdefault("memorization", {})
    for seed in budget.seeds:
        if seed not in runs:
            runs[seed] = run_memorization(seed, PLAN_TRAIN)
    return [runs[s] for s in budget.seeds]


def layer_memorization(budget: Budget, ctx: Verification):
    runs = _memorization_runs(budget, ctx)

    def ok(r) -> bool:
        return (r.decrease > MEMORIZATION_MIN_DECREASE and r.last100_mean < MEMORIZATION_MAX_LAST100
                and r.params_with_grad == r.params_total and not r.has_nonfinite)

    worst = min(runs, key=lambda r: (ok(r), r.decrease))
    figure = (f"{worst.decrease:.1%} decrease ({worst.initial_loss:.3f} -> {worst.final_loss:.3f}), "
              f"last-100 mean {worst.last100_mean:.3f}, gradients {worst.params_with_grad}/{worst.params_total}"
              f"{_seeds_note(budget)}")
    return all(map(ok, runs)), figure, f"> {MEMORIZATION_MIN_DECREASE:.0%}, < {MEMORIZATION_MAX_LAST100}, all parameters"


def layer_convergence(budget: Budget, ctx: Verification):
    runs = [run_memorization(seed, DEFAULT_TRAIN) for seed in budget.seeds]
    ctx.artifacts["convergence"] = runs
    steps = [r.steps_to(0.1) for r in runs]
    worst = math.inf if None in steps else max(steps)
    shown = f"never within {DEFAULT_TRAIN.max_iters} steps" if worst == math.inf else f"{worst} steps"
    figure = f"{shown} to loss 0.1 (batch {DEFAULT_TRAIN.batch_size}, lr {DEFAULT_TRAIN.learning_rate:g}){_seeds_note(budget)}"
    return worst <= CONVERGENCE_MAX_STEPS, figure, f"<= {CONVERGENCE_MAX_STEPS} steps (plan baseline ~300)"


def _scaled(budget: Budget, override, default: int) -> int:
    return int(override) if override is not None else max(2, round(default * budget.scale))


def layer_pattern(budget: Budget, ctx: Verification):
    from .code_model import with_steps
    from .pattern import PATTERN_TRAIN, run_pattern_learning

    train = with_steps(PATTERN_TRAIN, _scaled(budget, budget.pattern_steps, PATTERN_TRAIN.max_iters))
    results = [run_pattern_learning(seed, train) for seed in budget.seeds]
    ctx.artifacts["pattern"] = results
    worst = min(results, key=lambda r: r.accuracy)
    correct = sum(c for *_, c in worst.cases)
    figure = (f"{worst.accuracy:.0%} of unseen-name completions correct ({correct}/{len(worst.cases)}, "
              f"{train.max_iters} steps){_seeds_note(budget)}")
    if getattr(worst, "unseen_args_cases", None):  # reported, not judged: the plan asks for new names only
        figure += (f"; a harder extra measure, outside the verdict: {worst.unseen_args_accuracy:.0%} when the "
                   f"argument names are new as well")
    return worst.accuracy >= PATTERN_MIN_ACCURACY, figure, f">= {PATTERN_MIN_ACCURACY:.0%}"


def layer_generalization(budget: Budget, ctx: Verification):
    from .code_model import with_steps
    from .generalization import GENERALIZATION_TRAIN, run_generalization

    train = with_steps(GENERALIZATION_TRAIN, budget.generalization_steps)
    results = [run_generalization(seed, train) for seed in budget.seeds]
    ctx.artifacts["generalization"] = results
    worst = max(results, key=lambda r: r.ratio)
    figure = (f"held-out/train {worst.ratio:.2f} (held-out {worst.held_out_loss:.3f} / train {worst.train_loss:.3f} "
              f"at step {worst.step} of {train.max_iters}){_seeds_note(budget)}")
    return worst.ratio <= GENERALIZATION_MAX_RATIO, figure, f"<= {GENERALIZATION_MAX_RATIO}"


def _copilots(budget: Budget, ctx: Verification) -> list:
    from .copilot import run_copilot

    runs = ctx.artifacts.setdefault("copilot", {})
    for seed in budget.seeds:
        if seed not in runs:
            runs[seed] = run_copilot(seed, budget.copilot_steps)
    return [runs[s] for s in budget.seeds]


def layer_pipeline(budget: Budget, ctx: Verification):
    runs = _copilots(budget, ctx)
    worst = min(runs, key=lambda r: r.decrease)
    slowest = max(r.seconds for r in runs)
    figure = (f"{worst.decrease:.1%} decrease ({worst.initial_loss:.3f} -> {worst.final_loss:.3f}) in "
              f"{len(worst.train_losses)} steps, {slowest:.1f}s{_seeds_note(budget)}")
    ok = worst.decrease > PIPELINE_MIN_DECREASE and slowest < PIPELINE_MAX_SECONDS
    return ok, figure, f"> {PIPELINE_MIN_DECREASE:.0%} in < {PIPELINE_MAX_SECONDS:.0f}s"


def layer_resume(budget: Budget, ctx: Verification):
    from .resume import RESUME_TRAIN, run_resume

    steps = _scaled(budget, budget.resume_steps, RESUME_TRAIN.max_iters)
    results = [run_resume(seed, steps) for seed in budget.seeds]
    ctx.artifacts["resume"] = results
    bad = [r for r in results if not (r.identical and r.continued_decreasing)]
    worst = bad[0] if bad else max(results, key=lambda r: r.max_abs_diff)
    same = "identical" if worst.identical else f"differ by up to {worst.max_abs_diff:.2g}"
    going = "kept decreasing" if worst.continued_decreasing else "did not keep decreasing"
    figure = (f"resumed run {same} to the uninterrupted one; loss {going} "
              f"({worst.checkpoint_loss:.3f} -> {worst.final_loss:.3f}){_seeds_note(budget)}")
    return not bad, figure, "bit-identical, loss decreasing"


def layer_generation(budget: Budget, ctx: Verification):
    from .copilot import completion_prompts, generation_validity

    rates = []
    for run in _copilots(budget, ctx):
        snippets = list(run.test_snippets) + list(run.train_snippets)
        prompts = completion_prompts(snippets[: budget.prompts] if budget.prompts else snippets)
        rate, cases = generation_validity(run.model, run.tokenizer, prompts)
        rates.append((rate, cases))
    ctx.artifacts["generation"] = rates
    rate, cases = min(rates, key=lambda rc: rc[0])
    valid = sum(v for *_, v in cases)
    figure = f"{rate:.0%} of completions parse ({valid}/{len(cases)}, 5 held-out prompts first){_seeds_note(budget)}"
    return rate >= GENERATION_MIN_VALID, figure, f">= {GENERATION_MIN_VALID:.0%}"


RUNNERS = {
    "gradients": layer_gradients, "memorization": layer_memorization, "pattern": layer_pattern,
    "generalization": layer_generalization, "convergence": layer_convergence, "pipeline": layer_pipeline,
    "resume": layer_resume, "generation": layer_generation,
}


def run_layer(key: str, budget: Budget, ctx: Verification, raise_errors: bool = False) -> LayerResult:
    """Run one layer; an exception inside it is a failed layer naming the error (or re-raised)."""
    section, title = next((s, t) for k, s, t in LAYERS if k == key)
    start = time.perf_counter()
    try:
        passed, figure, threshold = RUNNERS[key](budget, ctx)
    except Exception as exc:
        if raise_errors:
            raise
        passed, figure, threshold = False, f"crashed: {type(exc).__name__}: {exc}", "runs"
    return LayerResult(key, section, title, bool(passed), figure, threshold, time.perf_counter() - start)


def run_verification(budget: Budget = QUICK, only=None, on_quick=None, on_layer=None,
                     raise_errors: bool = False) -> Verification:
    """The quick validation run (plan recipe, first seed), then each layer in `only` (all by default).

    `on_quick(verification)` is called once the block's run is done, `on_layer(layer_result)` after
    each layer, so a caller can print as it goes.
    """
    keys = LAYER_KEYS if only is None else tuple(only)
    unknown = [k for k in keys if k not in RUNNERS]
    if unknown:
        raise ValueError(f"run_verification: unknown layer(s) {unknown}; known: {list(LAYER_KEYS)}")
    ctx = Verification(budget)
    start = time.perf_counter()
    try:
        ctx.quick = _memorization_runs(dataclasses.replace(budget, seeds=budget.seeds[:1]), ctx)[0]
    except Exception as exc:
        if raise_errors:
            raise
        ctx.quick_error = f"{type(exc).__name__}: {exc}"
    quick_seconds = time.perf_counter() - start
    if on_quick is not None:
        on_quick(ctx)
    for key in LAYER_KEYS:
        if key in keys:
            ctx.layers.append(run_layer(key, budget, ctx, raise_errors))
            if key == "memorization":  # its first run was the quick block's
                ctx.layers[-1].seconds += quick_seconds
            if on_layer is not None:
                on_layer(ctx.layers[-1])
    ctx.seconds = time.perf_counter() - start
    return ctx


__all__ = ["Budget", "QUICK", "FULL", "LAYERS", "LAYER_KEYS", "LayerResult", "Verification", "quick_block",
           "layer_line", "verdict_line", "run_layer", "run_verification"]
