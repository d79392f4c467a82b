"""Older TinyTorch path for the models (see `tinytorch.core.transformer`)."""
