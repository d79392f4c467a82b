"""The core: one concept per module (tensor, autograd, layers, losses, optimizers, ...)."""
