"""Peak RSS of the `tinytorch` command against the size of its inputs: the corpus `train` reads, the prompt
`generate` is given and the number of tokens it generates. Memory must follow the work, not the input.

    python benchmarks/bench_memory_inputs.py path/to/tinyshakespeare.txt [--corpus-mb 1 10 100] [--repeats 3]

The corpora repeat the given text up to each size, the prompts repeat it up to each length (in a temporary
folder built at run time). Each figure is one fresh `tinytorch` process, measured by the kernel (the child's
own ru_maxrss, read with os.wait4); medians of --repeats, except corpora of 100 MB and more (run once).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MB = 1_000_000
PROMPT_BYTES = (1_000, 64_000, 1 * MB, 16 * MB)
NEW_TOKENS = (100, 1000, 5000)
PARTS = ("corpus", "prompt", "length")
# The model every run uses: nanoGPT's CPU shape (4 layers, 128 wide, context 64), char tokenizer.
MODEL = ["--n-layer", "4", "--n-head", "4", "--n-embd", "128", "--block-size", "64", "--batch-size", "12"]


def repeat_text(text: bytes, size: int, path: str) -> str:
    """Write `text` repeated (and cut at a line end) to exactly about `size` bytes; returns the path."""
    with open(path, "wb") as f:
        written = 0
        while written < size:
            chunk = text[: size - written]
            if len(chunk) < len(text):  # end on a whole line, so the last character is never half of one
                chunk = chunk[: chunk.rfind(b"\n") + 1] or chunk
            f.write(chunk)
            written += len(chunk)
    return path


def measure(args: list) -> tuple:
    """(peak RSS in MB, seconds) of one `tinytorch ARGS` process; its output is discarded."""
    env = {**os.environ, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "tinytorch.cli", *args], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not the maximum over all children
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"tinytorch {' '.join(args[:1])} failed ({child.returncode}): {stderr.decode()[-600:]}")
    return usage.ru_maxrss / 1024, seconds  # Linux reports kilobytes


def median_of(args: list, repeats: int) -> tuple:
    runs = [measure(args) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def row(what: str, size: str, rss: float, seconds: float, base: float) -> None:
    print(f"| {what} | {size} | {rss:.0f} | {rss / base:.2f}x | {seconds:.1f} |", flush=True)


def machine() -> str:
    """The CPU (model name, family/model), the BLAS kernel numpy uses and its threads."""
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}
    except (OSError, subprocess.CalledProcessError):
        pass
    blas = "unknown BLAS"
    try:
        import numpy  # noqa: F401  (threadpoolctl lists only libraries already loaded)
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            blas = f"{p.get('internal_api')} {p.get('version')} ({p.get('architecture')} kernel, {p.get('num_threads')} threads)"
    except ImportError:
        pass
    return (f"CPU: {info.get('Model name', '?')} (family {info.get('CPU family', '?')} model {info.get('Model', '?')}), "
            f"{os.cpu_count()} CPUs; BLAS: {blas}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("text", help="a UTF-8 text to repeat into corpora and prompts (e.g. tinyshakespeare)")
    parser.add_argument("--corpus-mb", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS),
                        help="what to measure (the prompt and length parts train a 1 MB model first)")
    args = parser.parse_args(argv)
    with open(args.text, "rb") as f:
        text = f.read()
    print(machine())
    print(f"Command: python benchmarks/bench_memory_inputs.py {args.text} --corpus-mb "
          f"{' '.join(map(str, args.corpus_mb))} --repeats {args.repeats} --parts {' '.join(args.parts)}\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        base, _ = median_of(["--version"], args.repeats)  # the interpreter, numpy and tinytorch imported
        print(f"`tinytorch --version` (imports only): {base:.0f} MB; ratios below are against it\n")
        print("| what | input | peak RSS MB | vs imports | seconds |\n|---|---:|---:|---:|---:|")
        ckpt = os.path.join(tmp, "model.safetensors")
        corpora = args.corpus_mb if "corpus" in args.parts else [1]
        for mb in corpora:
            corpus = repeat_text(text, mb * MB, os.path.join(tmp, f"corpus-{mb}.txt"))
            run = ["train", "--data", corpus, "--out", ckpt, "--overwrite", "--no-progress", "--max-iters", "5",
                   "--eval-interval", "5", "--eval-iters", "2", *MODEL]
            # The first run tokenizes the corpus into its cache; the ones after reuse it (both are measured).
            first = measure(run)
            if "corpus" not in args.parts:
                break  # only the model the generate runs read
            row("train --max-iters 5, first run (tokenizes)", f"{mb} MB corpus", *first, base)
            if mb < 100 and args.repeats > 1:
                row("train --max-iters 5, cache reused", f"{mb} MB corpus", *median_of(run, args.repeats), base)
            os.remove(corpus)
            for name in os.listdir(tmp):  # the token cache beside the checkpoint: one corpus at a time on disk
                if name.endswith(".tokens") or name.endswith(".tokens.json"):
                    os.remove(os.path.join(tmp, name))
        for size in PROMPT_BYTES if "prompt" in args.parts else ():
            prompt = repeat_text(text, size, os.path.join(tmp, "prompt.txt"))
            run = ["generate", ckpt, "--prompt-file", prompt, "--max-new-tokens", "20", "--seed", "0"]
            row("generate --max-new-tokens 20", f"{size / 1000:g} KB prompt", *median_of(run, args.repeats), base)
        for n in NEW_TOKENS if "length" in args.parts else ():
            run = ["generate", ckpt, "--prompt", "ROMEO:", "--max-new-tokens", str(n), "--seed", "0"]
            row("generate, 6-character prompt", f"{n} new tokens", *median_of(run, args.repeats), base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
