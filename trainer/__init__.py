"""trainer: offline phrase-and-etiquette training for utility service staff."""

__version__ = "0.1.0"
