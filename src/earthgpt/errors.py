"""The error types shared across the package: one per concept, each message naming the field or file and the fix."""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value (a dataclass field, a YAML key, a command-line option) that cannot be used."""


class CheckpointMismatchError(ValueError):
    """A checkpoint whose tensors (or optimizer state) do not fit the model it is loaded into."""


class CheckpointReadError(ValueError):
    """A checkpoint file that cannot be read (truncated, corrupt, not the format its name says)."""
