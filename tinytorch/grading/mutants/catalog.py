"""The mutation catalog: each bug, the check that must catch it, and how to build the buggy implementation.

`python -m tinytorch.grading.mutants.catalog` grades every mutant and prints the Markdown table of
docs/GRADING.md (the check that caught each bug and its message).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass

from ..registry import CHECKS

# The checks every mutant is graded on (the component layer: a few seconds), plus its own expected check.
BASE_CHECKS = ("ops.elementwise", "ops.unary", "ops.reduce_shape", "ops.indexing", "ops.softmax", "component.linear",
               "component.layer_norm", "component.mlp", "component.attention", "component.masked_attention",
               "component.block", "component.embedding", "component.gpt", "gradient_flow", "loss.cross_entropy",
               "optim.adam", "component.dropout", "data.tokens_targets", "probe.causality", "probe.position")


@dataclass(frozen=True)
class Mutant:
    name: str
    source: str  # "pytorch": a subclass in pytorch_mutants.py; "tinytorch": a patched copy (source_patches.py)
    expected: str  # the check that must fail
    bug: str  # the bug, in a student's words


MUTANTS = [Mutant(*row) for row in [
    ("mask_inverted", "pytorch", "probe.causality", "causal mask inverted (True blocks instead of allows)"),
    ("mask_ignored", "pytorch", "probe.causality", "attention ignores the mask"),
    ("mask_off_by_one", "pytorch", "probe.causality", "causal mask lets each position see one token ahead"),
    ("attention_no_scale", "pytorch", "component.attention", "scores not divided by sqrt(head_dim)"),
    ("attention_scale_by_d", "pytorch", "component.attention", "scores divided by head_dim instead of its root"),
    ("attention_softmax_over_queries", "pytorch", "component.attention", "softmax over the query axis"),
    ("attention_qk_detached", "pytorch", "component.attention", "no gradient through Q and K (uniform attention)"),
    ("heads_split_without_transpose", "pytorch", "component.attention", "heads split by reshape without transpose"),
    ("softmax_no_max_shift", "pytorch", "ops.softmax", "softmax without subtracting the max"),
    ("layernorm_no_division", "pytorch", "component.layer_norm", "LayerNorm without the division by the std"),
    ("layernorm_std_constant", "pytorch", "component.layer_norm", "LayerNorm's std treated as a constant in backward"),
    ("layernorm_unbiased_variance", "pytorch", "component.layer_norm", "LayerNorm with the unbiased variance"),
    ("layernorm_wrong_axis", "pytorch", "component.layer_norm", "LayerNorm normalizes over the batch axis"),
    ("gelu_sigmoid_approximation", "pytorch", "ops.unary", "GELU as x*sigmoid(1.702x)"),
    ("gelu_mixed_approximations", "pytorch", "ops.unary", "GELU forward tanh form, backward sigmoid form"),
    ("block_no_residual", "pytorch", "component.block", "attention residual connection missing"),
    ("block_post_norm", "pytorch", "component.block", "post-norm block where pre-norm is specified"),
    ("broadcast_grad_not_summed", "pytorch", "ops.elementwise", "a broadcast input's gradient not summed back"),
    ("repeated_index_overwritten", "pytorch", "ops.indexing", "repeated-index gradients overwritten, not added"),
    ("embedding_detached", "pytorch", "gradient_flow", "token embedding detached from the graph"),
    ("positions_not_added", "pytorch", "probe.position", "position embeddings not added"),
    ("kv_cache_positions_restart", "pytorch", "generation.cached_vs_full", "KV-cache decoding restarts positions at 0"),
    ("kv_cache_off_by_one", "pytorch", "generation.cached_vs_full", "KV-cache decoding one position ahead"),
    ("adam_no_bias_correction", "pytorch", "optim.adam", "Adam without bias correction"),
    ("zero_grad_forgotten", "pytorch", "optim.adam", "zero_grad does nothing (gradients pile up)"),
    ("cross_entropy_reports_zero", "pytorch", "loss.cross_entropy", "cross-entropy reports 0 (the value is not checked)"),
    ("cross_entropy_no_max_shift", "pytorch", "loss.cross_entropy", "cross-entropy without the max shift"),
    ("cross_entropy_summed", "pytorch", "loss.cross_entropy", "cross-entropy summed over tokens, not averaged"),
    ("targets_not_shifted", "pytorch", "data.tokens_targets", "targets not shifted (the model predicts its input)"),
    ("targets_shifted_wrong_way", "pytorch", "data.tokens_targets", "targets shifted the wrong way"),
    ("checkpoint_without_optimizer", "pytorch", "checkpoint.resume", "checkpoint saves the weights only"),
    ("dropout_not_rescaled", "pytorch", "component.dropout", "dropout survivors not scaled by 1/(1-p)"),
    ("dropout_active_in_eval", "pytorch", "component.dropout", "dropout active in eval mode"),
    ("tinytorch_backward_per_path", "tinytorch", "autograd.backward_cost", "backward visits every path (exponential)"),
    ("tinytorch_broadcast_not_summed", "tinytorch", "ops.elementwise", "unbroadcast keeps the first slice, not the sum"),
    ("tinytorch_index_overwritten", "tinytorch", "ops.indexing", "indexing backward assigns instead of np.add.at"),
    ("tinytorch_kv_positions_restart", "tinytorch", "generation.cached_vs_full",
     "KV cache ignores the cached length for positions"),
]]


def prepare(mutant: Mutant, tmp: str) -> str:
    """Build the buggy implementation under `tmp`; returns what `--impl` takes (a folder or an adapter file)."""
    if mutant.source == "tinytorch":
        from .source_patches import planted_copy

        package = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        return planted_copy(package, mutant.name, os.path.join(tmp, mutant.name))
    path = os.path.join(tmp, f"{mutant.name}.py")
    with open(path, "w", encoding="utf-8") as f:
        f.write("from tinytorch_grader.adapters.pytorch_mutants import MUTANTS\n\n"
                f"ADAPTER = MUTANTS[{mutant.name!r}]()\n")
    return path


def checks_for(mutant: Mutant) -> list:
    names = list(BASE_CHECKS) + ([mutant.expected] if mutant.expected not in BASE_CHECKS else [])
    return [CHECKS[n] for n in names]


def grade_mutant(mutant: Mutant, data: dict) -> list:
    """The outcomes of grading `mutant` on its checks."""
    from ..runner import grade

    with tempfile.TemporaryDirectory(prefix="tinytorch-mutant-") as tmp:
        return grade(prepare(mutant, tmp), checks_for(mutant), data=data)


def table_row(mutant: Mutant, outcomes: list) -> str:
    by_name = {o.name: o for o in outcomes}
    caught = by_name[mutant.expected].passed is False
    expected = by_name[mutant.expected]
    others = [o.name for o in outcomes if o.passed is False and o.name != mutant.expected]
    also = f" (also: {', '.join(others[:3])}{'...' if len(others) > 3 else ''})" if others else ""
    message = expected.measured.replace("|", "\\|")
    return (f"| {mutant.bug} | `{mutant.name}` | {'yes' if caught else '**no**'}: `{mutant.expected}`{also} | "
            f"{message} |")


def main(names=None) -> int:
    from ..data import grading_data

    data = grading_data()
    selected = [m for m in MUTANTS if not names or m.name in names]
    print("| bug | mutant | caught by | the grader's message |")
    print("|---|---|---|---|")
    caught = 0
    for mutant in selected:
        outcomes = grade_mutant(mutant, data)
        caught += next(o for o in outcomes if o.name == mutant.expected).passed is False
        print(table_row(mutant, outcomes), flush=True)
    print(f"\n{caught} of {len(selected)} planted bugs caught by the expected check.")
    return 0 if caught == len(selected) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
