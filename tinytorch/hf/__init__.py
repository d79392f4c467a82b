"""Hugging Face GPT-2 format, both ways: `save_pretrained` writes a directory transformers loads,
`load_gpt2_directory` reads one (ours or GPT-2's own) into a tinytorch GPT and tokenizer."""

from .directory import EXPORT_FILES, load_gpt2_directory, save_pretrained

__all__ = ["save_pretrained", "load_gpt2_directory", "EXPORT_FILES"]
