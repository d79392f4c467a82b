"""Datasets and the batching DataLoader (`dataloader`); `loader` and `python_snippets` are TinyTorch's older paths."""
