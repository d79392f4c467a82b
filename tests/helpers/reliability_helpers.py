"""A small seeded GPT training run (dropout, shuffled DataLoader, sampling) shared by the determinism tests."""

import numpy as np

import tinytorch
from tinytorch.text.bpe import BPETokenizer
from tinytorch.data.dataloader import DataLoader, TokenWindowDataset
from tinytorch.nn.losses import CrossEntropyLoss
from tinytorch.optim.optimizers import AdamW
from tinytorch.text.tokenization import CharTokenizer
from tinytorch.training.trainer import Trainer
from tinytorch.nn.transformer import GPT

TEXT = "def add(a, b):\n    return a + b\n\ndef mul(x, y):\n    return x * y\n" * 2


def build(seed: int):
    """Seed, then build tokenizer, model (dropout 0.2), shuffled loader (no explicit seed) and trainer."""
    tinytorch.manual_seed(seed)
    tok = CharTokenizer().build_vocab(TEXT)
    model = GPT(tok.vocab_size, embed_dim=16, num_layers=1, num_heads=2, max_seq_len=16, dropout=0.2)
    loader = DataLoader(TokenWindowDataset(tok.encode(TEXT), seq_len=12, stride=4), batch_size=8, shuffle=True)
    trainer = Trainer(model, AdamW(model.parameters(), lr=3e-3), CrossEntropyLoss(), grad_clip_norm=1.0)
    return tok, model, loader, trainer


def sample_ids(model, tok) -> list:
    """Sampled continuation (temperature 1, top-k 5) drawn from tinytorch's generator."""
    return model.generate(np.array(tok.encode("def ")), 12, temperature=1.0, top_k=5).tolist()


def fingerprint(losses, model) -> dict:
    """Exact, printable record: loss hex strings and a hex digest of every weight's bytes."""
    import hashlib

    digest = hashlib.sha256()
    for name, p in model.named_parameters():
        digest.update(name.encode() + p.data.tobytes())
    return {"losses": [float(v).hex() for v in losses], "weights": digest.hexdigest()}


def full_run(seed: int, epochs: int = 4) -> dict:
    """Train `epochs` epochs, then sample, BPE-train and encode: everything that could be nondeterministic."""
    tok, model, loader, trainer = build(seed)
    trainer.fit(loader, epochs=epochs)
    record = fingerprint(trainer.history["train_loss"], model)
    record["sample"] = sample_ids(model, tok)
    bpe = BPETokenizer(300).train(TEXT)
    record["bpe"] = [list(m) for m in bpe.merges] + [bpe.encode("def mul(a, y):")]
    return record
