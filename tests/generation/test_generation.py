"""Generation: KV-cache parity, top-k/top-p filtering, seeds, greedy decoding, stop ids, bad input, speed."""

import numpy as np
import pytest

import tinytorch
from tinytorch.nn.transformer import GPT
from tinytorch.generation import KVCache, filter_logits, generate, sample_next

VOCAB, MAX_LEN = 20, 12


def _model(dropout=0.0, seed=0):
    """A small GPT with N(0, 0.3) weights, so its logits are far from uniform (no near-ties)."""
    tinytorch.manual_seed(seed)
    model = GPT(vocab_size=VOCAB, embed_dim=32, num_layers=2, num_heads=4, max_seq_len=MAX_LEN, dropout=dropout)
    rng = np.random.default_rng(seed)
    for name, p in model.named_parameters():
        if not name.endswith(("gamma", "beta")):
            p.data[...] = rng.normal(0.0, 0.3, p.shape)
    return model


PROMPT = np.array([3, 1, 4, 1, 5])


def test_cached_forward_matches_full_forward_position_by_position():
    model = _model()
    ids = np.random.default_rng(1).integers(0, VOCAB, (2, MAX_LEN))
    full = model(ids).data  # (B, T, V)
    cache = KVCache.for_model(model, batch_size=2)
    pieces = [model(ids[:, :4], kv_cache=cache).data]  # a 4-token prefix, then one token at a time
    for t in range(4, MAX_LEN):
        pieces.append(model(ids[:, t : t + 1], kv_cache=cache).data)
    assert cache.length == MAX_LEN
    np.testing.assert_allclose(np.concatenate(pieces, axis=1), full, rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match=r"sequence length 13 exceeds max_seq_len 12"):
        model(ids[:, :1], kv_cache=cache)


