"""SIGTERM stops `tinytorch train` like Ctrl-C (save, say so, print the resume command); an interrupt
before anything was saved says only that, and start-up interrupts print no traceback."""

import os
import signal
import time

from faults_helpers import run, start, text_file


def _wait_for_line(proc, fragment: str) -> str:
    for line in proc.stdout:
        if fragment in line:
            return line
    raise AssertionError(f"{fragment!r} never printed; stderr: {proc.stderr.read()}")


def test_sigterm_saves_and_prints_the_resume_command(tmp_path):
    data, out = text_file(tmp_path), tmp_path / "m.safetensors"
    proc = start("train", "--data", data, "--out", out, "--steps", "100000", "--eval-every", "100000", "--no-progress")
    _wait_for_line(proc, "training a")
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM) at step" in rest and f"--resume {out}" in rest, rest
    assert out.exists()
    resumed = run("train", "--data", data, "--resume", out, "--steps", "100000", "--eval-every", "100000",
                  "--no-progress", "--help")  # the printed command parses
    assert resumed.returncode == 0


def test_interrupt_before_the_first_save_claims_no_checkpoint(tmp_path):
    data, out = text_file(tmp_path), tmp_path / "m.safetensors"
    # --eval-every large: the only save is the one on interrupt; an interrupt during start-up saves nothing
    for delay in (1.0, 1.6, 2.5):  # after the interpreter and the package imports
        proc = start("train", "--data", data, "--out", out, "--steps", "100000", "--no-progress", "--overwrite")
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        stdout, err = proc.communicate(timeout=60)
        assert "Traceback" not in err and "Traceback" not in stdout, err
        assert proc.returncode == 130, (stdout, err)
        if "--resume" in stdout:  # it names a checkpoint only when one was written
            assert out.exists(), stdout
        else:
            assert "interrupted" in stdout + err
        if out.exists():
            os.remove(out)
