"""TinyTorch data paths: the data loader (`tinytorch.data.loader`) and the bundled corpus (`tinytorch.data.python_snippets`).

Both are aliases; the code lives in `tinytorch.core.dataloader` and `tinytorch.core.corpus`.
"""
