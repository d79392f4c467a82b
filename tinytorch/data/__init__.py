"""TinyTorch data paths: the data loader alias and the bundled Python-snippet corpus."""
