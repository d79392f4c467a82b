"""Our tokenizers as Hugging Face `tokenizer.json` files, and tokenizer files read back into ours.

A CharTokenizer becomes a WordLevel model over single characters (every character its own piece,
unknown -> id 0); a BPETokenizer becomes a byte-level BPE model with the same merges, ids and
pre-tokenizer. GPT-2's own files (tokenizer.json, or vocab.json + merges.txt) load into a
BPETokenizer.
"""

from __future__ import annotations

import os

from ..text.bpe import SPLIT_PATTERN, BPETokenizer
from ..text.bytelevel import GPT2_SPLIT_PATTERN, bytes_to_token, token_to_bytes
from ..text.tokenization import CharTokenizer
from ..runtime.fileread import read_utf8_text
from .config import read_json

#: Our SPLIT_PATTERN written for Hugging Face's regex engine: Python's `\w` is `[\p{L}\p{N}_]` there,
#: and Python's `\s` also holds U+001C..U+001F, which Unicode's White_Space does not.
HF_SPLIT_PATTERN = (r" ?[\p{L}\p{N}_]+| ?[^\s\x1c-\x1f\p{L}\p{N}_]+"
                    r"|[\s\x1c-\x1f]+(?![^\s\x1c-\x1f])|[\s\x1c-\x1f]+")
MAX_TOKENIZER_BYTES = 64 << 20  # GPT-2's tokenizer.json is 1.4 MB


def _split(regex: str) -> dict:
    """A pre-tokenizer that cuts text into the matches of `regex`, each match one piece."""
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


CHAR_PRE_TOKENIZER = _split(r"[\s\S]")  # every character its own piece, as a CharTokenizer reads text


def _byte_level(use_regex: bool) -> dict:
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": use_regex}


def _added(token_id: int, content: str) -> dict:
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def tokenizer_json(tokenizer) -> dict:
    """The `tokenizer.json` that makes Hugging Face's tokenizers give `tokenizer`'s ids."""
    base = {"version": "1.0", "truncation": None, "padding": None, "normalizer": None, "post_processor": None}
    if isinstance(tokenizer, CharTokenizer):
        return {**base, "added_tokens": [_added(0, CharTokenizer.UNK)], "pre_tokenizer": CHAR_PRE_TOKENIZER,
                "decoder": {"type": "Fuse"},
                "model": {"type": "WordLevel", "vocab": dict(tokenizer.char_to_id), "unk_token": CharTokenizer.UNK}}
    if isinstance(tokenizer, BPETokenizer):
        tokens = [bytes_to_token(t) for t in tokenizer.vocab]
        if len(set(tokens)) != len(tokens):
            raise ValueError("save_pretrained: two BPE ids stand for the same bytes; Hugging Face's BPE "
                             "vocabulary maps each token text to one id, so this tokenizer cannot be exported")
        if tokenizer.split_pattern == GPT2_SPLIT_PATTERN:
            pre = _byte_level(use_regex=True)
        else:
            pre = {"type": "Sequence", "pretokenizers": [_split(HF_SPLIT_PATTERN), _byte_level(use_regex=False)]}
        return {**base, "added_tokens": [_added(i, t) for t, i in sorted(tokenizer.special_tokens.items(),
                                                                           key=lambda item: item[1])],
                "pre_tokenizer": pre, "decoder": _byte_level(use_regex=True),
                "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                          "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                          "ignore_merges": False, "vocab": {t: i for i, t in enumerate(tokens)},
                          "merges": [[tokens[a], tokens[b]] for a, b in tokenizer.merges]}}
    raise TypeError(f"save_pretrained: cannot export a {type(tokenizer).__name__}; expected a CharTokenizer "
                    f"or a BPETokenizer")


def tokenizer_config(tokenizer, max_len: int) -> dict:
    """`tokenizer_config.json`: load tokenizer.json as it is (no class of its own), with the special tokens."""
    config = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": max_len,
              "clean_up_tokenization_spaces": False}
    if isinstance(tokenizer, CharTokenizer):
        config["unk_token"] = CharTokenizer.UNK
    elif "<|endoftext|>" in getattr(tokenizer, "special_tokens", {}):
        config.update(bos_token="<|endoftext|>", eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    return config


def special_ids(tokenizer) -> dict:
    """{'bos': id, 'eos': id} where the tokenizer has GPT-2's <|endoftext|>, else {}."""
    i = getattr(tokenizer, "special_tokens", {}).get("<|endoftext|>")
    return {} if i is None else {"bos": i, "eos": i}


# ----- reading ---------------------------------------------------------------------------------------
def _vocab_list(vocab: dict, source: str) -> list:
    """Token texts in id order from a {text: id} dict whose ids are exactly 0..n-1."""
    if not isinstance(vocab, dict) or not vocab:
        raise ValueError(f"{source}: the vocabulary must be a non-empty {{token: id}} object")
    tokens = [None] * len(vocab)
    for text, i in vocab.items():
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < len(vocab) or tokens[i] is not None:
            raise ValueError(f"{source}: token {text!r:.40} has id {i!r:.20}; ids must be 0..{len(vocab) - 1}, "
                             f"each used once")
        tokens[i] = text
    return tokens


def _merge_pairs(merges, source: str) -> list:
    """Merges as (left, right) texts, from 'a b' strings or [a, b] lists."""
    if not isinstance(merges, list):
        raise ValueError(f"{source}: 'merges' must be a list")
    pairs = []
    for i, m in enumerate(merges):
        pair = m.split(" ") if isinstance(m, str) else m
        if not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(t, str) for t in pair):
            raise ValueError(f"{source}: merge {i} is {m!r:.60}; expected two tokens")
        pairs.append(tuple(pair))
    return pairs


