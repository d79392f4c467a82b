"""`tinytorch verify`: the plan's block, per-layer lines, and failure when a layer is broken.

Broken layers come from a Function's backward monkeypatched in the test only (undone afterwards).
"""

from __future__ import annotations

import dataclasses
import importlib
import re

import numpy as np
import pytest

from tinytorch.experiments import verification as V

from cli_helpers import assert_one_line_error, run_cli

CHEAP = "gradients,memorization,convergence"


def _block_lines(out: str) -> list:
    start = out.index("**Quick Validation Results**")
    return out[start:].splitlines()[:6]


def test_verify_prints_the_plans_block_layers_and_verdict(capsys):
    code, out, err = run_cli(capsys, "verify", "--only", CHEAP)
    assert code == 0, out + err
    block = _block_lines(out)
    assert re.fullmatch(r"\*\*Quick Validation Results\*\* \(\d{4}-\d\d-\d\d\):", block[0])
    assert re.fullmatch(r"- Initial loss: \d+\.\d{3}", block[1])
    assert re.fullmatch(r"- Final loss: \d+\.\d{3}", block[2])
    assert re.fullmatch(r"- Loss decrease: \d+\.\d%", block[3])
    assert re.fullmatch(r"- Training time: \d+\.\ds \(500 steps\)", block[4])
    assert block[5] == "- Gradient flow: 21/21 parameters ✅"
    initial, final = float(block[1].split(": ")[1]), float(block[2].split(": ")[1])
    assert final < 0.2 * initial
    lines = [line for line in out.splitlines() if line.startswith(("✅", "❌"))]
    assert [line.split()[1] for line in lines] == ["1.2", "2.1", "4.3"]
    assert all(line.startswith("✅") and "threshold:" in line for line in lines), lines
    assert "8/8 components match" in lines[0]
    steps = int(re.search(r"(\d+) steps to loss 0.1", lines[2]).group(1))
    assert steps <= 150
    assert out.rstrip().splitlines()[-1] == "Transformer learning: ✅ VERIFIED"


def _patch_backward(monkeypatch, module: str, cls: str, transform):
    """Replace Function `cls`'s backward by transform(original grads) for this test only."""
    target = getattr(importlib.import_module(module), cls)
    original = target.backward

    def wrong(self, grad):
        return transform(original(self, grad))

    monkeypatch.setattr(target, "backward", wrong)


def test_wrong_gelu_gradient_fails_the_gradient_layer(capsys, monkeypatch):
    _patch_backward(monkeypatch, "tinytorch.core.functions.elementwise", "GELU", lambda g: tuple(
        None if x is None else 1.1 * x for x in (g if isinstance(g, tuple) else (g,))))
    code, out, _ = run_cli(capsys, "verify", "--only", "gradients")
    assert code == 1
    line = next(line for line in out.splitlines() if " 1.2 " in line)
    assert line.startswith("❌")
    assert "GELU" in line and "MLP" in line and "TransformerBlock" in line and "GPT" in line
    assert "Linear," not in line and "LayerNorm" not in line  # the components without GELU still pass
    assert out.rstrip().splitlines()[-1].startswith("Transformer learning: ❌ NOT VERIFIED: gradients")


def test_sign_flipped_linear_weight_gradient_fails_memorization(capsys, monkeypatch):
    """Gradient ascent on every Linear weight: the 1-layer GPT cannot memorize the five patterns."""
    _patch_backward(monkeypatch, "tinytorch.core.functions.matmul", "Linear",
                    lambda g: (g[0], None if g[1] is None else -g[1], *g[2:]))
    code, out, _ = run_cli(capsys, "verify", "--only", "memorization")
    assert code == 1
    line = next(line for line in out.splitlines() if " 2.1 " in line)
    assert line.startswith("❌")
    decrease = float(re.search(r"(-?\d+\.\d)% decrease", line).group(1))
    assert decrease < 80.0
    assert "NOT VERIFIED: memorization" in out


