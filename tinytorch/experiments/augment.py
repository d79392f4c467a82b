"""Training batches of whole code snippets, with consistent variable renaming as data augmentation."""

from __future__ import annotations

import builtins
import keyword
import re

import numpy as np

from ..text.tokenization import CharTokenizer
from .code_model import IGNORE, PAD

END = PAD  # the end-of-snippet token (id 0)

# A string literal, an attribute, a name or an integer: the pieces renaming rewrites or leaves alone.
_TOKEN = re.compile(r"""(?P<str>[fbrFBR]?'[^'\n]*'|[fbrFBR]?"[^"\n]*")|(?P<attr>\.[A-Za-z_]\w*)"""
                    r"""|(?P<name>[A-Za-z_]\w*)|(?P<num>\d+)""")
_KEEP = frozenset(keyword.kwlist) | frozenset(dir(builtins))  # never renamed: keywords, print, range, ...


class SnippetSampler:
    """Training batches of whole snippets at position 0, as `snippet_dataset` lays them out.

    With probability `rename_prob` a snippet is rewritten first: variable and attribute names renamed
    consistently to others from the training snippets, plain string contents and integers redrawn
    from theirs. The model then learns the syntax around names, strings and numbers rather than their
    exact spelling and position, which is what lets it complete unseen snippets. Rewrites stay valid
    Python. All draws use the generator passed in.
    """

    def __init__(self, tokenizer: CharTokenizer, snippets: list[str], seq_len: int, rename_prob: float = 0.5):
        if isinstance(rename_prob, bool) or not isinstance(rename_prob, (int, float)) or not 0 <= rename_prob <= 1:
            raise ValueError(f"SnippetSampler: rename_prob must be a number in [0, 1], got {rename_prob!r}")
        if not snippets:
            raise ValueError("SnippetSampler: no snippets given")
        self.tokenizer, self.seq_len, self.rename_prob = tokenizer, int(seq_len), float(rename_prob)
        self.pieces = [self._split(s) for s in snippets]
        self.encoded = [tokenizer.encode(s) + [END] for s in snippets]
        for i, ids in enumerate(self.encoded):
            if len(ids) > self.seq_len + 1:
                raise ValueError(f"SnippetSampler: snippet {i} has {len(ids)} tokens, more than seq_len + 1 = "
                                 f"{self.seq_len + 1}")
        # what each rewritable kind of piece may become: the training snippets' own spellings
        self.pools = {kind: sorted({t for p in self.pieces for k, t in p if k == kind})
                      for kind in ("name", "attr", "str", "num")}

    @staticmethod
    def _split(snippet: str) -> list[tuple[str, str]]:
        """(kind, text) pieces covering the snippet. Kinds: "name" (a variable), "attr" (after a dot),
        "str" (a plain string's contents), "num" (an integer), "text" (kept as it is)."""
        pieces, at = [], 0
        for m in _TOKEN.finditer(snippet):
            if m.start() > at:
                pieces.append(("text", snippet[at:m.start()]))
            kind, text = m.lastgroup, m.group()
            if kind == "name" and text in _KEEP:
                kind = "text"
            if kind == "attr":
                pieces += [("text", "."), ("attr", text[1:])]
            elif kind == "str":
                inner = text[1:-1]
                if text[0] not in "'\"" or any(c in inner for c in "'\"\\{}"):
                    pieces.append(("text", text))  # prefixed (f-strings) or quoting: kept
                else:
                    pieces += [("text", text[0]), ("str", inner), ("text", text[-1])]
            else:
                pieces.append((kind, text))
            at = m.end()
        if at < len(snippet):
            pieces.append(("text", snippet[at:]))
        return pieces

    def rewrite(self, index: int, rng) -> str:
        """Snippet `index` with names and attributes renamed consistently, strings and integers redrawn."""
        pieces = self.pieces[index]
        rename = {}
        for kind in ("name", "attr"):
            own = list(dict.fromkeys(t for k, t in pieces if k == kind))
            chosen = rng.choice(len(self.pools[kind]), size=len(own), replace=False) if own else []
            rename[kind] = {old: self.pools[kind][j] for old, j in zip(own, chosen)}
        out = []
        for kind, text in pieces:
            if kind in rename:
                text = rename[kind][text]
            elif kind != "text":
                text = self.pools[kind][int(rng.integers(len(self.pools[kind])))]
            out.append(text)
        return "".join(out)

    def _ids(self, index: int, rewrite: bool, rng) -> list[int]:
        """Snippet `index` as ids without the end token; rewritten when asked, if the rewrite still fits."""
        ids = self.encoded[index][:-1]
        if rewrite:
            new = self.tokenizer.encode(self.rewrite(index, rng))
            ids = new if len(new) < self.seq_len + 1 else ids
        return ids

    def batch(self, batch_size: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) of shape (B, T) with T the longest row; targets past each snippet's end are IGNORE."""
        chosen = rng.permutation(len(self.encoded))[: min(batch_size, len(self.encoded))]
        rewrite = rng.random(len(chosen)) < self.rename_prob
        rows = [self._ids(int(index), bool(again), rng) + [END] for index, again in zip(chosen, rewrite)]
        width = max(map(len, rows))  # trailing padding would only be ignored: trimming it is exact
        padded = np.full((len(rows), width), PAD, dtype=np.int64)
        targets = np.full((len(rows), width - 1), IGNORE, dtype=np.int64)
        for r, ids in enumerate(rows):
            padded[r, : len(ids)] = ids
            targets[r, : len(ids) - 1] = ids[1:]
        return padded[:, :-1], targets
