"""Matching a performance against a scenario and scoring it (pure functions; I/O lives in trainer.pipeline)."""
