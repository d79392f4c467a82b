"""What tinytorch asks of the machine: BLAS threads, the allocator, atomic file writes (each only on an explicit call)."""
