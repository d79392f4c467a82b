"""The engine: the Tensor, autograd and the differentiable ops. (The other `tinytorch.core.*` paths are TinyTorch's names, kept as one-line re-exports.)"""
