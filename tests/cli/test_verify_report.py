"""`tinytorch verify --report DIR`: a self-contained HTML page with plots, checked in headless Chromium when present."""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import subprocess

import numpy as np
import pytest

from tinytorch.experiments import verification as V
from tinytorch.report import attention_maps, write_report

from cli_helpers import REPO, run_cli

SCREENSHOT = os.path.join(REPO, "scripts", "screenshot_report.sh")
CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
                 if os.path.exists(p)), None)


@pytest.fixture(scope="module")
def copilot_report(tmp_path_factory):
    """A report from a short copilot run (enough for every section; not enough to pass)."""
    budget = dataclasses.replace(V.QUICK, copilot_steps=20, prompts=6)
    verification = V.run_verification(budget, only=["gradients", "pipeline", "generation"])
    folder = tmp_path_factory.mktemp("report")
    return verification, write_report(verification, folder)


def _embedded_pngs(page: str) -> list:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)]


def test_report_has_every_section_with_embedded_plots(copilot_report):
    verification, path = copilot_report
    page = open(path, encoding="utf-8").read()
    for heading in ("Quick validation", "Layers", "Training and validation loss", "Per-parameter gradient norms",
                    "Attention maps", "Sample completions", "Component gradients vs float64 finite differences"):
        assert f">{heading}" in page, heading
    pngs = _embedded_pngs(page)
    assert len(pngs) == 3 and all(p.startswith(b"\x89PNG") for p in pngs)
    for name in ("loss_curves.png", "gradient_norms.png", "attention.png"):
        assert os.path.getsize(os.path.join(os.path.dirname(path), name)) > 1000
    assert "http://" not in page and "https://" not in page  # self-contained: nothing fetched
    assert page.count("<tr>") >= 1 + len(verification.layers) + 6  # layer rows and the 6 completions
    verdict = V.verdict_line(verification).split(":")[0]
    assert verdict in page


def test_attention_maps_are_causal_distributions(copilot_report):
    verification, _ = copilot_report
    run = next(iter(verification.artifacts["copilot"].values()))
    ids = run.tokenizer.encode("def add(a, b):")
    maps = attention_maps(run.model, ids)
    assert len(maps) == run.model.num_layers
    for weights in maps:  # (H, T, T)
        assert weights.shape == (run.model.num_heads, len(ids), len(ids))
        assert abs(weights.sum(axis=-1) - 1).max() < 1e-5
        assert abs(weights[:, 0, 1:]).max() == 0.0  # the first token sees only itself


def test_quick_validation_box_is_rendered_not_raw_markdown(copilot_report):
    _, path = copilot_report
    page = open(path, encoding="utf-8").read()
    box = page.split('<div class="quick">')[1].split("</div>")[0]
    assert "<strong>Quick Validation Results</strong>" in box and "<li>Initial loss:" in box
    assert "**" not in box and "\n- " not in box


def test_plots_have_axis_labels_a_colour_bar_and_readable_ticks(copilot_report):
    from tinytorch.report import plots

    verification, _ = copilot_report
    loss_fig = plots.verification_loss_figure(verification.artifacts)
    for ax in loss_fig.axes:
        assert ax.get_xlabel() == "optimizer step" and "loss" in ax.get_ylabel()
        low, high = ax.get_ylim()
        labels = [t.get_text() for t, v in zip(ax.get_yticklabels(), ax.get_yticks()) if low <= v <= high]
        labels += [t.get_text() for t in ax.get_yticklabels(minor=True)]
        shown = [text for text in labels if text]  # minor ticks carry no label
        assert 2 <= len(shown) <= 8 and all(re.fullmatch(r"[\d.]+", text) for text in shown), shown
    run = next(iter(verification.artifacts["copilot"].values()))
    ids = run.tokenizer.encode("def add(a, b):")
    maps = attention_maps(run.model, ids)
    fig = plots.attention_figure(maps, [run.tokenizer.decode([i]) for i in ids])
    heatmaps = [ax for ax in fig.axes if ax.images]
    colour_bars = [ax for ax in fig.axes if ax.get_ylabel() == "attention probability"]
    assert len(heatmaps) == len(maps) * maps[0].shape[0] and len(colour_bars) == 1
    assert all(t.get_fontsize() >= 8 for ax in heatmaps for t in ax.get_xticklabels())


def test_attention_maps_are_the_models_own(copilot_report):
    verification, _ = copilot_report
    run = next(iter(verification.artifacts["copilot"].values()))
    ids = run.tokenizer.encode("def add(a, b):")
    run.model.eval()
    _, weights = run.model(np.asarray([ids]), return_attention=True)
    maps = attention_maps(run.model, ids)
    assert len(maps) == len(weights) == len(run.model.blocks)  # one map per block, none dropped by zip
    for ours, theirs in zip(maps, weights):
        np.testing.assert_array_equal(ours, np.asarray(theirs)[0])


def test_verify_report_flag_writes_the_page(capsys, tmp_path):
    code, _, err = run_cli(capsys, "verify", "--only", "gradients", "--report", tmp_path / "r")
    assert code == 0
    page = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Transformer learning" in page and "VERIFIED" in page
    assert "which this run skipped" in page  # copilot sections absent, and it says so
    assert f"report: {tmp_path / 'r' / 'index.html'}" in err


def test_report_into_a_file_path_is_a_user_error(capsys, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    code, _, err = run_cli(capsys, "verify", "--only", "gradients", "--report", target)
    assert code == 2 and "not a directory" in err


def test_screenshot_script_without_a_page_exits_2(tmp_path):
    result = subprocess.run(["bash", SCREENSHOT, str(tmp_path / "nothing")], capture_output=True, text=True)
    assert result.returncode == 2 and "no report page" in result.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed; scripts/screenshot_report.sh needs it")
@pytest.mark.slow
def test_report_renders_in_headless_chromium(copilot_report, tmp_path):
    _, path = copilot_report
    shot = tmp_path / "shot.png"
    result = subprocess.run(["bash", SCREENSHOT, path, str(shot), "1000x1400"], capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG")
    from matplotlib.image import imread

    pixels = imread(str(shot))
    assert pixels.shape[:2] == (1400, 1000)
    assert pixels[..., :3].std() > 0.05, "the screenshot is blank"

