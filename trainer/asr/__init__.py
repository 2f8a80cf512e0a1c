"""Offline speech recognisers behind one small interface."""

from trainer.asr.base import PartialResult, Recognizer, StreamingRecognition, Transcript, Word

__all__ = ["PartialResult", "Recognizer", "StreamingRecognition", "Transcript", "Word"]
