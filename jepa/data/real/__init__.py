"""The paper profile's real data: index readers, video decoding, loaders, frame caches, evaluation sets and fixtures."""
