"""Data: video decoding, dataset index readers, loaders, mixing and the synthetic generator."""
