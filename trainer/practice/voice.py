"""The customer's voice in the terminal: each line spoken through the speakers before the answer.

Speech is synthesised offline (`trainer.speech`, espeak-ng) and played with sounddevice. When
that is not possible (espeak-ng missing, no output device, PortAudio missing) practice goes on
with the lines as text: the first problem is reported once, then the voice stays silent.
"""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Callable

import numpy as np

from trainer.config import Settings
from trainer.errors import TrainerError
from trainer.practice.capture import sounddevice_module
from trainer.speech import customer_wav, speech_problem

log = logging.getLogger(__name__)


def play_wav(wav: bytes) -> None:
    """Play 16-bit PCM WAV bytes on the default output device and wait until it ends."""
    with wave.open(io.BytesIO(wav)) as reader:
        rate, channels = reader.getframerate(), reader.getnchannels()
        samples = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    if channels > 1:
        samples = samples.reshape(-1, channels)
    sd = sounddevice_module()
    sd.play(samples, samplerate=rate, blocking=True)


class TerminalVoice:
    """Says customer lines aloud; `say` returns a problem to show (Chinese) the first time it fails."""

    def __init__(self, settings: Settings, play: Callable[[bytes], None] = play_wav) -> None:
        self.settings = settings
        self._play = play
        self.problem = speech_problem(settings)
        self._reported = False

    def say(self, line: str) -> str:
        if self.problem:
            return self._report()
        try:
            wav = customer_wav(line, self.settings)
            if wav is not None:
                self._play(wav)
        except TrainerError as exc:
            self.problem = exc.user_message
            log.warning("customer line not spoken: %s", exc.log_message)
        except Exception as exc:  # no output device, PortAudio errors: the text is still shown
            self.problem = "无法通过扬声器播放顾客的声音（没有可用的播放设备？），之后只显示文字。"
            log.warning("customer line not played: %r", exc)
        return self._report() if self.problem else ""

    def _report(self) -> str:
        if self._reported:
            return ""
        self._reported = True
        return self.problem
