"""The data path at corpus scale: preparation time and peak RSS for 1, 10 and 100 MB texts (char and BPE)
next to a nanoGPT-style prepare (read, build the vocabulary, encode to uint16, tofile) in the same run,
and the peak RSS of `tinytorch train` (4 layers, 128 wide) reading the cached ids at two corpus sizes.

    python benchmarks/bench_data_path.py path/to/tinyshakespeare.txt [--sizes 1 10 100] [--repeats 3]

The corpora repeat the given text up to each size (built in a temporary folder at run time). Every
measurement runs in a fresh interpreter, which reports its own peak RSS (ru_maxrss); medians of --repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----- what each child process does ------------------------------------------------------------------
def nanogpt_prepare(text_path: str, out: str) -> None:
    """nanoGPT's shakespeare_char/prepare.py without the train/val split: the baseline."""
    import numpy as np

    with open(text_path, encoding="utf-8") as f:
        data = f.read()
    chars = sorted(set(data))
    stoi = {ch: i for i, ch in enumerate(chars)}
    ids = np.array([stoi[c] for c in data], dtype=np.uint16)
    ids.tofile(out)
    np.memmap(out, dtype=np.uint16, mode="r")


def tinytorch_prepare(text_path: str, out: str, kind: str) -> None:
    from tinytorch.data.sources import TextSource
    from tinytorch.data.token_file import open_tokens
    from tinytorch.data.tokenize_stream import bpe_recipe, char_recipe

    recipe = char_recipe() if kind == "char" else bpe_recipe(1024)
    open_tokens(out, TextSource(text_path), recipe=recipe)


def tinytorch_train(text_path: str, out: str) -> None:
    """`tinytorch train` on the 4-layer/128 model for a few steps, reusing the cache beside `out`."""
    from tinytorch.cli import main

    main(["train", "--data", text_path, "--out", out, "--overwrite", "--no-progress", "--n-layer", "4",
          "--n-head", "4", "--n-embd", "128", "--block-size", "64", "--batch-size", "12", "--steps", "10",
          "--eval-every", "10"])


def child(argv: list) -> None:
    mode, text_path, out = argv[:3]
    import numpy  # noqa: F401  (imports are not preparation: both sides load theirs before the clock starts)

    if mode != "nanogpt":
        import tinytorch.cli.train  # noqa: F401
        import tinytorch.data.token_file  # noqa: F401
    start = time.perf_counter()
    if mode == "nanogpt":
        nanogpt_prepare(text_path, out)
    elif mode == "train":
        with open(os.devnull, "w") as quiet:
            sys.stdout = quiet
            tinytorch_train(text_path, out)
            sys.stdout = sys.__stdout__
    else:
        tinytorch_prepare(text_path, out, mode)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


# ----- the parent ------------------------------------------------------------------------------------
def measure(mode: str, text_path: str, out: str, clean: bool = True) -> dict:
    for path in (out, out + ".json") if clean else ():
        if os.path.exists(path):
            os.remove(path)
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, __file__, "--child", mode, text_path, out], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_corpus(source: str, megabytes: int, folder: str) -> str:
    with open(source, encoding="utf-8") as f:
        text = f.read()
    path = os.path.join(folder, f"corpus-{megabytes}mb.txt")
    target, written = megabytes * 1_000_000, 0
    with open(path, "w", encoding="utf-8") as f:
        while written < target:
            piece = text[: target - written]
            f.write(piece)
            written += len(piece.encode("utf-8"))
    return path


def cpu_line() -> str:
    """The CPU (vendor, model, family/model, max MHz) and numpy's BLAS with its kernel and threads."""
    sys.path.insert(0, REPO)
    from tinytorch.bench.common import blas_kernel, cpu_description

    return f"{cpu_description()}; BLAS: {blas_kernel()}"


def median_of(mode, text, out, repeats, clean: bool = True) -> dict:
    runs = [measure(mode, text, out, clean) for _ in range(repeats)]
    return {k: statistics.median(r[k] for r in runs) for k in ("seconds", "peak_mb")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="a UTF-8 text to repeat into the corpora (e.g. tinyshakespeare)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100], help="corpus sizes in MB")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--bpe-repeats", type=int, default=1, help="runs per BPE measurement (the slow one)")
    args = parser.parse_args()
    import numpy  # noqa: F401  (so threadpoolctl sees its BLAS)

    print(cpu_line())
    print(f"command: python benchmarks/bench_data_path.py {' '.join(sys.argv[1:])}; medians of {args.repeats} "
          f"(BPE: {args.bpe_repeats})")
    with tempfile.TemporaryDirectory() as folder:
        print(f"{'MB':>4} {'what':<22} {'seconds':>8} {'peak RSS MB':>12} {'time vs nanoGPT':>16}")
        for mb in args.sizes:
            text = make_corpus(args.source, mb, folder)
            base = median_of("nanogpt", text, os.path.join(folder, "nanogpt.bin"), args.repeats)
            rows = [("nanoGPT prepare", base),
                    ("tinytorch char", median_of("char", text, os.path.join(folder, "c.tokens"), args.repeats)),
                    ("tinytorch BPE 1024", median_of("bpe", text, os.path.join(folder, "b.tokens"), args.bpe_repeats))]
            for name, r in rows:
                print(f"{mb:>4} {name:<22} {r['seconds']:>8.2f} {r['peak_mb']:>12.0f} "
                      f"{r['seconds'] / base['seconds']:>15.2f}x", flush=True)
            os.remove(text)
        print("\ntraining-time peak RSS, `tinytorch train` 4 layers x 128, block 64, batch 12, 10 steps, cache reused:")
        for mb in (min(args.sizes), max(args.sizes)):
            text = make_corpus(args.source, mb, folder)
            out = os.path.join(folder, f"run{mb}.safetensors")
            measure("train", text, out)  # builds the cache
            r = median_of("train", text, out, args.repeats, clean=False)
            print(f"{mb:>4} MB text: peak RSS {r['peak_mb']:.0f} MB ({r['seconds']:.1f} s)", flush=True)
            os.remove(text)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
    else:
        main()
