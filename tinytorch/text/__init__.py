"""Text to token ids and back: the tokenizers (`tokenization`, `bpe`, `bytelevel`) and the bundled corpus.

Importing this package defines every built-in tokenizer type, so `Tokenizer.from_dict` can rebuild
any of them by the name stored in a file.
"""

from . import tokenization  # noqa: F401
