"""Training: the Trainer and its loop, callbacks, checkpoints."""
