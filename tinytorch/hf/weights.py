"""Our GPT's parameters under GPT-2's tensor names and layouts, and back.

GPT-2's Conv1D weights are (in, out) like our Linear; its attention holds q, k and v in one
fused `c_attn` (C, 3C); its `lm_head.weight` is (V, C), the transpose of our head's (C, V).
"""

from __future__ import annotations

import re

import numpy as np

from ..nn.config import check_block_count
from ..runtime.fileio import short_list

#: Per block: GPT-2's name -> our names, joined along the last axis (q|k|v for c_attn).
_BLOCK = {
    "ln_1.weight": ["ln1.gamma"],
    "ln_1.bias": ["ln1.beta"],
    "attn.c_attn.weight": ["attention.q_proj.weight", "attention.k_proj.weight", "attention.v_proj.weight"],
    "attn.c_attn.bias": ["attention.q_proj.bias", "attention.k_proj.bias", "attention.v_proj.bias"],
    "attn.c_proj.weight": ["attention.out_proj.weight"],
    "attn.c_proj.bias": ["attention.out_proj.bias"],
    "ln_2.weight": ["ln2.gamma"],
    "ln_2.bias": ["ln2.beta"],
    "mlp.c_fc.weight": ["mlp.linear1.weight"],
    "mlp.c_fc.bias": ["mlp.linear1.bias"],
    "mlp.c_proj.weight": ["mlp.linear2.weight"],
    "mlp.c_proj.bias": ["mlp.linear2.bias"],
}
_TOP = {"wte.weight": ["token_embedding.weight"], "wpe.weight": ["position_embedding.weight"],
        "ln_f.weight": ["ln_f.gamma"], "ln_f.bias": ["ln_f.beta"]}


#: The causal-mask buffers old GPT-2 files carry; ours is computed, so they are skipped.
_BUFFER = re.compile(r"(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)")


_BLOCK_INDEX = re.compile(r"h\.(\d{1,9})\.")


def is_buffer(name: str) -> bool:
    return _BUFFER.fullmatch(name) is not None


def name_map(num_layers: int) -> dict:
    """GPT-2 name (without the 'transformer.' prefix) -> our parameter names, for every tensor but the head."""
    names = dict(_TOP)
    for i in range(num_layers):
        names.update({f"h.{i}.{hf}": [f"blocks.{i}.{ours}" for ours in our_names] for hf, our_names in _BLOCK.items()})
    return names


def is_tied(model) -> bool:
    """True when the head is exactly the transposed token embedding (e.g. a tied GPT-2 brought here)."""
    return np.array_equal(model.lm_head.weight.data.T, model.token_embedding.weight.data)


def to_gpt2_tensors(model, tied: bool) -> dict:
    """{GPT-2 name: float32 array} for `model`; a tied model stores no lm_head (GPT-2 reuses wte).

    `c_attn` is the attention's own fused (C, 3C) weight and (3C,) bias, stored as they are."""
    ours = model.state_dict()
    fused = {}
    for i, block in enumerate(model.blocks):
        fused[f"h.{i}.attn.c_attn.weight"], fused[f"h.{i}.attn.c_attn.bias"] = block.attention.qkv()
    tensors = {f"transformer.{hf}": np.ascontiguousarray(fused[hf] if hf in fused else ours[names[0]], dtype=np.float32)
               for hf, names in name_map(model.num_layers).items()}
    if not tied:
        tensors["lm_head.weight"] = np.ascontiguousarray(ours["lm_head.weight"].T, dtype=np.float32)  # (V, C)
    return tensors


