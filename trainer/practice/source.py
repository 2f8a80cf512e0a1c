"""Where the answers' audio comes from: the microphone, or WAV files fed through the same path.

A practice session asks its `AudioSource` for one answer at a time:

    source.open()
    while source.begin_turn():        # False: no audio left for another answer
        chunk = source.read()         # 16 kHz mono int16; None: this answer's audio ended
    source.close()

- `MicrophoneSource`: one input stream for the whole session; `begin_turn` drops what
  was captured between answers. `read` raises `DeviceDisconnectedError` if the device
  goes away.
- `FileSource` with one recording: the answers are consecutive parts of it, split by
  the end-of-answer detector exactly as with a microphone (the source never ends an
  answer early; `read` returns None only at the end of the file).
- `FileSource` with several recordings: one per answer; `read` returns None at the
  end of each file.

File audio is paced at real time (as a microphone delivers it) unless `fast`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence

import numpy as np

from trainer.audio import SAMPLE_RATE, Audio, iter_chunks
from trainer.practice.capture import InputDevice, MicrophoneCapture, select_input_device


class AudioSource(ABC):
    """Chunks of 16 kHz mono int16 audio, answer by answer."""

    sample_rate: int = SAMPLE_RATE
    live: bool = False  # a person is speaking now (microphone): the stop key applies

    def __init__(self, chunk_seconds: float = 0.1) -> None:
        if chunk_seconds <= 0:
            raise ValueError("chunk_seconds must be > 0")
        self.chunk_seconds = chunk_seconds
        self.chunk_samples = max(1, int(round(chunk_seconds * self.sample_rate)))

    @property
    @abstractmethod
    def description(self) -> str:
        """Shown to the trainee, e.g. 麦克风：USB Audio."""

    def open(self) -> None:  # noqa: B027 - optional hook
        pass

    @abstractmethod
    def begin_turn(self) -> bool:
        """Get ready for the next answer. False when there is no audio left for one."""

    @abstractmethod
    def read(self) -> np.ndarray | None:
        """The next chunk of the current answer, or None when its audio has ended."""

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> "AudioSource":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MicrophoneSource(AudioSource):
    live = True

    def __init__(self, device: InputDevice | str | int | None = None, chunk_seconds: float = 0.1, stall_seconds: float = 2.0) -> None:
        """`device`: a selected `InputDevice`, or `--device` text (index or part of the name; None: default)."""
        super().__init__(chunk_seconds)
        self.device_spec = device
        self.stall_seconds = stall_seconds
        self.device: InputDevice | None = device if isinstance(device, InputDevice) else None
        self._capture: MicrophoneCapture | None = None

    @property
    def description(self) -> str:
        return f"麦克风：{self.device.name}" if self.device else "麦克风"

    def open(self) -> None:
        if self.device is None:
            self.device = select_input_device(self.device_spec)  # type: ignore[arg-type]
        capture = MicrophoneCapture(
            self.device, sample_rate=self.sample_rate, chunk_seconds=self.chunk_seconds, stall_seconds=self.stall_seconds
        )
        capture.start()
        self._capture = capture

    def begin_turn(self) -> bool:
        if self._capture is None:
            raise RuntimeError("microphone source not opened")
        self._capture.drain()
        return True

    def read(self) -> np.ndarray | None:
        if self._capture is None:
            raise RuntimeError("microphone source not opened")
        return self._capture.read()

    def close(self) -> None:
        if self._capture is not None:
            self._capture.close()
            self._capture = None


class FileSource(AudioSource):
    """One or more loaded recordings (see `trainer.audio.load_audio`) played as if spoken now."""

    def __init__(self, recordings: Sequence[Audio], *, names: Sequence[str] = (), fast: bool = False, chunk_seconds: float = 0.1) -> None:
        super().__init__(chunk_seconds)
        if not recordings:
            raise ValueError("FileSource needs at least one recording")
        for audio in recordings:
            if audio.sample_rate != self.sample_rate:
                raise ValueError(f"recordings must be {self.sample_rate} Hz, got {audio.sample_rate}")
        self.recordings = list(recordings)
        self.names = list(names)
        self.fast = fast
        self.per_turn = len(self.recordings) > 1
        self._file = -1  # recording being read
        self._chunks: Iterator[np.ndarray] = iter(())
        self._pos = 0  # samples of that recording already read
        self._pace_start = 0.0
        self._paced = 0.0  # seconds delivered since _pace_start

    @property
    def description(self) -> str:
        shown = "、".join(self.names) if self.names else f"{len(self.recordings)} 个录音"
        pace = "快速" if self.fast else "实时"
        return f"录音文件（{pace}）：{shown}"

    def _next_recording(self) -> bool:
        if self._file + 1 >= len(self.recordings):
            return False
        self._file += 1
        self._chunks = iter_chunks(self.recordings[self._file], self.chunk_seconds)
        self._pos = 0
        return True

    def begin_turn(self) -> bool:
        if self.per_turn or self._file < 0:
            if not self._next_recording():
                return False
        elif self._pos >= len(self.recordings[self._file].samples):
            return False
        self._pace_start = time.monotonic()
        self._paced = 0.0
        return True

    def read(self) -> np.ndarray | None:
        if self._file < 0:
            raise RuntimeError("begin_turn() first")
        chunk = next(self._chunks, None)
        if chunk is None:
            return None
        self._pos += len(chunk)
        if not self.fast:
            self._paced += len(chunk) / self.sample_rate
            delay = self._pace_start + self._paced - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        return chunk

    @property
    def remaining_seconds(self) -> float:
        """Audio not yet read (all recordings after the current one included)."""
        if self._file < 0:
            return sum(a.duration for a in self.recordings)
        current = max(0, len(self.recordings[self._file].samples) - self._pos) / self.sample_rate
        return current + sum(a.duration for a in self.recordings[self._file + 1 :])