@pytest.mark.parametrize("options", [
    dict(temperature=0.0),
    dict(temperature=1.0, seed=5),
    dict(temperature=0.8, top_k=5, seed=6),
    dict(temperature=1.2, top_p=0.9, seed=7),
])
@pytest.mark.parametrize("batch", [1, 3])
def test_kv_cache_parity_including_a_sliding_window(options, batch):
    """Cached and uncached generation agree token for token; 25 new tokens overrun max_seq_len 12."""
    model = _model()
    prompt = PROMPT if batch == 1 else np.random.default_rng(2).integers(0, VOCAB, (batch, 5))
    new = 25
    cached, cached_logits = generate(model, prompt, new, use_cache=True, return_logits=True, **options)
    plain, plain_logits = generate(model, prompt, new, use_cache=False, return_logits=True, **options)
    assert cached.shape == ((5 + new,) if batch == 1 else (batch, 5 + new))
    np.testing.assert_array_equal(cached, plain)
    assert cached_logits.shape == (batch, new, VOCAB)
    np.testing.assert_allclose(cached_logits, plain_logits, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(cached[..., :5], prompt)
    assert len(np.unique(cached[..., 5:])) > 1  # not a degenerate model repeating one token


def test_top_k_never_samples_outside_the_k_most_likely():
    logits = np.random.default_rng(3).standard_normal(10) * 2  # distinct values
    top3 = set(np.argsort(logits)[-3:])
    filtered = filter_logits(logits[None], top_k=3)
    assert set(np.flatnonzero(np.isfinite(filtered[0]))) == top3
    draws = sample_next(np.tile(logits, (20000, 1)), np.random.default_rng(4), 1.0, top_k=3)
    assert set(draws) == top3  # never outside, and every one of the k does occur
    probs = np.exp(logits[sorted(top3)]) / np.exp(logits[sorted(top3)]).sum()
    freq = np.array([np.mean(draws == i) for i in sorted(top3)])
    np.testing.assert_allclose(freq, probs, atol=0.02)  # renormalised over the k kept tokens


@pytest.mark.parametrize("top_p, nucleus", [(0.4, {3}), (0.75, {3, 1}), (0.85, {3, 1, 4}), (1.0, {0, 1, 2, 3, 4})])
def test_top_p_never_samples_outside_the_nucleus(top_p, nucleus):
    """The nucleus is the smallest set of most likely tokens whose mass reaches top_p."""
    probs = np.array([0.05, 0.3, 0.02, 0.5, 0.13])  # sorted: 3 (0.5), 1 (0.3), 4 (0.13), 0, 2
    logits = np.log(probs)
    assert set(np.flatnonzero(np.isfinite(filter_logits(logits[None], top_p=top_p)[0]))) == nucleus
    draws = sample_next(np.tile(logits, (20000, 1)), np.random.default_rng(8), 1.0, top_p=top_p)
    assert set(draws) == nucleus
    kept = sorted(nucleus)
    freq = np.array([np.mean(draws == i) for i in kept])
    np.testing.assert_allclose(freq, probs[kept] / probs[kept].sum(), atol=0.02)


def test_top_k_and_top_p_together_take_the_smaller_set():
    probs = np.array([0.05, 0.3, 0.02, 0.5, 0.13])
    draws = sample_next(np.tile(np.log(probs), (5000, 1)), np.random.default_rng(9), 1.0, top_k=3, top_p=0.75)
    assert set(draws) == {1, 3}


def test_seed_makes_sampling_repeatable():
    model = _model()
    first = generate(model, PROMPT, 20, temperature=1.0, seed=11)
    again = generate(model, PROMPT, 20, temperature=1.0, seed=11)
    other = generate(model, PROMPT, 20, temperature=1.0, seed=12)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    tinytorch.manual_seed(13)  # without a seed, the global generator decides
    a = generate(model, PROMPT, 20, temperature=1.0)
    tinytorch.manual_seed(13)
    np.testing.assert_array_equal(generate(model, PROMPT, 20, temperature=1.0), a)


def test_temperature_zero_is_argmax():
    model = _model()
    ids, logits = generate(model, PROMPT, 15, temperature=0.0, return_logits=True)
    np.testing.assert_array_equal(ids[5:], logits[0].argmax(axis=-1))
    # Greedy decoding ignores the seed.
    np.testing.assert_array_equal(generate(model, PROMPT, 15, temperature=0.0, seed=99), ids)
    row = np.random.default_rng(14).standard_normal((4, VOCAB))
    np.testing.assert_array_equal(sample_next(row, np.random.default_rng(0), 0.0), row.argmax(axis=-1))


def test_max_new_tokens_zero_returns_the_prompt():
    np.testing.assert_array_equal(generate(_model(), PROMPT, 0), PROMPT)


def test_stop_ids_stop_early():
    model = _model()
    full = generate(model, PROMPT, 20, temperature=0.0)
    new = full[5:]
    # The first new position whose token did not already appear among the new tokens.
    i = next(i for i in range(1, len(new)) if new[i] not in new[:i])
    stopped = generate(model, PROMPT, 20, temperature=0.0, stop_ids=[int(new[i])])
    np.testing.assert_array_equal(stopped, full[: 5 + i + 1])  # ends right after the stop id
    # A batch stops only once every row has produced a stop id.
    batch = np.stack([PROMPT, PROMPT[::-1]])
    full_b = generate(model, batch, 20, temperature=0.0)
    stop = int(full_b[0, 5 + i])
    out = generate(model, batch, 20, temperature=0.0, stop_ids=[stop])
    ends = [np.flatnonzero(row[5:] == stop) for row in full_b]
    expected_len = 5 + (20 if any(len(e) == 0 for e in ends) else max(e[0] for e in ends) + 1)
    assert expected_len < 5 + 20 and out.shape == (2, expected_len)  # it did stop early
    np.testing.assert_array_equal(out, full_b[:, :expected_len])


@pytest.mark.parametrize("use_cache", [True, False])
def test_generate_restores_training_mode(use_cache):
    model = _model(dropout=0.3)
    model.train()
    first = generate(model, PROMPT, 8, temperature=0.0, use_cache=use_cache)
    assert model.training and all(m.training for m in model.modules())
    # Dropout was off while generating: the same greedy tokens again, equal to an eval-mode run.
    np.testing.assert_array_equal(generate(model, PROMPT, 8, temperature=0.0, use_cache=use_cache), first)
    model.eval()
    np.testing.assert_array_equal(generate(model, PROMPT, 8, temperature=0.0, use_cache=use_cache), first)
    assert not model.training and not any(m.training for m in model.modules())


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(max_new_tokens=-1), r"max_new_tokens must be a non-negative int, got -1"),
    (dict(top_p=0.0), r"top_p must be in \(0, 1\], got 0.0"),
    (dict(top_p=1.5), r"top_p must be in \(0, 1\], got 1.5"),
    (dict(top_p=-0.1), r"top_p must be in \(0, 1\], got -0.1"),
    (dict(top_p=1.5, temperature=0.0), r"top_p must be in \(0, 1\], got 1.5"),  # greedy still validates
    (dict(top_k=0), r"top_k must be a positive int, got 0"),
    (dict(temperature=-1.0), r"temperature must be >= 0, got -1.0"),
    (dict(prompt=np.array([1, VOCAB])), r"prompt id 20 is outside the vocabulary \[0, 20\)"),
    (dict(prompt=np.array([-2, 1])), r"prompt id -2 is outside the vocabulary \[0, 20\)"),
    (dict(prompt=np.array([1.0, 2.5])), r"prompt id 2.5 is not a whole number"),
    (dict(temperature=float("nan")), r"temperature must be a finite number, got nan"),
    (dict(temperature=float("inf")), r"temperature must be a finite number, got inf"),
    (dict(prompt=np.array([1e20])), r"prompt id 1e\+20 is outside the vocabulary \[0, 20\)"),
    (dict(prompt=np.zeros(0, dtype=np.int64)), r"expected a non-empty prompt"),
])
def test_bad_generation_input_raises(kwargs, pattern):
    model = _model()
    model.train()
    before = model.state_dict()
    options = dict(max_new_tokens=3, prompt=PROMPT)
    options.update(kwargs)
    prompt, n = options.pop("prompt"), options.pop("max_new_tokens")
    with pytest.raises(ValueError, match=pattern):
        generate(model, prompt, n, **options)
    assert model.training
    for name, p in model.named_parameters():
        np.testing.assert_array_equal(p.data, before[name])


def test_kv_cache_feeds_each_token_once():
    """The cache's saving as work, not time: with it each position goes through the model once (the
    prompt, then one token per step); without it every step re-reads the whole window. The speed itself
    is measured by benchmarks/bench_generation.py."""
    tinytorch.manual_seed(15)
    model = GPT(vocab_size=64, embed_dim=16, num_layers=1, num_heads=2, max_seq_len=512)
    prompt, new = np.arange(8), 64
    fed = {}
    for use_cache in (True, False):
        widths = []
        forward = model.forward
        model.forward = lambda ids, *a, **k: widths.append(np.shape(ids)[-1]) or forward(ids, *a, **k)
        try:
            out = generate(model, prompt, new, temperature=0.0, use_cache=use_cache)
        finally:
            del model.forward
        assert out.shape == (8 + new,)
        fed[use_cache] = sum(widths)
    assert fed[True] == 8 + new - 1  # the prompt once, then each new token but the last
    assert fed[False] == sum(range(8, 8 + new)), fed
