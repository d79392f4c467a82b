"""Attention's one parameter layout: q, k, v are column blocks (views) of one (C, 3C) weight and (3C,) bias,
kept through training steps, checkpoints, copies and the Hugging Face export; TinyTorch's names unchanged."""

import copy

import numpy as np

from tinytorch.core.random import manual_seed
from tinytorch.nn.attention import MultiHeadAttention
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.nn.transformer import GPT
from tinytorch.optim.optimizers import SGD, Adam, AdamW
from tinytorch.hf.weights import to_gpt2_tensors


def _views_of_fused(att: MultiHeadAttention) -> bool:
    weight, bias = att._qkv
    c = att.embed_dim
    projections = (att.q_proj, att.k_proj, att.v_proj)
    return all(p.weight.data.base is weight and p.bias.data.base is bias
               and np.array_equal(p.weight.data, weight[:, i * c : (i + 1) * c])
               and np.array_equal(p.bias.data, bias[i * c : (i + 1) * c]) for i, p in enumerate(projections))


def _model():
    manual_seed(0)
    return GPT(vocab_size=11, embed_dim=16, num_layers=2, num_heads=2, max_seq_len=12)


def _step(model, optimizer):
    tokens = np.random.default_rng(0).integers(0, 11, (2, 9))
    loss = CrossEntropyLoss()(model(tokens[:, :-1]), tokens[:, 1:])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


def test_state_dict_names_and_shapes_are_tinytorchs():
    att = MultiHeadAttention(8, 2)
    names = [n for n, _ in att.named_parameters()]
    assert names == ["q_proj.weight", "q_proj.bias", "k_proj.weight", "k_proj.bias", "v_proj.weight", "v_proj.bias",
                     "out_proj.weight", "out_proj.bias"]
    assert all(p.shape in ((8, 8), (8,)) for p in att.parameters())
    assert _views_of_fused(att)


def test_optimizer_steps_update_the_fused_weight_and_keep_the_views():
    for cls in (SGD, Adam, AdamW):
        model = _model()
        optimizer = cls(model.parameters(), lr=0.01)
        _step(model, optimizer)
        att = model.blocks[0].attention
        assert all(_views_of_fused(b.attention) for b in model.blocks)
        before = att.qkv()[0].copy()
        _step(model, optimizer)
        assert not np.array_equal(before, att.qkv()[0])  # the step moved the fused weight itself
        assert all(_views_of_fused(b.attention) for b in model.blocks)


def test_separate_arrays_load_into_the_fused_storage_and_export_as_c_attn():
    model, other = _model(), _model()
    rng = np.random.default_rng(1)
    state = {k: rng.standard_normal(v.shape).astype(np.float32) for k, v in other.state_dict().items()}
    model.load_state_dict(state)  # an older checkpoint: q, k and v as three arrays
    att = model.blocks[1].attention
    assert _views_of_fused(att)
    expected = np.concatenate([state[f"blocks.1.attention.{n}_proj.weight"] for n in "qkv"], axis=1)
    np.testing.assert_array_equal(att.qkv()[0], expected)
    np.testing.assert_array_equal(to_gpt2_tensors(model, tied=False)["transformer.h.1.attn.c_attn.weight"], expected)


def test_replaced_data_or_a_deep_copy_is_joined_again_before_use():
    model = _model()
    tokens = np.arange(8)[None]
    ref = model(tokens).data
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(clone(tokens).data, ref)
    assert _views_of_fused(clone.blocks[0].attention)
    att = model.blocks[0].attention
    att.k_proj.weight.data = att.k_proj.weight.data * 2  # a new array, not a view
    assert not np.array_equal(model(tokens).data, ref)
    assert _views_of_fused(att)
    np.testing.assert_array_equal(att.qkv()[0][:, 16:32], att.k_proj.weight.data)


def test_the_array_decode_path_gives_the_module_paths_logits_bit_for_bit():
    """GPT.forward with a KV cache in eval mode runs each block's `decode` on arrays; the modules' own
    forward with the same cache gives the same logits exactly, for a prompt and then token by token."""
    from tinytorch.core.autograd import no_grad
    from tinytorch.core import functions as F
    from tinytorch.generation.kv_cache import KVCache

    model = _model().eval()
    ids = np.random.default_rng(2).integers(0, 11, (2, 12))
    fast, slow = KVCache.for_model(model, batch_size=2), KVCache.for_model(model, batch_size=2)
    with no_grad():
        for lo, hi in ((0, 5), (5, 6), (6, 7), (7, 12)):
            got = model(ids[:, lo:hi], kv_cache=fast).data
            x = F.token_position_embedding(model.token_embedding.weight, model.position_embedding.weight, ids[:, lo:hi], lo)
            for i, block in enumerate(model.blocks):
                x = block(x, causal=True, kv_cache=slow.layer(i))
            np.testing.assert_array_equal(got, model.lm_head(model.ln_f(x)).data)
