"""TinyTorch text paths: tokenizers and embeddings under their older `tinytorch.text` names."""
