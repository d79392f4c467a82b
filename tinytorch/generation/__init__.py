"""Text generation from a trained GPT: sampling strategies, stop strings, and a KV cache."""

from __future__ import annotations

import warnings

import numpy as np

from ..core.random import get_rng
from ..text.tokenization import CharTokenizer
from ..core.validation import as_token_ids, check_bool, check_int, check_texts, describe
from .kv_cache import KVCache, LayerCache
from .sampling import check_sampling, filter_logits, sample_next
from .stream import text_pieces, token_steps


def _checked(model, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, use_cache, stop_ids,
             where: str = "generate"):
    """generate's arguments checked once: (ids (B, T), single, max_new_tokens, rng, temperature, top_k,
    top_p, use_cache, stop ids as a set)."""
    if not hasattr(model, "vocab_size") or not hasattr(model, "max_seq_len"):
        raise TypeError(f"{where}: model must be a GPT (with vocab_size and max_seq_len), got {describe(model)}")
    ids = as_token_ids(prompt_ids, model.vocab_size, where, name="prompt id")
    single = ids.ndim == 1
    ids = ids[None] if single else ids  # (B, T)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"{where}: expected a non-empty prompt of shape (seq_len,) or (batch, seq_len), got {ids.shape}")
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", where, minimum=0)
    # Checked here, not only when sampling: greedy decoding (temperature 0) never reaches the filters.
    temperature, top_k, top_p = check_sampling(temperature, top_k, top_p, where)
    use_cache = check_bool(use_cache, "use_cache", where)
    rng = get_rng() if seed is None else np.random.default_rng(check_int(seed, "seed", where, minimum=0))
    if isinstance(stop_ids, (set, frozenset)):
        stop_ids = sorted(stop_ids)
    stop = set() if stop_ids is None else set(
        as_token_ids(stop_ids, model.vocab_size, where, name="stop id").reshape(-1).tolist())
    return ids, single, max_new_tokens, rng, temperature, top_k, top_p, use_cache, stop


def generate(model, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | None = None, use_cache: bool = True,
             stop_ids=None, return_logits: bool = False):
    """Append `max_new_tokens` sampled ids to the prompt; returns ids shaped like the prompt.

    temperature 0 is greedy. The context is cropped to the model's max_seq_len. `stop_ids`
    (a collection of ids) ends generation once every row has produced one. With
    `return_logits=True` also returns the (B, new, V) logits each step sampled from.
    """
    ids, single, *steps = _checked(model, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, use_cache,
                                   stop_ids)
    return_logits = check_bool(return_logits, "return_logits", "generate")
    new_ids, step_logits = [], []
    for next_ids, logits in token_steps(model, ids, *steps):
        new_ids.append(next_ids)
        if return_logits:  # a view pins the whole (B, T, V) output: copy the last row, only when returned
            step_logits.append(logits.copy())
    ids = np.concatenate([ids, np.stack(new_ids, axis=1)], axis=1) if new_ids else ids
    out = ids[0] if single else ids
    if return_logits:
        vocab = model.vocab_size
        return out, (np.stack(step_logits, axis=1) if step_logits else np.zeros((ids.shape[0], 0, vocab)))
    return out


def token_stream(model, prompt_ids, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None, use_cache: bool = True, stop_ids=None):
    """Yield each new token as soon as it is sampled: an int for a 1-D prompt, ids (B,) for a (B, T) one.

    The same ids, in the same order, as `generate` with the same arguments (it is this stream run to
    the end). Closing the stream early (a `break`) puts the model back in its own train/eval mode.
    """
    ids, single, *steps = _checked(model, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, use_cache,
                                   stop_ids, "token_stream")
    for next_ids, _ in token_steps(model, ids, *steps):
        yield int(next_ids[0]) if single else next_ids


def stream_text(model, tokenizer, prompt: str, max_new_tokens: int = 100, stop: list[str] | None = None,
                **options):
    """Yield the new text piece by piece as it is generated (each piece as soon as its characters are
    whole), ending before the first stop string. Joined, the pieces are `generate_text`'s result.
    `options` are generate's (temperature, top_k, top_p, seed, use_cache, stop_ids)."""
    yield from _text_pieces("stream_text", model, tokenizer, prompt, max_new_tokens, stop, **options)


def generate_text(model, tokenizer, prompt: str, max_new_tokens: int = 100, stop: list[str] | None = None, **options) -> str:
    """Encode `prompt`, generate, and return only the new text, cut before the first stop string."""
    return "".join(_text_pieces("generate_text", model, tokenizer, prompt, max_new_tokens, stop, **options))


def _text_pieces(where: str, model, tokenizer, prompt: str, max_new_tokens: int, stop, temperature: float = 1.0,
                 top_k: int | None = None, top_p: float | None = None, seed: int | None = None, use_cache: bool = True,
                 stop_ids=None):
    """stream_text and generate_text, with `where` naming the one called in every error."""
    if not isinstance(prompt, str):
        raise TypeError(f"{where}: prompt must be a str, got {describe(prompt)}")
    max_new_tokens = check_int(max_new_tokens, "max_new_tokens", where, minimum=0)
    stop = None if stop is None else check_texts(stop, "stop", where)
    window = getattr(model, "max_seq_len", None)
    if window and isinstance(tokenizer, CharTokenizer):  # one id per character: the window's characters suffice
        prompt = prompt[-window:]  # a 16 MB prompt file costs its text, not 16 M ids as Python ints
    prompt_ids = tokenizer.encode(prompt)
    if not prompt_ids:
        raise ValueError(f"{where}: the prompt encodes to no tokens")
    ids = np.asarray(prompt_ids[-(window or len(prompt_ids)):])  # only what the model can see
    ids, _, *steps = _checked(model, ids, max_new_tokens, temperature, top_k, top_p, seed, use_cache, stop_ids, where)
    # One token at a time: the same sampled ids, in the same order, as one call to generate.
    tokens = ([int(next_ids[0])] for next_ids, _ in token_steps(model, ids, *steps))
    yield from text_pieces(tokens, tokenizer.stream_decoder(), stop)


__all__ = ["generate", "generate_text", "stream_text", "token_stream", "KVCache", "LayerCache", "filter_logits", "sample_next"]
