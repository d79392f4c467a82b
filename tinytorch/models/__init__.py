"""TinyTorch's path `tinytorch.models`: the GPT lives in `tinytorch.nn.transformer`."""
