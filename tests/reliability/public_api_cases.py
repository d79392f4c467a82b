"""The table the public-API sweep runs: one good call per public callable and the kinds of its arguments.

`test_public_api_bad_arguments.py` swaps one argument at a time for the values its kind lists (and a
few more); see its docstring for what counts as failing cleanly.
"""

from __future__ import annotations

import numpy as np

import tinytorch as tt
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tinytorch.nn.transformer import create_causal_mask
from tinytorch.data.loader import PaddedSequenceDataset, TokenWindowDataset
from tinytorch.generation import (KVCache, LayerCache, filter_logits, generate, generate_text, sample_next, stream_text,
                                  token_stream)

NAN, INF = float("nan"), float("inf")
NAMESPACES = ["tinytorch", "tinytorch.nn", "tinytorch.nn.functional", "tinytorch.optim", "tinytorch.generation",
              "tinytorch.data.loader", "tinytorch.text.tokenization"]

# kind -> (values that must be rejected, values that may be accepted). Each sweep also tries EXTRA.
KINDS = {
    "size": ([0, -1, 2.5, "3", True, None, NAN], [np.int64(2)]),
    "size or None": ([0, -1, 2.5, "3", True, NAN], [None]),
    "count": ([-1, 2.5, "3", True, NAN], [0]),
    "int": ([2.5, "3", True, NAN], [-1, 0, 2**64]),
    "real": (["0.1", NAN, True, [0.1]], [-1.0, 0.0, INF, 1e300]),
    "positive": (["0.1", NAN, True, INF, -1.0, 0.0], [1e300]),
    "prob": (["0.5", NAN, True, -0.1, 1.5], [0.0]),
    "bool": (["yes", "no", 2, 1.5], [np.bool_(True)]),
    "ids": ([[1.5], [-1], [1e20], [True], "abc", [[1], [1, 2]], [11], [NAN]], [np.int32(1)]),
    "data": (["abc", object(), [[1.0], [1.0, 2.0]]], [NAN, INF, 1e300, np.float64(2.0), np.zeros(0)]),
    "axis": ([1.0, "0", 7, True], [-1, 0]),
    "mask": ([np.full((4, 4), INF), np.full((4, 4), 2), np.full((4, 4), NAN), np.full((4, 4), "a")],
             [np.triu(np.full((4, 4), -1e9), 1), np.full((4, 4), 0.5)]),  # float masks other than 0/1 are additive
    "choice": (["bogus", 3], []),
    "any": ([], []),
}
EXTRA = [None, "x", object(), NAN, INF, -1, 0, 1e300, np.zeros(0), np.float32(1.0), np.zeros((2, 0))]


def fresh_objects():
    """Small models and data, rebuilt for every case so no case sees another's leftovers."""
    tt.manual_seed(0)
    gpt = tt.GPT(11, 8, 1, 2, max_seq_len=8)
    char = tt.CharTokenizer().build_vocab("abcdefghij")
    linear = nn.Linear(3, 2)
    return dict(gpt=gpt, char=char, linear=linear, ln=nn.LayerNorm(3), mha=nn.MultiHeadAttention(4, 2),
                emb=nn.Embedding(11, 4), pos=nn.PositionalEncoding(8, 4), drop=nn.Dropout(0.5),
                softmax=nn.Softmax(), ce=nn.CrossEntropyLoss(), bce=nn.BinaryCrossEntropyLoss(),
                mse=nn.MSELoss(), x=tt.Tensor(np.ones((2, 3)), requires_grad=True),
                adam=tt.Adam(linear.parameters()), data=tt.TensorDataset(np.ones((4, 3)), np.zeros(4)))


X23, IDS = np.ones((2, 3)), [1, 2, 3]
GOOD_LOGITS = np.array([[0.1, 0.5, 0.2]])