def _bpe(tokens: list, pairs: list, specials: dict, pattern: str, source: str) -> BPETokenizer:
    """A BPETokenizer from token texts in GPT-2's printable form (specials as they are) and merge texts."""
    vocab = [t.encode("utf-8") if t in specials else token_to_bytes(t, source) for t in tokens]
    ids = {t: i for i, t in enumerate(tokens)}
    try:
        merges = [(ids[a], ids[b]) for a, b in pairs]
    except KeyError as exc:
        raise ValueError(f"{source}: a merge names {exc.args[0]!r:.40}, which is not in the vocabulary") from None
    return BPETokenizer.from_vocab(vocab, merges, specials, pattern, where=source)


def _pattern_of(pre: dict, source: str) -> str:
    """Which of our pre-tokenizers a tokenizer.json's pre_tokenizer is (anything else is a ValueError)."""
    if isinstance(pre, dict) and pre.get("type") == "ByteLevel" and not pre.get("add_prefix_space", True) \
            and pre.get("use_regex", True):
        return GPT2_SPLIT_PATTERN
    parts = pre.get("pretokenizers") if isinstance(pre, dict) and pre.get("type") == "Sequence" else None
    if isinstance(parts, list) and len(parts) == 2 and parts[0] == _split(HF_SPLIT_PATTERN) \
            and isinstance(parts[1], dict) and parts[1].get("type") == "ByteLevel" \
            and parts[1].get("use_regex") is False and not parts[1].get("add_prefix_space"):
        return SPLIT_PATTERN
    raise ValueError(f"{source}: unsupported pre_tokenizer {str(pre):.120}; tinytorch reads GPT-2's ByteLevel "
                     f"(add_prefix_space false) and the ones it writes")


def _adds_nothing(post) -> bool:
    """True for post-processors that leave the ids alone (none, ByteLevel, a template of the text only)."""
    if post is None or isinstance(post, dict) and post.get("type") == "ByteLevel":
        return True
    single = post.get("single") if isinstance(post, dict) and post.get("type") == "TemplateProcessing" else None
    return isinstance(single, list) and all(isinstance(p, dict) and set(p) == {"Sequence"} for p in single)


def _from_tokenizer_json(d: dict, source: str):
    model = d.get("model")
    if not isinstance(model, dict):
        raise ValueError(f"{source}: no 'model' object")
    if d.get("normalizer") is not None:
        raise ValueError(f"{source}: a normalizer ({str(d['normalizer']):.60}) is not supported")
    if not _adds_nothing(d.get("post_processor")):
        raise ValueError(f"{source}: post_processor {str(d['post_processor']):.80} adds tokens tinytorch would not add")
    if model.get("type") == "WordLevel":
        tokens = _vocab_list(model.get("vocab"), source)
        if tokens[0] != CharTokenizer.UNK or model.get("unk_token") != CharTokenizer.UNK \
                or d.get("pre_tokenizer") != CHAR_PRE_TOKENIZER:
            raise ValueError(f"{source}: a WordLevel tokenizer loads as a CharTokenizer only with '<UNK>' as id 0 "
                             f"and one piece per character (as tinytorch writes it)")
        try:
            return CharTokenizer(tokens)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
    if model.get("type") != "BPE":
        raise ValueError(f"{source}: tokenizer model {model.get('type')!r:.30} is not supported (WordLevel or BPE)")
    added = d.get("added_tokens") or []
    specials = {t.get("content"): t.get("id") for t in added if isinstance(t, dict)}
    return _bpe(_vocab_list(model.get("vocab"), source), _merge_pairs(model.get("merges"), source), specials,
                _pattern_of(d.get("pre_tokenizer"), source), source)


def _special_texts(directory: str) -> set:
    """The special-token texts named by tokenizer_config.json / special_tokens_map.json, if present."""
    texts = set()
    for name in ("special_tokens_map.json", "tokenizer_config.json"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            for key, value in read_json(path).items():
                value = value.get("content") if isinstance(value, dict) else value
                if key.endswith("_token") and isinstance(value, str):
                    texts.add(value)
    return texts


def load_tokenizer(directory: str):
    """Our tokenizer from a directory's tokenizer.json, or else GPT-2's vocab.json + merges.txt."""
    path = os.path.join(directory, "tokenizer.json")
    if os.path.isfile(path):
        return _from_tokenizer_json(read_json(path, MAX_TOKENIZER_BYTES), path)
    vocab_path, merges_path = os.path.join(directory, "vocab.json"), os.path.join(directory, "merges.txt")
    if not (os.path.isfile(vocab_path) and os.path.isfile(merges_path)):
        raise ValueError(f"{directory}: no tokenizer.json, and no vocab.json + merges.txt")
    tokens = _vocab_list(read_json(vocab_path, MAX_TOKENIZER_BYTES), vocab_path)
    text = read_utf8_text(merges_path, "load_pretrained", MAX_TOKENIZER_BYTES)  # bad bytes: the file and offset
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")  # universal newlines, as a text-mode read
    lines = [line for line in lines if line.strip() and not line.startswith("#version")]
    specials = {t: tokens.index(t) for t in _special_texts(directory) | {"<|endoftext|>"} if t in tokens}
    return _bpe(tokens, _merge_pairs(lines, merges_path), specials, GPT2_SPLIT_PATTERN, vocab_path)
