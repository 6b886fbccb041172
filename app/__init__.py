"""Moorings core: configuration model, persistence and orchestration, free of Qt."""

__version__ = "0.1.0"