# label -> (call(objects, **arguments), {argument: (good value, kind)}, name of the object a method changes)
CASES = {
    "Tensor": (lambda o, data, requires_grad, dtype: tt.Tensor(data, requires_grad=requires_grad, dtype=dtype),
               dict(data=(X23, "data"), requires_grad=(False, "bool"), dtype=(None, "any")), None),
    "Parameter": (lambda o, data, requires_grad: tt.Parameter(data, requires_grad=requires_grad),
                  dict(data=(X23, "data"), requires_grad=(True, "bool")), None),
    "tensor": (lambda o, data, requires_grad: tt.tensor(data, requires_grad=requires_grad),
               dict(data=(X23, "data"), requires_grad=(False, "bool")), None),
    "zeros": (lambda o, size, requires_grad: tt.zeros(size, 3, requires_grad=requires_grad),
              dict(size=(2, "count"), requires_grad=(False, "bool")), None),
    "ones": (lambda o, size: tt.ones(2, size), dict(size=(2, "count")), None),
    "randn": (lambda o, size: tt.randn(size, 2), dict(size=(2, "count")), None),
    "rand": (lambda o, size: tt.rand(size), dict(size=(2, "count")), None),
    "full": (lambda o, size, fill_value: tt.full(size, fill_value), dict(size=((2, 2), "any"), fill_value=(1.5, "any")), None),
    "arange": (lambda o, start, step: tt.arange(start, 6, step), dict(start=(0, "any"), step=(2, "any")), None),
    "zeros_like": (lambda o, other: tt.zeros_like(other), dict(other=(X23, "any")), None),
    "ones_like": (lambda o, other: tt.ones_like(other), dict(other=(X23, "any")), None),
    "randn_like": (lambda o, other: tt.randn_like(other), dict(other=(X23, "any")), None),
    "cat": (lambda o, tensors, dim: tt.cat(tensors, dim), dict(tensors=([X23, X23], "any"), dim=(0, "axis")), None),
    "concatenate": (lambda o, tensors, axis: tt.concatenate(tensors, axis), dict(tensors=([X23, X23], "any"), axis=(1, "axis")), None),
    "stack": (lambda o, tensors, dim: tt.stack(tensors, dim=dim), dict(tensors=([X23, X23], "any"), dim=(0, "axis")), None),
    "where": (lambda o, condition, a: tt.where(condition, a, 0.0),
              dict(condition=(np.ones((2, 3), dtype=bool), "any"), a=(X23, "any")), None),
    "Tensor.reshape": (lambda o, d0, d1: o["x"].reshape(d0, d1), dict(d0=(3, "int"), d1=(2, "int")), "x"),
    "Tensor.transpose": (lambda o, dim0, dim1: o["x"].transpose(dim0, dim1), dict(dim0=(0, "axis"), dim1=(1, "axis")), "x"),
    "Tensor.permute": (lambda o, d0: o["x"].permute(d0, 0), dict(d0=(1, "axis")), "x"),
    "Tensor.sum": (lambda o, axis, keepdims: o["x"].sum(axis=axis, keepdims=keepdims),
                   dict(axis=(1, "axis"), keepdims=(False, "bool")), "x"),
    "Tensor.mean": (lambda o, dim, keepdim: o["x"].mean(dim=dim, keepdim=keepdim),
                    dict(dim=(1, "axis"), keepdim=(True, "bool")), "x"),
    "Tensor.max": (lambda o, axis: o["x"].max(axis=axis), dict(axis=(0, "axis")), "x"),
    "Tensor.var": (lambda o, axis, ddof: o["x"].var(axis=axis, ddof=ddof), dict(axis=(1, "axis"), ddof=(1, "count")), "x"),
    "Tensor.softmax": (lambda o, dim: o["x"].softmax(dim), dict(dim=(-1, "axis")), "x"),
    "Tensor.log_softmax": (lambda o, dim: o["x"].log_softmax(dim), dict(dim=(-1, "axis")), "x"),
    "Tensor.unsqueeze": (lambda o, dim: o["x"].unsqueeze(dim), dict(dim=(0, "axis")), "x"),
    "Tensor.squeeze": (lambda o, dim: o["x"].squeeze(dim), dict(dim=(0, "axis")), "x"),
    "Tensor.flatten": (lambda o, start_dim: o["x"].flatten(start_dim), dict(start_dim=(0, "axis")), "x"),
    "Tensor.clip": (lambda o, min_value, max_value: o["x"].clip(min_value, max_value),
                    dict(min_value=(0.0, "any"), max_value=(1.0, "any")), "x"),
    "Tensor.masked_fill": (lambda o, mask: o["x"].masked_fill(mask, 0.0), dict(mask=(X23 > 0, "any")), "x"),
    "Tensor.astype": (lambda o, dtype: o["x"].astype(dtype), dict(dtype=(np.float64, "any")), "x"),
    "Tensor.pow": (lambda o, exponent: o["x"] ** exponent, dict(exponent=(2.0, "any")), "x"),
    "Tensor.index": (lambda o, index: o["x"][index], dict(index=(1, "any")), "x"),
    "Module.train": (lambda o, mode: o["linear"].train(mode), dict(mode=(True, "bool")), "linear"),
    "Module.load_state_dict": (lambda o, state_dict, strict: o["linear"].load_state_dict(state_dict, strict),
                               dict(state_dict=({"weight": np.zeros((3, 2)), "bias": np.zeros(2)}, "any"),
                                    strict=(True, "bool")), "linear"),
    "Tensor.requires_grad_": (lambda o, flag: o["x"].requires_grad_(flag), dict(flag=(True, "bool")), "x"),
    "Tensor.backward": (lambda o, gradient: (o["x"] * 2).backward(gradient), dict(gradient=(X23, "any")), "x"),
    "Tensor.add": (lambda o, other: o["x"] + other, dict(other=(1.0, "any")), "x"),
    "Tensor.matmul": (lambda o, other: o["x"] @ other, dict(other=(np.ones((3, 2)), "any")), "x"),
    "Linear": (lambda o, in_features, out_features, bias: nn.Linear(in_features, out_features, bias),
               dict(in_features=(3, "size"), out_features=(2, "size"), bias=(True, "bool")), None),
    "Linear.forward": (lambda o, x: o["linear"](x), dict(x=(X23, "data")), "linear"),
    "Dropout": (lambda o, p: nn.Dropout(p), dict(p=(0.5, "prob")), None),
    "Dropout.forward": (lambda o, x, training: o["drop"](x, training=training),
                        dict(x=(X23, "data"), training=(True, "bool")), "drop"),
    "LayerNorm": (lambda o, normalized_shape, eps: nn.LayerNorm(normalized_shape, eps),
                  dict(normalized_shape=(3, "size"), eps=(1e-5, "positive")), None),
    "LayerNorm.forward": (lambda o, x: o["ln"](x), dict(x=(X23, "data")), "ln"),
    "Embedding": (lambda o, vocab_size, embed_dim: nn.Embedding(vocab_size, embed_dim),
                  dict(vocab_size=(11, "size"), embed_dim=(4, "size")), None),
    "Embedding.forward": (lambda o, ids: o["emb"](ids), dict(ids=(IDS, "ids")), "emb"),
    "PositionalEncoding": (lambda o, max_seq_len, embed_dim: nn.PositionalEncoding(max_seq_len, embed_dim),
                           dict(max_seq_len=(8, "size"), embed_dim=(4, "size")), None),
    "PositionalEncoding.forward": (lambda o, x: o["pos"](x), dict(x=(np.ones((1, 3, 4)), "data")), "pos"),
    "SinusoidalPositionalEncoding": (lambda o, max_seq_len, embed_dim: nn.SinusoidalPositionalEncoding(max_seq_len, embed_dim),
                                     dict(max_seq_len=(8, "size"), embed_dim=(4, "size")), None),
    "EmbeddingLayer": (lambda o, vocab_size, pos_encoding, scale_embeddings: nn.EmbeddingLayer(
        vocab_size, 4, 8, pos_encoding=pos_encoding, scale_embeddings=scale_embeddings),
        dict(vocab_size=(11, "size"), pos_encoding=("learned", "choice"), scale_embeddings=(False, "bool")), None),
    "MultiHeadAttention": (lambda o, embed_dim, num_heads: nn.MultiHeadAttention(embed_dim, num_heads),
                           dict(embed_dim=(4, "size"), num_heads=(2, "size")), None),
    "MultiHeadAttention.forward": (lambda o, x, mask, causal: o["mha"](x, mask=mask, causal=causal),
                                   dict(x=(np.ones((1, 4, 4)), "data"), mask=(np.ones((4, 4)), "mask"),
                                        causal=(False, "bool")), "mha"),
    "scaled_dot_product_attention": (lambda o, Q, mask, causal: F.scaled_dot_product_attention(Q, Q, Q, mask, causal),
                                     dict(Q=(np.ones((1, 4, 4)), "data"), mask=(np.ones((4, 4)), "mask"),
                                          causal=(False, "bool")), None),
    "MLP": (lambda o, embed_dim, dropout: nn.MLP(embed_dim, dropout=dropout),
            dict(embed_dim=(4, "size"), dropout=(0.0, "prob")), None),
    "TransformerBlock": (lambda o, embed_dim, num_heads, dropout: nn.TransformerBlock(embed_dim, num_heads, dropout=dropout),
                         dict(embed_dim=(4, "size"), num_heads=(2, "size"), dropout=(0.0, "prob")), None),
    "GPT": (lambda o, vocab_size, embed_dim, num_layers, num_heads, max_seq_len, dropout: tt.GPT(
        vocab_size, embed_dim, num_layers, num_heads, max_seq_len=max_seq_len, dropout=dropout),
        dict(vocab_size=(11, "size"), embed_dim=(8, "size"), num_layers=(1, "size"), num_heads=(2, "size"),
             max_seq_len=(8, "size"), dropout=(0.0, "prob")), None),
    "GPTConfig": (lambda o, vocab_size, layer_norm_eps: tt.GPTConfig(vocab_size, 8, 1, 2, layer_norm_eps=layer_norm_eps),
                  dict(vocab_size=(11, "size"), layer_norm_eps=(1e-5, "positive")), None),
    "GPT.forward": (lambda o, ids: o["gpt"](ids), dict(ids=([IDS], "ids")), "gpt"),
    "Softmax": (lambda o, dim: nn.Softmax(dim), dict(dim=(-1, "int")), None),
    "Softmax.forward": (lambda o, x: o["softmax"](x), dict(x=(X23, "data")), "softmax"),
    "GELU": (lambda o, approximate: nn.GELU(approximate), dict(approximate=("tanh", "choice")), None),
    "ReLU.forward": (lambda o, x: nn.ReLU()(x), dict(x=(X23, "data")), None),
    "Sigmoid.forward": (lambda o, x: nn.Sigmoid()(x), dict(x=(X23, "data")), None),
    "Tanh.forward": (lambda o, x: nn.Tanh()(x), dict(x=(X23, "data")), None),
    "ModuleList": (lambda o, modules: nn.ModuleList(modules), dict(modules=([nn.ReLU()], "any")), None),
    "Sequential": (lambda o, module: nn.Sequential(module, nn.ReLU()), dict(module=(nn.Tanh(), "any")), None),
    "CrossEntropyLoss": (lambda o, ignore_index, reduction: nn.CrossEntropyLoss(ignore_index, reduction),
                         dict(ignore_index=(-100, "int"), reduction=("mean", "choice")), None),
    "CrossEntropyLoss.forward": (lambda o, logits, targets: o["ce"](logits, targets),
                                 dict(logits=(GOOD_LOGITS, "data"), targets=([1], "ids")), "ce"),
    "BinaryCrossEntropyLoss": (lambda o, eps: nn.BinaryCrossEntropyLoss(eps), dict(eps=(1e-7, "positive")), None),
    "BinaryCrossEntropyLoss.forward": (lambda o, predictions: o["bce"](predictions, np.ones(3)),
                                       dict(predictions=(np.full(3, 0.5), "data")), "bce"),
    "MSELoss.forward": (lambda o, predictions: o["mse"](predictions, np.ones(3)),
                        dict(predictions=(np.full(3, 0.5), "data")), "mse"),
    "cross_entropy": (lambda o, logits, targets, ignore_index: F.cross_entropy(logits, targets, ignore_index),
                      dict(logits=(GOOD_LOGITS, "data"), targets=([1], "ids"), ignore_index=(None, "any")), None),
    "mse_loss": (lambda o, predictions: F.mse_loss(predictions, np.ones(3)), dict(predictions=(np.ones(3), "data")), None),
    "dropout": (lambda o, x, p, training: F.dropout(x, p, training), dict(x=(X23, "data"), p=(0.5, "prob"), training=(True, "bool")), None),
    "embedding": (lambda o, ids: F.embedding(ids, o["emb"].weight), dict(ids=(IDS, "ids")), "emb"),
    "gelu": (lambda o, a, approximate: F.gelu(tt.Tensor(a), approximate), dict(a=(X23, "data"), approximate=("tanh", "choice")), None),
    "softmax": (lambda o, dim: F.softmax(o["x"], dim), dict(dim=(0, "axis")), "x"),
    "log_softmax": (lambda o, x, dim: F.log_softmax(x, dim), dict(x=(X23, "data"), dim=(0, "axis")), None),
    "linear": (lambda o, x: F.linear(x, o["linear"].weight), dict(x=(X23, "data")), "linear"),
    "relu": (lambda o, x: F.relu(x), dict(x=(X23, "data")), None),
    "sigmoid": (lambda o, x: F.sigmoid(x), dict(x=(X23, "data")), None),
    "tanh": (lambda o, x: F.tanh(x), dict(x=(X23, "data")), None),
    "layer_norm": (lambda o, eps: F.layer_norm(o["x"], o["ln"].gamma, o["ln"].beta, eps), dict(eps=(1e-5, "positive")), "ln"),
    "SGD": (lambda o, lr, momentum, nesterov: tt.SGD(o["linear"].parameters(), lr, momentum, nesterov=nesterov),
            dict(lr=(0.1, "real"), momentum=(0.9, "real"), nesterov=(False, "bool")), None),
    "Adam": (lambda o, lr, betas, eps: tt.Adam(o["linear"].parameters(), lr, betas, eps),
             dict(lr=(1e-3, "real"), betas=((0.9, 0.999), "any"), eps=(1e-8, "positive")), None),
    "AdamW": (lambda o, lr, weight_decay: tt.AdamW(o["linear"].parameters(), lr, weight_decay=weight_decay),
              dict(lr=(1e-3, "real"), weight_decay=(0.01, "real")), None),
    "CosineSchedule": (lambda o, max_lr, total_steps, warmup_steps: tt.CosineSchedule(max_lr, None, total_steps, warmup_steps),
                       dict(max_lr=(0.1, "real"), total_steps=(10, "size or None"), warmup_steps=(2, "count")), None),
    "CosineSchedule.__call__": (lambda o, step: tt.CosineSchedule(0.1, total_steps=10)(step), dict(step=(3, "any")), None),
    "clip_grad_norm": (lambda o, max_norm: tt.clip_grad_norm(o["linear"].parameters(), max_norm), dict(max_norm=(1.0, "positive")), "linear"),
    "manual_seed": (lambda o, seed: tt.manual_seed(seed), dict(seed=(3, "int")), None),
    "set_num_threads": (lambda o, threads: tt.set_num_threads(threads), dict(threads=(None, "any")), None),
    "enable_autograd": (lambda o, quiet: tt.enable_autograd(quiet), dict(quiet=(True, "bool")), None),
    "DataLoader": (lambda o, dataset, batch_size, shuffle, drop_last: tt.DataLoader(dataset, batch_size, shuffle, drop_last),
                   dict(dataset=(tt.TensorDataset(np.ones((4, 3))), "any"), batch_size=(2, "size"),
                        shuffle=(False, "bool"), drop_last=(False, "bool")), None),
    "TokenWindowDataset": (lambda o, token_ids, seq_len, stride: TokenWindowDataset(token_ids, seq_len, stride),
                           dict(token_ids=(list(range(10)), "any"), seq_len=(3, "size"), stride=(1, "size")), None),
    "PaddedSequenceDataset": (lambda o, sequences, seq_len, pad_id, truncate: PaddedSequenceDataset(
        sequences, seq_len, pad_id, truncate=truncate),
        dict(sequences=([[1, 2, 3], [4, 5]], "any"), seq_len=(4, "size"), pad_id=(0, "count"), truncate=(False, "bool")), None),
    "create_causal_mask": (lambda o, seq_len: create_causal_mask(seq_len), dict(seq_len=(4, "size")), None),
    "TensorDataset": (lambda o, tensor: tt.TensorDataset(tensor), dict(tensor=(X23, "any")), None),
    "CharTokenizer": (lambda o, vocab: tt.CharTokenizer(vocab), dict(vocab=("abc", "any")), None),
    "CharTokenizer.build_vocab": (lambda o, texts: tt.CharTokenizer().build_vocab(texts), dict(texts=(["ab", "c"], "any")), None),
    "CharTokenizer.encode": (lambda o, text: o["char"].encode(text), dict(text=("abc", "any")), "char"),
    "CharTokenizer.decode": (lambda o, ids, skip_special: o["char"].decode(ids, skip_special),
                             dict(ids=(IDS, "ids"), skip_special=(False, "bool")), "char"),
    "BPETokenizer": (lambda o, vocab_size: tt.BPETokenizer(vocab_size), dict(vocab_size=(300, "size")), None),
    "BPETokenizer.train": (lambda o, corpus, min_frequency: tt.BPETokenizer(260).train(corpus, min_frequency=min_frequency),
                           dict(corpus=("abab abab", "any"), min_frequency=(2, "size")), None),
    "Trainer": (lambda o, accumulation_steps, grad_clip_norm: tt.Trainer(o["linear"], o["adam"], nn.MSELoss(),
                                                                         grad_clip_norm=grad_clip_norm,
                                                                         accumulation_steps=accumulation_steps),
                dict(accumulation_steps=(1, "size"), grad_clip_norm=(1.0, "any")), None),
    "KVCache": (lambda o, num_layers, batch_size: KVCache(num_layers, batch_size, 2, 8, 4),
                dict(num_layers=(1, "size"), batch_size=(1, "size")), None),
    "LayerCache": (lambda o, max_seq_len: LayerCache(1, 2, max_seq_len, 4), dict(max_seq_len=(8, "size")), None),
    "generate": (lambda o, prompt_ids, max_new_tokens, temperature, top_k, top_p, seed, use_cache: generate(
        o["gpt"], prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed,
        use_cache=use_cache),
        dict(prompt_ids=(IDS, "ids"), max_new_tokens=(2, "count"), temperature=(1.0, "real"), top_k=(3, "size or None"),
             top_p=(0.9, "any"), seed=(1, "count"), use_cache=(True, "bool")), "gpt"),
    "generate_text": (lambda o, prompt, max_new_tokens, stop: generate_text(o["gpt"], o["char"], prompt, max_new_tokens, stop),
                      dict(prompt=("abc", "any"), max_new_tokens=(2, "count"), stop=(["zz"], "any")), "gpt"),
    "token_stream": (lambda o, prompt_ids, max_new_tokens, temperature, top_k, seed: list(token_stream(
        o["gpt"], prompt_ids, max_new_tokens, temperature=temperature, top_k=top_k, seed=seed)),
        dict(prompt_ids=(IDS, "ids"), max_new_tokens=(2, "count"), temperature=(1.0, "real"),
             top_k=(3, "size or None"), seed=(1, "count")), "gpt"),
    "stream_text": (lambda o, prompt, max_new_tokens, stop: list(stream_text(o["gpt"], o["char"], prompt, max_new_tokens,
                                                                             stop)),
                    dict(prompt=("abc", "any"), max_new_tokens=(2, "count"), stop=(["zz"], "any")), "gpt"),
    "filter_logits": (lambda o, top_k, top_p: filter_logits(GOOD_LOGITS, top_k, top_p),
                      dict(top_k=(2, "size or None"), top_p=(0.9, "any")), None),
    "sample_next": (lambda o, temperature, top_k: sample_next(GOOD_LOGITS, np.random.default_rng(0), temperature, top_k),
                    dict(temperature=(1.0, "real"), top_k=(2, "size or None")), None),
}
# Cases whose kind list misses a value that is wrong only for them.
MUST_REJECT_ALSO = {
    ("generate", "temperature"): [-1.0, INF], ("token_stream", "temperature"): [-1.0, INF], ("sample_next", "temperature"): [-1.0, INF],
    ("generate", "top_p"): [0.0, 1.5, NAN, "0.9"], ("filter_logits", "top_p"): [0.0, 1.5, NAN],
    ("GPT.forward", "ids"): [[[1.5, 1.0]], [[1e20]], np.zeros((1, 0), dtype=np.int64), np.int64(3)],
    ("Tensor.transpose", "dim0"): [2], ("Tensor.reshape", "d0"): [4, 2.0], ("Tensor.var", "ddof"): [7],
    ("SGD", "lr"): [-1.0, INF], ("Adam", "lr"): [-1.0, INF], ("AdamW", "lr"): [-1.0, INF],
    ("Adam", "betas"): [0.9, (0.9, 0.99, 0.9), (1.5, 0.9)], ("CosineSchedule", "max_lr"): [-1.0, INF],
    ("BinaryCrossEntropyLoss.forward", "predictions"): [np.full(3, 1.5), np.full(3, -0.5), np.full(3, NAN)],
    ("DataLoader", "dataset"): [None, 123, "abc"],
    ("TokenWindowDataset", "token_ids"): [np.arange(10) + 0.5, "abcdefghij", np.zeros((2, 5)), [True] * 10],
    ("PaddedSequenceDataset", "sequences"): [[[1.5, 2.0]], [[]], [], "abc", 7], ("CharTokenizer.build_vocab", "texts"): [123, None, [1, 2]],
    ("BPETokenizer.train", "corpus"): [123, [1, 2]], ("CharTokenizer.encode", "text"): [123, None],
    ("Tensor.astype", "dtype"): ["bogus", 5.5, object()], ("Tensor", "dtype"): ["bogus", 5.5],
    ("CosineSchedule.__call__", "step"): ["3", -1, NAN, INF, True], ("Tensor.pow", "exponent"): ["a", [1, 2]],
    ("Tensor.index", "index"): [5, -3, 1.5, "a"], ("Module.load_state_dict", "state_dict"): [None, [1, 2], 3],
    ("MultiHeadAttention.forward", "mask"): [np.ones((2, 4, 4)), np.ones((3, 3))],
    ("Tensor.masked_fill", "mask"): [np.full((2, 3), 0.5), np.full((2, 3), NAN), np.full((2, 3), "a")],
    ("where", "condition"): [np.full((2, 3), 0.5), np.full((2, 3), 2)],
    ("Linear.forward", "x"): [np.float64(1.0), np.ones((2, 4))], ("LayerNorm.forward", "x"): [np.float64(1.0)],
    ("MultiHeadAttention.forward", "x"): [np.float64(1.0), np.ones((1, 4, 3))],
    ("scaled_dot_product_attention", "Q"): [np.float64(1.0)],
    ("CrossEntropyLoss.forward", "logits"): [np.float64(1.0)], ("Trainer", "grad_clip_norm"): [NAN, -1.0, "1"],
}
# The functional forms run their module's code, so their messages may name the module instead.
SAME_CODE_AS = {"cross_entropy": "CrossEntropyLoss", "dropout": "Dropout", "mse_loss": "MSELoss", "linear": "Linear"}
# Public names not swept here, and why.
NOT_SWEPT = {
    "Function": "the base class of ops (its subclasses are the ops swept through Tensor methods)",
    "Module": "takes no arguments", "Layer": "TinyTorch's name for Module", "Optimizer": "abstract base",
    "Dataset": "abstract base", "Tokenizer": "abstract base",
    "MSELoss": "takes no arguments (forward is swept)", "ReLU": "takes no arguments (forward is swept)",
    "Sigmoid": "takes no arguments (forward is swept)", "Tanh": "takes no arguments (forward is swept)",
    "no_grad": "takes no arguments", "enable_grad": "takes no arguments", "is_grad_enabled": "takes no arguments",
    "get_num_threads": "takes no arguments", "float32": "a numpy dtype", "float64": "a numpy dtype",
    "int32": "a numpy dtype", "int64": "a numpy dtype",
    "load_checkpoint": "file input: tests/training/test_untrusted_checkpoints.py",
    "save_checkpoint": "file output: tests/training/test_checkpoint_file.py",
    "load_pretrained": "file input: tests/training/test_untrusted_checkpoints.py",
    "save_pretrained": "file output: the Hugging Face export tests",
}
