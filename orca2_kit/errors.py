"""The kit's one error type for bad input: a profile, an override, a data folder, a bundle."""


class ConfigError(ValueError):
    """Bad input; the message names the key or file, the value, and the fix, in one line."""
