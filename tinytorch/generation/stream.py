"""Generation as a stream: each new token as soon as it is sampled, each new piece of text as soon as it is
decoded. `generate` and `generate_text` are these streams run to the end, so a streamed text is the same
text, bit for bit, as the one returned whole."""

from __future__ import annotations

import numpy as np

from ..core.autograd import no_grad
from ..runtime.threads import model_threads
from .kv_cache import KVCache
from .sampling import sample_checked


def token_steps(model, ids: np.ndarray, max_new_tokens: int, rng, temperature: float, top_k, top_p,
                use_cache: bool, stop: set):
    """Yield (next_ids (B,), logits (B, V)) once per new token, for options already checked by `generate`.

    `ids` (B, T) is the prompt; the context is cropped to the model's window. Ends after max_new_tokens,
    or once every row has produced an id in `stop`. The model is in eval mode while the stream runs and
    back in its own mode when it ends, is closed early, or fails.
    """
    check_finite_weights(model)
    window = model.max_seq_len
    cache = KVCache.for_model(model, ids.shape[0]) if use_cache else None
    was_training = model.training
    model.eval()
    try:  # BLAS threads as tinytorch chooses them for a forward over the window (runtime/threads.py)
        with no_grad(), model_threads(model, ids[:, -window:], backward=False):
            pending = ids[:, -window:]  # what the next forward must process
            finished = np.zeros(ids.shape[0], dtype=bool)
            for _ in range(max_new_tokens):
                if cache is not None:
                    if cache.length + pending.shape[1] > window:
                        cache.reset()  # the window slid: rebuild the cache from the cropped context
                        pending = ids[:, -window:]
                    logits = model(pending, kv_cache=cache).data[:, -1]  # (B, V)
                else:
                    logits = model(ids[:, -window:]).data[:, -1]  # (B, V)
                next_ids = sample_checked(logits, rng, temperature, top_k, top_p)  # (B,)
                ids = np.concatenate([ids[:, -window:], next_ids[:, None]], axis=1)
                pending = next_ids[:, None]
                yield next_ids, logits
                if stop:
                    finished |= np.isin(next_ids, list(stop))
                    if finished.all():
                        return
    finally:
        model.train(was_training)


def held_for_stop(text: str, stops: list) -> int:
    """How many characters at the end of `text` may begin a stop string (so cannot be printed yet)."""
    longest = 0
    for s in stops:
        for n in range(min(len(s) - 1, len(text)), longest, -1):
            if text.endswith(s[:n]):
                longest = n
                break
    return longest


def text_pieces(token_ids, decoder, stops: list | None):
    """Yield the text of a stream of token ids, piece by piece, ending before the first stop string.

    Text that may be the start of a stop string waits until the next tokens settle it, so no piece is
    ever taken back: the pieces join to `decode(ids)` cut before the first stop string.
    """
    held = ""
    for ids in token_ids:
        held += decoder.feed(ids)
        if stops:
            found = [held.find(s) for s in stops if s in held]
            if found:
                yield held[:min(found)]
                return
            keep = held_for_stop(held, stops)
            ready, held = held[:len(held) - keep], held[len(held) - keep:]
        else:
            ready, held = held, ""
        if ready:
            yield ready
    held += decoder.flush()
    if stops:
        found = [held.find(s) for s in stops if s in held]
        held = held[:min(found)] if found else held
    if held:
        yield held


def check_finite_weights(model) -> None:
    """ValueError naming the first parameter that holds NaN or inf: such a model has no distribution to
    sample from, whatever sign the logits it poisons happen to take."""
    for name, p in model.named_parameters():
        if not np.isfinite(p.data).all():
            kind = "NaN" if np.isnan(p.data).any() else "inf"
            where = np.argwhere(~np.isfinite(p.data))[0].tolist()
            raise ValueError(f"generate: the model's weight {name} holds {kind} (at {where}); it cannot generate text")
