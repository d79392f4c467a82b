"""Every differentiable op as a `Function` on ndarrays: forward, and backward to each input."""
