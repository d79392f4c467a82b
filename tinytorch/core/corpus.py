"""TinyTorch's path `tinytorch.core.corpus`: the code lives in `tinytorch.text.corpus`."""

from ..text.corpus import (  # noqa: F401
    ARITHMETIC_OPS, FAMILY_OF, FUNCTION_NAMES, HELD_OUT_NAMES, HELD_OUT_PARAMS, MEMORIZATION_PATTERNS,
    PARAM_PAIRS, SNIPPETS, SNIPPET_FAMILIES, arithmetic_functions, train_test_split,
)
