"""The customer's voice in the terminal: each line spoken through the speakers before the answer.

As on the web page, the centre's recorded clips of the line come first (`trainer.phrasebook.clips`,
recorded on the 话术库 page or with `trainer phrasebook record-lines`); a line without them is
synthesised offline (`trainer.speech`, espeak-ng). Audio is played with sounddevice. When a line
cannot be heard (espeak-ng missing, no output device, PortAudio missing) practice goes on with
the lines as text: the first problem is reported once, then only recorded clips are still tried
(a missing output device silences everything).
"""

from __future__ import annotations

import io
import logging
import wave
from collections.abc import Callable

import numpy as np

from trainer.config import Settings
from trainer.errors import TrainerError
from trainer.phrasebook.clips import clips_for_line
from trainer.phrasebook.model import Scenario
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

    def __init__(self, settings: Settings, play: Callable[[bytes], None] = play_wav, scenario: Scenario | None = None) -> None:
        """`scenario`: the scenario practised, whose recorded clips are played first (None: speech synthesis only)."""
        self.settings = settings
        self.scenario = scenario
        self._play = play
        self.problem = speech_problem(settings)  # speech synthesis cannot be used
        self._silent = False  # nothing can be played (no output device)
        self._reported = False

    def say(self, line: str) -> str:
        if self._silent:
            return self._report()
        clips = clips_for_line(self.settings.overlay_dir, self.scenario, line) if self.scenario is not None else []
        if not clips and self.problem:
            return self._report()
        try:
            if clips:
                for clip in clips:
                    self._play(clip)
                return ""
            wav = customer_wav(line, self.settings)
            if wav is not None:
                self._play(wav)
        except TrainerError as exc:
            self.problem = exc.user_message
            log.warning("customer line not spoken: %s", exc.log_message)
        except Exception as exc:  # no output device, PortAudio errors: the text is still shown
            self.problem = "无法通过扬声器播放顾客的声音（没有可用的播放设备？），之后只显示文字。"
            self._silent = True
            log.warning("customer line not played: %r", exc)
        return self._report() if self.problem else ""

    def _report(self) -> str:
        if self._reported:
            return ""
        self._reported = True
        return self.problem
