"""Adapters shipped with the grader: the TinyTorch layout (used for `--impl DIR`) and PyTorch (an example)."""
