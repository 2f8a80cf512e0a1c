"""Measured accuracy: labelled dev-set runner, transcript cache, recogniser-like noise injection."""
