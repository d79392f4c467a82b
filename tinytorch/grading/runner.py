"""The grader's parent side: runs the checks in worker processes, with a time and a memory limit.

The parent never imports the implementation. A worker that crashes, hangs past a check's time
limit or runs out of memory fails that check with what was seen; a new worker takes the rest.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time

from .outcome import Outcome

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "worker.py")
LAYOUT_ADAPTER = os.path.join(HERE, "adapters", "tinytorch_layout.py")
STARTUP_SECONDS = 120.0  # importing the implementation (PyTorch takes seconds, more on a busy machine)


def resolve_impl(impl: str) -> dict:
    """{"adapter_file", "impl", "path_first"} for `--impl DIR` or `--impl FILE.py`; ValueError when unusable."""
    path = os.path.abspath(impl)
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "tinytorch", "__init__.py")):
            raise ValueError(f"--impl {impl}: the folder holds no TinyTorch-layout package tinytorch/__init__.py; "
                             f"give the folder that contains tinytorch/, or an adapter FILE.py")
        return {"adapter_file": LAYOUT_ADAPTER, "impl": path, "path_first": [path]}
    if os.path.isfile(path) and path.endswith(".py"):
        return {"adapter_file": path, "impl": None, "path_first": [os.path.dirname(path)]}
    raise ValueError(f"--impl {impl}: no such folder or .py adapter file")


def _limit_memory(megabytes: int):
    def apply():
        import resource

        limit = int(megabytes) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return apply


class Worker:
    """One worker process running `names` in order; yields ("ready"|"start"|"outcome"|"setup_error"|"exit", value)."""

    def __init__(self, config: dict, memory_mb: int, tmp: str):
        self.config_path = os.path.join(tmp, f"config-{time.monotonic_ns()}.json")
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        self.log_path = self.config_path.replace(".json", ".log")
        read_fd, write_fd = os.pipe()
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.setdefault("OMP_NUM_THREADS", "1")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, WORKER, self.config_path, str(write_fd)], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, pass_fds=(write_fd,), env=env,
                                         preexec_fn=_limit_memory(memory_mb) if memory_mb else None)
        os.close(write_fd)
        self.fd, self.pending = read_fd, b""  # our own buffer: a line already read is never waited for again
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.fd, selectors.EVENT_READ)

    def next_event(self, timeout: float):
        """The next JSON event, {"exit": code} when the worker is gone, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            if not self.selector.select(max(0.0, deadline - time.monotonic())):
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return {"exit": self.proc.wait()}
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return json.loads(line)

    def log_tail(self, chars: int = 400) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return ""
        return " ".join(text[-chars:].split())

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.selector.close()
        os.close(self.fd)


def _death(code: int, name: str, limit_mb: int) -> tuple[str, str]:
    if code is not None and code < 0:
        import signal

        sig = signal.Signals(-code).name
        return f"the process was killed by {sig} during {name}", ("out of memory?" if sig == "SIGKILL" else "")
    return f"the process exited with code {code} during {name}", f"memory limit {limit_mb} MB" if limit_mb else ""


def grade(impl: str, checks: list, seed: int = 0, data: dict | None = None, quick: bool = False,
          memory_mb: int = 4096, on_outcome=None, on_ready=None, timeout_scale: float = 1.0) -> list:
    """Run `checks` (registry.Check objects) on the implementation; a list of Outcomes in order."""
    base = resolve_impl(impl)
    outcomes: list = []
    todo = list(checks)
    announced = False
    with tempfile.TemporaryDirectory(prefix="tinytorch-grade-") as tmp:
        while todo:
            config = dict(base, checks=[c.name for c in todo], seed=seed, data=data or {}, quick=quick)
            worker = Worker(config, memory_mb, tmp)
            current, deadline = None, time.monotonic() + STARTUP_SECONDS
            try:
                while todo:
                    event = worker.next_event(max(0.0, deadline - time.monotonic()))
                    if event is None or "exit" in event:
                        check = current or todo[0]
                        if event is None:
                            what = (f"no result after {check.timeout * timeout_scale:.0f}s: killed (a hang, or far too slow)"
                                    if current else f"the implementation did not load within {STARTUP_SECONDS:.0f}s")
                            cause = ("backward visits the graph once per path instead of once per node"
                                     if check.name == "autograd.backward_cost" else "an infinite loop or a runaway computation")
                        else:
                            what, cause = _death(event["exit"], check.name, memory_mb)
                            cause = f"{cause}; output: {worker.log_tail()}".strip("; ")
                        outcome = Outcome(False, what, f"finishes within {check.timeout * timeout_scale:.0f}s", cause,
                                          name=check.name)
                        outcomes.append(outcome)
                        todo.pop(0)
                        if on_outcome:
                            on_outcome(check, outcome)
                        break
                    if "ready" in event and on_ready and not announced:
                        announced = True
                        on_ready(event["ready"])
                    if "start" in event:
                        current = next(c for c in todo if c.name == event["start"])
                        deadline = time.monotonic() + current.timeout * timeout_scale
                    if "outcome" in event:
                        outcome = Outcome(**event["outcome"])
                        outcomes.append(outcome)
                        todo.pop(0)
                        current, deadline = None, time.monotonic() + STARTUP_SECONDS  # the next "start" follows
                        if on_outcome:
                            on_outcome(next(c for c in checks if c.name == outcome.name), outcome)
                    if "done" in event:
                        break
            finally:
                worker.kill()
    return outcomes
