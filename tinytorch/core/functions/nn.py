"""The older path `tinytorch.core.functions.nn`: the code lives in `tinytorch.core.ops.nn`."""

from ..ops.nn import (  # noqa: F401
    CrossEntropy, Dropout, EmbeddingBackward, LogSoftmax, Softmax, TokenPositionEmbedding,
    log_softmax_array, scatter_rows, softmax_array,
)
