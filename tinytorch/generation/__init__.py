"""Text generation from a trained GPT: sampling strategies, stop strings, and a KV cache."""

from __future__ import annotations

import warnings

import numpy as np

from ..core.autograd import no_grad
from ..core.random import get_rng
from ..runtime.threads import model_threads
from ..core.validation import as_token_ids, check_bool, check_int, check_texts, describe
from .kv_cache import KVCache, LayerCache
from .sampling import check_sampling, filter_logits, sample_checked, sample_next


def generate(model, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, use_cache: bool = True,
             stop_ids=None, return_logits: bool = False):
    """Append `max_new_tokens` sampled ids to the prompt; returns ids shaped like the prompt.

    temperature 0 is greedy. The context is cropped to the model's max_seq_len. `stop_ids`
    (a collection of ids) ends generation once every row has produced one. With
    `return_logits=True` also returns the (B, new, V) logits each step sampled from.
    """
    if not hasattr(model, "vocab_size") or not hasattr(model, "max_seq_len"):
        raise TypeError(f"generate: model must be a GPT (with vocab_size and max_seq_len), got {describe(model)}")
    ids = as_token_ids(prompt_ids, model.vocab_size, "generate", name="prompt id")
    single = ids.ndim == 1
    ids = ids[None] if single else ids  # (B, T)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"generate: expected a non-empty prompt of shape (seq_len,) or (batch, seq_len), got {ids.shape}")
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", "generate", minimum=0)
    # Checked here, not only when sampling: greedy decoding (temperature 0) never reaches the filters.
    temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
    use_cache = check_bool(use_cache, "use_cache", "generate")
    return_logits = check_bool(return_logits, "return_logits", "generate")
    rng = get_rng() if seed is None else np.random.default_rng(check_int(seed, "seed", "generate", minimum=0))
    if isinstance(stop_ids, (set, frozenset)):
        stop_ids = sorted(stop_ids)
    stop = set() if stop_ids is None else set(
        as_token_ids(stop_ids, model.vocab_size, "generate", name="stop id").reshape(-1).tolist())
    window = model.max_seq_len
    cache = KVCache.for_model(model, ids.shape[0]) if use_cache else None
    step_logits = []
    was_training = model.training
    model.eval()
    try:  # BLAS threads as tinytorch chooses them for a forward over the window (core/threads.py)
        with no_grad(), model_threads(model, ids[:, -window:], backward=False):
            pending = ids[:, -window:]  # what the next forward must process
            finished = np.zeros(ids.shape[0], dtype=bool)
            for _ in range(max_new_tokens):
                if cache is not None:
                    if cache.length + pending.shape[1] > window:
                        cache.reset()  # the window slid: rebuild the cache from the cropped context
                        pending = ids[:, -window:]
                    logits = model(pending, kv_cache=cache).data[:, -1]
                else:
                    logits = model(ids[:, -window:]).data[:, -1]  # (B, V)
                if return_logits:  # a view pins the whole (B, T, V) output: copy the last row, only when returned
                    step_logits.append(logits.copy())
                next_ids = sample_checked(logits, rng, temperature, top_k, top_p)  # options checked above
                ids = np.concatenate([ids, next_ids[:, None]], axis=1)
                pending = next_ids[:, None]
                if stop:
                    finished |= np.isin(next_ids, list(stop))
                    if finished.all():
                        break
    finally:
        model.train(was_training)
    out = ids[0] if single else ids
    if return_logits:
        vocab = model.vocab_size
        return out, (np.stack(step_logits, axis=1) if step_logits else np.zeros((ids.shape[0], 0, vocab)))
    return out


def generate_text(model, tokenizer, prompt: str, max_new_tokens: int = 100, stop: list[str] | None = None, **options) -> str:
    """Encode `prompt`, generate, and return only the new text, cut before the first stop string."""
    if not isinstance(prompt, str):
        raise TypeError(f"generate_text: prompt must be a str, got {describe(prompt)}")
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", "generate_text", minimum=0)
    stop = None if stop is None else check_texts(stop, "stop", "generate_text")
    prompt_ids = tokenizer.encode(prompt)
    if not prompt_ids:
        raise ValueError("generate_text: the prompt encodes to no tokens")
    new_text = ""
    produced = 0
    ids = np.asarray(prompt_ids[-getattr(model, "max_seq_len", len(prompt_ids)):])  # only what the model can see
    start = len(ids)
    chunk = max_new_tokens if not stop else min(max_new_tokens, 16)
    # Generate in chunks so a stop string ends the work early.
    while produced < max_new_tokens:
        n = min(chunk, max_new_tokens - produced)
        ids = generate(model, ids, n, **options)
        produced += n
        new_text = tokenizer.decode(ids[start:].tolist())
        if stop and any(s in new_text for s in stop):
            break
    if stop:
        cut = min((new_text.find(s) for s in stop if s in new_text), default=len(new_text))
        new_text = new_text[:cut]
    return new_text


__all__ = ["generate", "generate_text", "KVCache", "LayerCache", "filter_logits", "sample_next"]