def test_a_crashing_layer_is_a_failed_layer_not_a_crash(monkeypatch):
    def broken(self, grad):
        raise RuntimeError("injected failure")

    monkeypatch.setattr(importlib.import_module("tinytorch.core.functions.normalization").LayerNorm, "backward", broken)
    result = V.run_layer("gradients", V.QUICK, V.Verification(V.QUICK))
    assert not result.passed
    assert "LayerNorm" in result.figure


@pytest.mark.slow
def test_default_run_verifies_every_layer(capsys):
    """`tinytorch verify` as a user runs it: eight layers, all passing (about 6 s on an idle machine)."""
    code, out, _ = run_cli(capsys, "verify")
    lines = [line for line in out.splitlines() if line.startswith(("✅", "❌"))]
    assert [line.split()[1] for line in lines] == ["1.2", "2.1", "2.2", "2.3", "4.3", "5.1", "5.2", "5.3"]
    assert code == 0, "\n".join(line for line in lines if line.startswith("❌"))
    assert out.rstrip().splitlines()[-1] == "Transformer learning: ✅ VERIFIED"


@pytest.mark.slow
def test_layers_fail_when_their_budget_is_too_small():
    """The training layers report failure, not success, when the model had no time to learn."""
    tiny = dataclasses.replace(V.QUICK, pattern_steps=2, copilot_steps=2, generalization_steps=None, prompts=5)
    ctx = V.Verification(tiny)
    pattern = V.run_layer("pattern", tiny, ctx)
    pipeline = V.run_layer("pipeline", tiny, ctx)
    assert not pattern.passed and "of unseen-name completions correct" in pattern.figure, pattern.figure
    assert "outside the verdict" in pattern.figure and "when the argument names are new as well" in pattern.figure
    assert not pipeline.passed and "decrease" in pipeline.figure, pipeline.figure


def test_unknown_layer_is_a_user_error(capsys):
    code, _, err = run_cli(capsys, "verify", "--only", "gradients,bogus")
    assert code == 2
    assert_one_line_error(err, "bogus", "gradients")


def test_negative_seed_is_a_user_error(capsys):
    code, _, err = run_cli(capsys, "verify", "--seed", "-1")
    assert code == 2
    assert_one_line_error(err, "--seed")


def test_write_plan_replaces_only_the_status_block(capsys, tmp_path):
    plan = tmp_path / "PLAN.md"
    plan.write_text("# Plan\n\nintro\n<!-- status:start -->\nold status\n<!-- status:end -->\n\n## Layer 1\n",
                    encoding="utf-8")
    code, _, _ = run_cli(capsys, "verify", "--only", "gradients", "--write-plan", plan)
    assert code == 0
    text = plan.read_text(encoding="utf-8")
    assert text.startswith("# Plan\n\nintro\n<!-- status:start -->\n**Quick Validation Results**")
    assert "old status" not in text
    assert text.endswith("<!-- status:end -->\n\n## Layer 1\n")
    assert "Transformer learning: ✅ VERIFIED" in text and "1.2 Component gradients" in text
    code, _, _ = run_cli(capsys, "verify", "--only", "gradients", "--write-plan", plan)
    assert plan.read_text(encoding="utf-8").count("<!-- status:start -->") == 1


def test_write_plan_with_one_marker_is_a_user_error(capsys, tmp_path):
    plan = tmp_path / "PLAN.md"
    plan.write_text("<!-- status:start -->\nno end marker\n", encoding="utf-8")
    code, _, err = run_cli(capsys, "verify", "--only", "gradients", "--write-plan", plan)
    assert code == 2
    assert_one_line_error(err, "markers")
    assert plan.read_text(encoding="utf-8") == "<!-- status:start -->\nno end marker\n"


def test_gradient_checks_detect_a_small_error(monkeypatch):
    """A 1% error in one backward is far above the float64 tolerance."""
    from tinytorch.experiments.gradients import run_gradient_checks

    _patch_backward(monkeypatch, "tinytorch.core.functions.normalization", "LayerNorm",
                    lambda g: tuple(None if x is None else x * 1.01 for x in g))
    checks, _ = run_gradient_checks()
    failed = {c.name for c in checks if not c.passed}
    assert failed == {"LayerNorm", "TransformerBlock", "GPT"}, failed
    assert all(np.isfinite(c.max_error) for c in checks)
