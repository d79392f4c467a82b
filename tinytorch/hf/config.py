"""GPT2Config (Hugging Face's config.json) to and from our GPTConfig, read like an untrusted file.

Our GPT is GPT-2's architecture: pre-norm blocks, learned positions, tanh GELU ("gelu_new"),
attention scaled by 1/sqrt(head_dim), a head without bias (tied to the embedding or not).
"""

from __future__ import annotations

import json

from ..nn.config import GPTConfig
from ..runtime.fileio import short_list
from ..runtime.fileread import read_utf8_text

#: GPT-2's activations that are the tanh form of GELU, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), which
#: ours computes (transformers' gelu_fast and gelu_accurate write the same function another way).
TANH_GELU = ("gelu_new", "gelu_pytorch_tanh", "gelu_python_tanh", "gelu_fast", "gelu_accurate")
#: config.json switches that change the computation in ways our GPT does not implement, with the
#: value under which the computation is ours. reorder_and_upcast_attn only computes attention in float32,
#: which ours always does, so both of its values are ours.
_REQUIRED_VALUES = {"scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False, "add_cross_attention": False}
_SWITCHES = (*_REQUIRED_VALUES, "reorder_and_upcast_attn", "tie_word_embeddings")
MAX_CONFIG_BYTES = 1 << 20  # a GPT-2 config.json is about 1 KB


def gpt2_config(config: GPTConfig, tied: bool, special_ids: dict | None = None) -> dict:
    """The config.json of a GPT2LMHeadModel with our model's shape; `special_ids` may give bos/eos ids."""
    special_ids = special_ids or {}
    return {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "vocab_size": config.vocab_size,
        "n_positions": config.max_seq_len,
        "n_embd": config.embed_dim,
        "n_layer": config.num_layers,
        "n_head": config.num_heads,
        "n_inner": config.hidden_dim,
        "activation_function": "gelu_new",
        "layer_norm_epsilon": config.layer_norm_eps,
        "resid_pdrop": config.dropout,
        "embd_pdrop": config.dropout,
        "attn_pdrop": 0.0,  # our attention has no dropout on its weights
        "initializer_range": 0.02,
        "scale_attn_weights": True,
        "tie_word_embeddings": tied,
        "bos_token_id": special_ids.get("bos"),
        "eos_token_id": special_ids.get("eos"),
        "dtype": "float32",
    }


def read_json(path: str, limit: int = MAX_CONFIG_BYTES) -> dict:
    """A JSON object from `path` (a regular file, at most `limit` bytes, read once); errors name the file and
    the byte offset of the problem."""
    text = read_utf8_text(path, "load_pretrained", limit)
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" at byte offset {len(text[:exc.pos].encode('utf-8'))}" if isinstance(exc, json.JSONDecodeError) else ""
        raise ValueError(f"{path}: not valid JSON ({getattr(exc, 'msg', exc)}{where})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def config_from_gpt2(d: dict, source: str) -> tuple[GPTConfig, bool]:
    """(GPTConfig, tied head) from a GPT-2 config.json's dict; any field we cannot honour is a ValueError."""
    model_type = d.get("model_type", "gpt2")
    if model_type != "gpt2":
        raise ValueError(f"{source}: model_type is {model_type!r:.40}; only 'gpt2' models can be loaded")
    activation = d.get("activation_function", "gelu_new")
    if activation not in TANH_GELU:
        raise ValueError(f"{source}: activation_function {activation!r:.40} is not supported "
                         f"(our GPT computes the tanh GELU: {list(TANH_GELU)})")
    for name in _SWITCHES:  # transformers 5 refuses a switch that is not a bool, as this does
        if name in d and not isinstance(d[name], bool):
            raise TypeError(f"{source}: {name} must be true or false, got {d[name]!r:.40}")
    for name, value in _REQUIRED_VALUES.items():
        if d.get(name, value) is not value:
            raise ValueError(f"{source}: {name} = {d.get(name)!r:.40} is not supported (only {value}): "
                             f"tinytorch's attention cannot compute what transformers would")
    tied = d.get("tie_word_embeddings", True)
    missing = [k for k in ("vocab_size", "n_embd", "n_layer", "n_head") if k not in d]
    if missing:
        raise ValueError(f"{source}: missing field(s) {short_list(missing)}")
    fields = {"vocab_size": d["vocab_size"], "embed_dim": d["n_embd"], "num_layers": d["n_layer"],
              "num_heads": d["n_head"], "max_seq_len": d.get("n_positions", 1024),
              "dropout": d.get("resid_pdrop", 0.1), "layer_norm_eps": d.get("layer_norm_epsilon", 1e-5)}
    config = GPTConfig.from_dict(fields, source=source)  # types and ranges, naming the field
    n_inner = d.get("n_inner")
    if n_inner is not None:
        if isinstance(n_inner, bool) or not isinstance(n_inner, int) or n_inner < 1:
            raise ValueError(f"{source}: n_inner must be a positive int or null, got {n_inner!r:.40}")
        ratio = n_inner / config.embed_dim
        config = GPTConfig.from_dict({**config.to_dict(), "mlp_ratio": ratio}, source=source)
        if config.hidden_dim != n_inner:
            raise ValueError(f"{source}: n_inner {n_inner} is not a width our MLP can take (embed_dim "
                             f"{config.embed_dim} times a ratio)")
    return config, tied
