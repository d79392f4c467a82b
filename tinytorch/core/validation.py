"""The argument checks of the public boundary, in one import: `checks`' helpers plus `as_tensor`.

`checks` knows nothing of tensors (the engine's lowest modules use it); `as_tensor`, the one
coercion to a Tensor, lives beside the Tensor class. Layers above the engine import both from here.
"""

from .checks import (  # noqa: F401
    as_token_ids, check_axis, check_bool, check_broadcast, check_choice, check_dtype, check_float, check_int,
    check_mask, check_texts, describe, format_id,
)
from .tensor import as_tensor  # noqa: F401
