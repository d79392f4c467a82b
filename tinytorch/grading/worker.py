"""The grader's worker process: loads the implementation through its adapter and runs checks.

Run by `runner` as `python worker.py CONFIG.json FD`, never imported by the parent. Results go to
file descriptor FD as JSON lines ({"start": name} then the outcome), so nothing the implementation
prints can be mistaken for a result.
"""

import importlib.util
import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = "tinytorch_grader"  # the grading package's private name here (the implementation may be `tinytorch`)


def load_package():
    spec = importlib.util.spec_from_file_location(PACKAGE, os.path.join(HERE, "__init__.py"),
                                                  submodule_search_locations=[HERE])
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    spec.loader.exec_module(module)
    return module


def load_adapter(config):
    """The adapter instance: the built-in TinyTorch-layout one for a folder, or the file's."""
    path = config["adapter_file"]
    spec = importlib.util.spec_from_file_location("tinytorch_grader_adapter", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    if hasattr(module, "adapter"):
        return module.adapter(config.get("impl"))
    if hasattr(module, "ADAPTER"):
        return module.ADAPTER
    raise TypeError(f"{path} defines neither adapter() nor ADAPTER")


def main(config_path, fd):
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    out = os.fdopen(int(fd), "w", buffering=1)

    def send(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
    for p in reversed(config["path_first"]):
        sys.path.insert(0, p)
    load_package()
    from tinytorch_grader.context import Context
    from tinytorch_grader.outcome import Outcome
    from tinytorch_grader.registry import CHECKS

    try:
        adapter = load_adapter(config)
        setup_error = None
    except BaseException as exc:  # noqa: BLE001: any failure to load is reported, per check
        adapter, setup_error = None, f"could not load the implementation: {type(exc).__name__}: {exc}"
        send({"setup_error": setup_error, "trace": traceback.format_exc()[-2000:]})
    send({"ready": getattr(adapter, "describe", lambda: getattr(adapter, "name", "?"))() if adapter else None})
    ctx = Context(adapter, config["seed"], config.get("data"), config.get("quick", False))
    for name in config["checks"]:
        send({"start": name})
        start = time.perf_counter()
        if setup_error:
            outcome = Outcome(False, setup_error, "the implementation loads", "")
        else:
            try:
                adapter.manual_seed(config["seed"])
                outcome = CHECKS[name].run(ctx)
            except MemoryError:
                outcome = Outcome(False, "ran out of memory (MemoryError)", "within the memory limit",
                                  "a tensor far larger than the model needs: check shapes and broadcasting")
            except BaseException as exc:  # noqa: BLE001: an implementation's crash is a failed check
                tb = traceback.format_exc().strip().splitlines()
                where = next((line.strip() for line in reversed(tb) if line.strip().startswith("File")), "")
                outcome = Outcome(False, f"crashed: {type(exc).__name__}: {str(exc)[:300]}", "runs without an error",
                                  f"at {where}" if where else "")
        outcome.name = name
        outcome.seconds = time.perf_counter() - start
        send({"outcome": outcome.to_json()})
    send({"done": True})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
