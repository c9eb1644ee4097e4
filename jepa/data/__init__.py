"""Data: the synthetic generator (synthetic/), the official datasets (real/), the evaluation sets every probe reads, pretraining streams, clip banks and mixing."""
