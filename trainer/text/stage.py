"""Stage directions in scripts and labels: （递过一百五十元） is done, not said."""

from __future__ import annotations

import re

# Full-width brackets as the phrasebooks write them; ASCII ones as people sometimes type them.
STAGE_DIRECTION = re.compile(r"（[^（）]*）|\([^()]*\)")


def without_stage_directions(text: str) -> str:
    """The words said aloud, stage directions removed."""
    return STAGE_DIRECTION.sub("", text)
