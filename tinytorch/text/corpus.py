"""A small bundled corpus of short Python snippets (each fits a 64-token character window) for training tests.

Families: functions, loops, conditionals, lists, strings; plus the test plan's memorisation patterns,
a family-aware train/test split, and a generator of arithmetic functions for the pattern-learning test.
"""

from __future__ import annotations

import keyword

import numpy as np

#: The test plan's five memorisation patterns (section 2.1), with real newlines.
MEMORIZATION_PATTERNS = [
    "def add(a, b):\n    return a + b",
    "def sub(a, b):\n    return a - b",
    "for i in range(10):\n    print(i)",
    "if x > 0:\n    print('positive')",
    "numbers = [1, 2, 3, 4, 5]",
]

SNIPPET_FAMILIES = {
    "functions": [
        "def add(a, b):\n    return a + b",
        "def sub(a, b):\n    return a - b",
        "def mul(a, b):\n    return a * b",
        "def div(a, b):\n    return a / b",
        "def mod(a, b):\n    return a % b",
        "def power(a, b):\n    return a ** b",
        "def square(x):\n    return x * x",
        "def cube(x):\n    return x * x * x",
        "def double(n):\n    return n * 2",
        "def half(n):\n    return n / 2",
        "def negate(x):\n    return -x",
        "def average(a, b):\n    return (a + b) / 2",
        "def is_even(n):\n    return n % 2 == 0",
        "def maximum(a, b):\n    return a if a > b else b",
    ],
    "loops": [
        "for i in range(10):\n    print(i)",
        "for i in range(5):\n    print(i * i)",
        "for i in range(1, 11):\n    print(i)",
        "for x in range(0, 20, 2):\n    print(x)",
        "for i in range(3):\n    print('hello')",
        "for x in items:\n    print(x)",
        "for c in text:\n    print(c)",
        "for i, x in enumerate(items):\n    print(i, x)",
        "for k in d:\n    print(k, d[k])",
        "for key, value in d.items():\n    print(key)",
        "total = 0\nfor n in nums:\n    total += n",
        "while n > 0:\n    n -= 1",
        "count = 0\nwhile count < 5:\n    count += 1",
    ],
    "conditionals": [
        "if x > 0:\n    print('positive')",
        "if x < 0:\n    print('negative')",
        "if x == 0:\n    print('zero')",
        "if n % 2 == 0:\n    print('even')",
        "if a > b:\n    m = a",
        "if not items:\n    print('empty')",
        "if x in items:\n    print('found')",
        "if len(s) > 3:\n    print(s)",
        "if x is None:\n    x = 0",
        "if a and b:\n    print('both')",
        "if a or b:\n    print('either')",
        "y = 1 if x > 0 else 0",
        "sign = 1 if x >= 0 else -1",
    ],
    "lists": [
        "numbers = [1, 2, 3, 4, 5]",
        "letters = ['a', 'b', 'c']",
        "squares = [x * x for x in range(10)]",
        "evens = [n for n in nums if n % 2 == 0]",
        "items = []\nitems.append(1)",
        "nums = [3, 1, 2]\nnums.sort()",
        "first = items[0]",
        "last = items[-1]",
        "middle = items[1:-1]",
        "total = sum(numbers)",
        "biggest = max(numbers)",
        "size = len(items)",
        "pairs = list(zip(a, b))",
        "items.reverse()",
    ],
    "strings": [
        "name = 'world'\nprint('hello ' + name)",
        "s = 'hello'\nprint(s.upper())",
        "words = text.split()",
        "line = ', '.join(words)",
        "parts = 'a,b,c'.split(',')",
        "title = name.title()",
        "clean = text.strip()",
        "lower = text.lower()",
        "rev = s[::-1]",
        "greeting = 'hi' * 3",
        "n = len('python')",
        "s = s.replace('a', 'b')",
        "print(f'{name} is {age}')",
        "if s.startswith('#'):\n    print(s)",
    ],
}

#: Every snippet, family by family.
SNIPPETS = [s for family in SNIPPET_FAMILIES.values() for s in family]

#: The family each bundled snippet belongs to.
FAMILY_OF = {s: name for name, family in SNIPPET_FAMILIES.items() for s in family}


