"""Terminal practice: microphone (or WAV) -> live transcript -> end-of-answer detection -> score, turn by turn."""
