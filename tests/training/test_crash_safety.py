"""SIGKILL during save_checkpoint: the path always holds one complete checkpoint; stray temp files are harmless.

Policy (docs/RELIABILITY.md): a killed writer may leave `.<name>.<hex>.tmp` beside the checkpoint. Nothing
reads them, later saves are unaffected, and they may be deleted at any time no writer is running.
"""

import os
import random
import signal
import time

import numpy as np
import pytest

from tinytorch.training.checkpoint import load_checkpoint, save_checkpoint
from tinytorch.nn.layers import Module, Parameter

KILLS = 30


class Big(Module):
    """About 6 MB of float32 weights in four tensors, so a write takes long enough to be interrupted."""

    def __init__(self):
        super().__init__()
        for i, shape in enumerate([(512, 1024), (1024, 512), (256, 1024), (1024, 256)]):
            setattr(self, f"w{i}", Parameter(np.zeros(shape, dtype=np.float32)))

    def fill(self, version: int) -> None:
        for i, p in enumerate(self.parameters()):
            p.data[...] = version + i  # every tensor differs, so a mixed-up file cannot pass


def check_complete(path, model) -> int:
    """Load `path` into `model`; it must be one whole version. Returns that version."""
    meta = load_checkpoint(path, model)
    version = meta["step"]
    assert meta["extra"] == {"version": version}
    for i, p in enumerate(model.parameters()):
        assert np.all(p.data == version + i), f"tensor {i} of version {version} is not intact"
    return version


def writer(path, model, start: int) -> None:
    """Child process: save versions start, start+1, ... until killed."""
    try:
        version = start
        while True:
            model.fill(version)
            save_checkpoint(path, model, step=version, extra={"version": version})
            version += 1
    except BaseException:
        os._exit(3)
    os._exit(4)


def temp_files(directory, name):
    return sorted(f for f in os.listdir(directory) if f.startswith(f".{name}.") and f.endswith(".tmp"))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sigkill_during_save_never_corrupts_the_checkpoint(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    model, reader = Big(), Big()
    model.fill(0)
    save_checkpoint(path, model, step=0, extra={"version": 0})
    rng = random.Random(1234)
    last, torn_temps, whole_temps, kills_with_temp = 0, 0, 0, 0
    deadline = time.monotonic() + 20
    for kill in range(KILLS):
        pid = os.fork()
        if pid == 0:
            writer(path, model, last + 1)
        # Varied moments: right at the start of the first write, and spread over a few writes.
        delay = [rng.choice([0.0, 0.002, 0.01]), rng.uniform(0.005, 0.1), rng.uniform(0.05, 0.15), rng.uniform(0.15, 0.4)]
        time.sleep(delay[kill % 4])
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, f"writer failed: {status}"

        version = check_complete(path, reader)  # the old complete checkpoint or a newer complete one
        assert version >= last, f"checkpoint went back from version {last} to {version}"
        last = version
        leftovers = temp_files(tmp_path, "ckpt.safetensors")
        kills_with_temp += bool(leftovers)
        for name in leftovers:  # a torn temp is rejected cleanly; an unrenamed whole one is a valid file
            try:
                check_complete(tmp_path / name, reader)
                whole_temps += 1
            except ValueError as exc:
                assert name in str(exc)
                torn_temps += 1
            os.remove(tmp_path / name)
        assert time.monotonic() < deadline, "crash test ran too long"

    assert last > 0, "no write ever completed: the delays never let the writer finish one"
    assert kills_with_temp > 0, "no kill landed mid-write: the test did not exercise a torn write"
    assert torn_temps + whole_temps >= kills_with_temp


def test_stray_temp_files_do_not_disturb_saving_or_loading(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    model = Big()
    model.fill(1)
    save_checkpoint(path, model, step=1, extra={"version": 1})
    data = path.read_bytes()
    # Leftovers of killed writers: torn, empty, and complete-but-never-renamed.
    (tmp_path / ".ckpt.safetensors.aaaa.tmp").write_bytes(data[: len(data) // 2])
    (tmp_path / ".ckpt.safetensors.bbbb.tmp").write_bytes(b"")
    (tmp_path / ".ckpt.safetensors.cccc.tmp").write_bytes(data)
    assert check_complete(path, Big()) == 1
    model.fill(2)
    save_checkpoint(path, model, step=2, extra={"version": 2})
    assert check_complete(path, Big()) == 2
    assert len(temp_files(tmp_path, "ckpt.safetensors")) == 3  # the writer never touches others' temps
    with pytest.raises(ValueError, match="aaaa"):
        load_checkpoint(tmp_path / ".ckpt.safetensors.aaaa.tmp", Big())
