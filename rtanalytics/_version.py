"""The version: one place (CHANGELOG.md's top entry; pyproject.toml reads it from here). The bottom layer."""

__version__ = "0.3.0"
