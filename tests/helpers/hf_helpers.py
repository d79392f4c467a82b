"""Small Hugging Face GPT-2 models and tokenizers built in the test itself (nothing is downloaded)."""

from __future__ import annotations

import numpy as np

#: Letters, accents (precomposed and combining), digits, other numbers, CJK, an emoji, contractions,
#: underscores, punctuation and several kinds of white space.
MIXED = ("def add(a, b):\n    return a + b  # it's 42\n\tx_1 = 'héllo wörld' ½ ² 一二三 e\u0301 🙂 "
         "They'll say I'd've done it!!\r\n\n  end")

CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * 2)  # it's twice\n",
    "héllo wörld, one 1 two 2 ½ 一二三 🙂 They'll say we'd done it.\n",
    "class Point:\n    def __init__(self, x_1, y_2):\n        self.x = x_1\n",
] * 20


def train_gpt2_style_tokenizer(vocab_size: int = 360, specials=("<|endoftext|>",)):
    """A GPT-2 style byte-level BPE `tokenizers.Tokenizer` trained on CORPUS (full byte alphabet)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    return tok


def fast_tokenizer(tok):
    """The transformers wrapper of a trained `tokenizers.Tokenizer`, with GPT-2's special token."""
    import transformers

    return transformers.PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|endoftext|>",
                                                eos_token="<|endoftext|>")


def gpt2_model(vocab_size: int, tied: bool, seed: int = 0, n_positions: int = 64):
    """A randomly initialised two-layer GPT2LMHeadModel (float32, eval mode) built by transformers itself."""
    import torch
    import transformers

    torch.manual_seed(seed)
    config = transformers.GPT2Config(vocab_size=vocab_size, n_positions=n_positions, n_embd=32, n_layer=2, n_head=4,
                                     tie_word_embeddings=tied, bos_token_id=None, eos_token_id=None)
    return transformers.GPT2LMHeadModel(config).eval()


def hf_logits(hf_model, ids) -> np.ndarray:
    """(T, V) float32 logits of a transformers model for one sequence."""
    import torch

    with torch.no_grad():
        return hf_model(torch.tensor([list(ids)])).logits[0].numpy()


def hf_greedy(hf_model, prompt_ids, new_tokens: int) -> list:
    """GPT2LMHeadModel.generate(do_sample=False): exactly `new_tokens` greedy tokens after the prompt."""
    import torch

    out = hf_model.generate(torch.tensor([list(prompt_ids)]), do_sample=False, max_new_tokens=new_tokens,
                            min_new_tokens=new_tokens, pad_token_id=0)
    return out[0].tolist()
