"""Alias of `tinytorch.core.corpus` (the bundled Python-snippet corpus) under its older `tinytorch.data` path."""

from ..text.corpus import (  # noqa: F401
    ARITHMETIC_OPS, FAMILY_OF, FUNCTION_NAMES, HELD_OUT_NAMES, HELD_OUT_PARAMS, MEMORIZATION_PATTERNS, PARAM_PAIRS,
    SNIPPET_FAMILIES, SNIPPETS, arithmetic_functions, train_test_split,
)
from ..text.corpus import __all__  # noqa: F401