def expected_shapes(config) -> dict:
    """GPT-2 name -> shape for a model of `config` (the head excluded)."""
    C, V, T, H = config.embed_dim, config.vocab_size, config.max_seq_len, config.hidden_dim
    block = {"ln_1.weight": (C,), "ln_1.bias": (C,), "attn.c_attn.weight": (C, 3 * C), "attn.c_attn.bias": (3 * C,),
             "attn.c_proj.weight": (C, C), "attn.c_proj.bias": (C,), "ln_2.weight": (C,), "ln_2.bias": (C,),
             "mlp.c_fc.weight": (C, H), "mlp.c_fc.bias": (H,), "mlp.c_proj.weight": (H, C), "mlp.c_proj.bias": (C,)}
    shapes = {"wte.weight": (V, C), "wpe.weight": (T, C), "ln_f.weight": (C,), "ln_f.bias": (C,)}
    for i in range(config.num_layers):
        shapes.update({f"h.{i}.{name}": shape for name, shape in block.items()})
    return shapes


#: Tensors transformers fills with a fixed value when a file lacks them (its `_init_weights`): biases are zeros,
#: layer-norm scales ones. A file without them means that model; a missing weight matrix (random) is refused.
def init_value(name: str) -> float | None:
    """0.0 for a bias, 1.0 for a layer norm's scale, None for a tensor transformers would draw at random."""
    if name.endswith(".bias"):
        return 0.0
    if name.endswith(".weight") and name.split(".")[-2].startswith("ln_"):
        return 1.0
    return None


def check_gpt2_tensors(shapes: dict, config, tied: bool, source: str) -> list:
    """Every tensor GPT-2 needs is there with the shape the config implies, and nothing unknown is; returns
    the names of the biases and layer-norm tensors the file lacks (transformers fills them with 0 and 1).

    `shapes` maps the file's names (with or without 'transformer.') to shapes. The causal-mask
    buffers old GPT-2 files carry (`h.N.attn.bias`, `h.N.attn.masked_bias`) are allowed.
    """
    have = {name.removeprefix("transformer."): tuple(shape) for name, shape in shapes.items()}
    check_block_count(have, _BLOCK_INDEX, config.num_layers, source, field="n_layer")
    want = expected_shapes(config)
    unknown = [n for n in have if n not in want and not is_buffer(n) and n != "lm_head.weight"]
    if unknown:
        raise ValueError(f"{source}: tensors a GPT-2 of this config does not have: {short_list(unknown)} "
                         f"(transformers would drop them; tinytorch refuses a file that is not the model it describes)")
    absent = [n for n in want if n not in have]
    missing = [n for n in absent if init_value(n) is None]
    if not tied and "lm_head.weight" not in have:
        missing.append("lm_head.weight")
    if missing:
        raise ValueError(f"{source}: missing tensors {short_list(missing)} (transformers would draw them at random; "
                         f"config: {config}{'; tie_word_embeddings is false' if 'lm_head.weight' in missing else ''})")
    if "lm_head.weight" in have:
        want["lm_head.weight"] = (config.vocab_size, config.embed_dim)
    for name, shape in want.items():
        if name in have and have[name] != shape:
            raise ValueError(f"{source}: tensor '{name}' has shape {have[name]}, the config implies {shape}")
    return absent


def from_gpt2_tensors(tensors: dict, config, tied: bool) -> dict:
    """Our state_dict from GPT-2 tensors already checked by `check_gpt2_tensors`.

    As transformers reads a file: an lm_head.weight present is the head even when tie_word_embeddings is
    true (transformers 5 then leaves the head untied); without one, a tied head is the token embedding.
    Biases and layer-norm tensors the file lacks are transformers' fixed initial values (0 and 1).
    """
    tensors = {name.removeprefix("transformer."): t for name, t in tensors.items()}
    shapes = expected_shapes(config)
    for name in shapes:
        if name not in tensors and init_value(name) is not None:
            tensors[name] = np.full(shapes[name], init_value(name), dtype=np.float32)
    state = {}
    for hf, names in name_map(config.num_layers).items():
        for name, part in zip(names, np.split(tensors[hf], len(names), axis=-1)):
            state[name] = part.astype(np.float32)
    head = tensors["lm_head.weight"] if "lm_head.weight" in tensors else tensors["wte.weight"]  # (V, C)
    state["lm_head.weight"] = np.ascontiguousarray(head.T, dtype=np.float32)  # (C, V)
    return state
