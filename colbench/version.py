"""The harness version, recorded in every run.json."""

__version__ = "0.1.0"
