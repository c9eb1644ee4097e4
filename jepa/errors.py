"""Errors shared across layers (kept apart so low layers need not import the configuration)."""


class ConfigError(ValueError):
    """A params.yaml problem, reported with the key path that is wrong."""