def train_test_split(snippets=None, n_test: int = 5, seed: int = 0):
    """Hold out `n_test` whole snippets; returns `(train, test)`, each in the input's order.

    Held-out snippets are drawn round-robin over the families (a snippet not in the bundled corpus
    is its own family "other"), never taking a family's last training snippet, so every family
    stays in training. Every copy of a held-out snippet leaves training. The split uses its own
    generator seeded with `seed`, so it does not depend on `tinytorch.manual_seed`.
    """
    snippets = list(SNIPPETS if snippets is None else snippets)
    for i, s in enumerate(snippets):
        if not isinstance(s, str):
            raise TypeError(f"train_test_split: snippet {i} is a {type(s).__name__}, not a str")
    if not isinstance(n_test, int) or isinstance(n_test, bool):
        raise TypeError(f"train_test_split: n_test must be an int, got {type(n_test).__name__}")
    groups: dict = {}
    for s in dict.fromkeys(snippets):  # unique, in order
        groups.setdefault(FAMILY_OF.get(s, "other"), []).append(s)
    available = sum(len(g) - 1 for g in groups.values())
    if not 0 <= n_test <= available:
        raise ValueError(f"train_test_split: n_test={n_test} must be in [0, {available}] for "
                         f"{sum(map(len, groups.values()))} distinct snippets in {len(groups)} families "
                         f"(each family keeps one in training)")
    rng = np.random.default_rng(seed)
    names = sorted(groups)
    names = [names[i] for i in rng.permutation(len(names))]
    pools = {name: [groups[name][i] for i in rng.permutation(len(groups[name]))] for name in names}
    held = set()
    while len(held) < n_test:
        for name in names:
            if len(held) < n_test and len(pools[name]) > 1:
                held.add(pools[name].pop())
    train = [s for s in snippets if s not in held]
    test = [s for s in dict.fromkeys(snippets) if s in held]
    return train, test


#: Function names for the pattern-learning test's training set, and names it never trains on.
FUNCTION_NAMES = (
    "add", "sub", "mul", "calc", "compute", "apply", "combine", "blend", "mix", "step",
    "f", "g", "h", "op", "fold", "scale", "shift", "score", "join_nums", "update",
)
HELD_OUT_NAMES = ("total", "result", "evaluate", "merge", "handle")

#: Argument-name pairs for training, and pairs held out (made of characters that training uses).
PARAM_PAIRS = (
    ("a", "b"), ("x", "y"), ("m", "n"), ("p", "q"), ("u", "v"), ("i", "j"), ("s", "t"),
    ("left", "right"), ("first", "second"), ("num1", "num2"),
)
HELD_OUT_PARAMS = (("c", "d"), ("e", "f"), ("lo", "hi"))

ARITHMETIC_OPS = ("+", "-", "*")
_ALLOWED_OPS = ("+", "-", "*", "/", "//", "%", "**")


def _check_identifier(name, what: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"arithmetic_functions: {what} {name!r} is not a valid Python identifier")


def arithmetic_functions(names=None, ops=None, seed: int = 0, params=None) -> list[str]:
    """One `def <name>(<p>, <q>):\\n    return <p> <op> <q>` per (name, op), names outer, ops inner.

    The argument pair of each snippet is drawn from `params` by a generator seeded with `seed`.
    Defaults: `FUNCTION_NAMES`, `ARITHMETIC_OPS`, `PARAM_PAIRS`; pass `HELD_OUT_NAMES` and
    `HELD_OUT_PARAMS` for the unseen-name completions.
    """
    names = list(FUNCTION_NAMES if names is None else names)
    ops = list(ARITHMETIC_OPS if ops is None else ops)
    params = [tuple(p) for p in (PARAM_PAIRS if params is None else params)]
    if not names or not ops or not params:
        raise ValueError(f"arithmetic_functions: names, ops and params must be non-empty, got "
                         f"{len(names)} names, {len(ops)} ops, {len(params)} param pairs")
    for n in names:
        _check_identifier(n, "function name")
    for op in ops:
        if op not in _ALLOWED_OPS:
            raise ValueError(f"arithmetic_functions: op {op!r} is not one of {_ALLOWED_OPS}")
    for pair in params:
        if len(pair) != 2 or pair[0] == pair[1]:
            raise ValueError(f"arithmetic_functions: a param pair needs two distinct names, got {pair!r}")
        for p in pair:
            _check_identifier(p, "parameter name")
    rng = np.random.default_rng(seed)
    out = []
    for name in names:
        for op in ops:
            p, q = params[int(rng.integers(len(params)))]
            out.append(f"def {name}({p}, {q}):\n    return {p} {op} {q}")
    return out


__all__ = ["SNIPPETS", "SNIPPET_FAMILIES", "FAMILY_OF", "MEMORIZATION_PATTERNS", "train_test_split",
           "arithmetic_functions", "FUNCTION_NAMES", "HELD_OUT_NAMES", "PARAM_PAIRS", "HELD_OUT_PARAMS",
           "ARITHMETIC_OPS"]
