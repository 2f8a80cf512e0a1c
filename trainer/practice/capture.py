"""Microphone capture with sounddevice (PortAudio): 16 kHz mono int16 chunks from a callback queue.

Everything that touches sounddevice lives here, behind `_import_sounddevice()` (the
boundary tests replace). Each failure becomes a `DeviceError` subclass with a
Chinese message naming the problem and the fix:

- PortAudio missing (sounddevice raises OSError on import)  -> PortAudioMissingError
- no input device / unknown `--device`                        -> NoInputDeviceError / DeviceNotFoundError
- the OS refuses access to the microphone                     -> MicrophonePermissionError
- other failures to open (busy, unsupported format)           -> DeviceOpenError
- the device stops delivering audio mid-recording             -> DeviceDisconnectedError

Audio that was already read from a capture stays with the caller; a disconnect only
ends the recording.
"""

from __future__ import annotations

import importlib
import logging
import queue
import sys
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from trainer.audio import SAMPLE_RATE
from trainer.errors import AudioError

log = logging.getLogger(__name__)


class DeviceError(AudioError):
    """The microphone cannot be used."""


class PortAudioMissingError(DeviceError):
    pass


class NoInputDeviceError(DeviceError):
    pass


class DeviceNotFoundError(DeviceError):
    pass


class MicrophonePermissionError(DeviceError):
    pass


class DeviceOpenError(DeviceError):
    pass


class DeviceDisconnectedError(DeviceError):
    pass


def _import_sounddevice() -> ModuleType:
    """Import sounddevice. Replaced in tests; raises OSError when the PortAudio library is missing."""
    return importlib.import_module("sounddevice")


def _permission_hint() -> str:
    if sys.platform == "darwin":
        return "请在“系统设置 › 隐私与安全性 › 麦克风”中允许终端程序使用麦克风，然后重新打开终端。"
    if sys.platform.startswith("win"):
        return "请在“设置 › 隐私和安全性 › 麦克风”中打开“允许桌面应用访问麦克风”。"
    return "请确认当前用户属于 audio 组（sudo usermod -aG audio $USER 后重新登录），或检查 PipeWire/PulseAudio 是否允许访问。"


def sounddevice_module() -> ModuleType:
    """The sounddevice module, or a clear error when PortAudio is not installed."""
    try:
        return _import_sounddevice()
    except OSError as exc:
        raise PortAudioMissingError(
            "找不到 PortAudio 音频库，无法使用麦克风。"
            "请安装：Debian/Ubuntu 执行 sudo apt-get install libportaudio2；macOS 执行 brew install portaudio。"
            "也可以用 --input-file 练习已录好的 WAV 文件。",
            f"PortAudio library not found: {exc}",
        ) from exc
    except ImportError as exc:
        raise PortAudioMissingError(
            "没有安装 sounddevice，无法使用麦克风。请执行 pip install sounddevice，或用 --input-file 练习 WAV 文件。",
            f"sounddevice is not installed: {exc}",
        ) from exc


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool = False

    def label(self) -> str:
        return f"{self.index}: {self.name}（{self.hostapi}）"


def _portaudio_error_type(sd: ModuleType) -> type[BaseException]:
    return getattr(sd, "PortAudioError", OSError)


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order."""
    sd = sounddevice_module()
    try:
        devices = list(sd.query_devices())
        hostapis = list(sd.query_hostapis())
        default_in = sd.default.device[0] if sd.default.device is not None else -1
    except _portaudio_error_type(sd) as exc:
        raise DeviceOpenError(
            f"无法读取音频设备列表：{exc}。请检查声卡驱动或音频服务（PipeWire/PulseAudio）是否正常。",
            f"query_devices failed: {exc}",
        ) from exc
    result = []
    for position, info in enumerate(devices):
        channels = int(info.get("max_input_channels", 0))
        if channels < 1:
            continue
        index = int(info.get("index", position))
        api_index = int(info.get("hostapi", 0))
        api = str(hostapis[api_index]["name"]) if 0 <= api_index < len(hostapis) else ""
        result.append(
            InputDevice(
                index=index,
                name=str(info.get("name", f"device {index}")),
                hostapi=api,
                channels=channels,
                default_samplerate=float(info.get("default_samplerate", 0.0)),
                is_default=index == default_in,
            )
        )
    return result


def select_input_device(spec: str | int | None = None) -> InputDevice:
    """The device named by `--device` (index or part of the name), else the default input device."""
    devices = list_input_devices()
    if not devices:
        raise NoInputDeviceError(
            "没有找到任何录音设备（麦克风）。请插好麦克风或耳麦后重试，用 trainer devices 查看设备；"
            "没有麦克风时可用 --input-file 练习 WAV 文件。",
            "no input device",
        )
    if spec is None or spec == "":
        for device in devices:
            if device.is_default:
                return device
        return devices[0]
    text = str(spec).strip()
    if text.isdigit():
        for device in devices:
            if device.index == int(text):
                return device
    else:
        matches = [d for d in devices if text.lower() in d.name.lower()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            names = "；".join(d.label() for d in matches)
            raise DeviceNotFoundError(
                f"有多个录音设备的名称包含“{text}”：{names}。请用设备编号指定 --device。",
                f"device name {text!r} is ambiguous",
            )
    known = "；".join(d.label() for d in devices)
    raise DeviceNotFoundError(
        f"没有找到录音设备“{text}”。可用的录音设备：{known}。请用 trainer devices 查看后重试。",
        f"no input device matches {text!r}",
    )


def _is_permission_problem(exc: BaseException) -> bool:
    if isinstance(exc, PermissionError):
        return True
    text = " ".join(str(a) for a in getattr(exc, "args", ()))
    lowered = text.lower()
    if "permission" in lowered or "denied" in lowered or "not permitted" in lowered:
        return True
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, tuple) and len(arg) >= 2 and arg[1] in (-13, 13):  # EACCES from ALSA/OSS
            return True
    return False


def open_error(exc: BaseException, device: InputDevice) -> DeviceError:
    """Translate a failure to open or start the input stream."""
    if _is_permission_problem(exc):
        return MicrophonePermissionError(
            f"没有使用麦克风“{device.name}”的权限。{_permission_hint()}",
            f"permission denied opening input device {device.index}: {exc}",
        )
    text = str(exc)
    if "-9997" in text or "sample rate" in text.lower():
        return DeviceOpenError(
            f"录音设备“{device.name}”不支持所需的录音格式（单声道 16 位，16 kHz 或设备默认采样率）。"
            "请用 --device 选择 default 或 pulse 设备（由系统转换格式）。",
            f"input device {device.index} rejects 16 kHz mono int16: {exc}",
        )
    if "-9985" in text or "unavailable" in text.lower() or "busy" in text.lower():
        return DeviceOpenError(
            f"录音设备“{device.name}”正被其他程序占用或不可用。请关闭其他录音程序，或用 --device 选择其他设备。",
            f"input device {device.index} unavailable: {exc}",
        )
    return DeviceOpenError(
        f"无法打开录音设备“{device.name}”：{exc}。请用 trainer devices 查看设备，或用 --device 选择其他设备。",
        f"cannot open input device {device.index}: {exc}",
    )


def _rejects_sample_rate(exc: BaseException) -> bool:
    text = str(exc)
    return "-9997" in text or "sample rate" in text.lower()


class MicrophoneCapture:
    """An open input stream. `read()` returns the next chunk of about `chunk_seconds` (int16, mono, 16 kHz).

    The PortAudio callback only copies the block into a queue. A device that cannot
    record at 16 kHz (some hw: devices) is opened at its own default rate and
    resampled with soxr. `read()` raises `DeviceDisconnectedError` when the stream
    has stopped by itself or when no audio has arrived for `stall_seconds`.
    """

    def __init__(
        self,
        device: InputDevice,
        *,
        sample_rate: int = SAMPLE_RATE,
        chunk_seconds: float = 0.1,
        stall_seconds: float = 2.0,
    ) -> None:
        self.device = device
        self.sample_rate = sample_rate
        self.chunk_seconds = chunk_seconds
        self.blocksize = max(1, int(round(chunk_seconds * sample_rate)))
        self.device_rate = sample_rate  # the rate the device records at
        self.stall_seconds = stall_seconds
        self._resampler: Any = None
        self.overflows = 0
        self._queue: queue.Queue[np.ndarray] = queue.Queue()
        self._finished = threading.Event()
        self._stream: Any = None
        self._last_audio = 0.0

    # --- PortAudio thread -------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status:
            self.overflows += 1
        self._queue.put(np.array(indata[:, 0] if indata.ndim == 2 else indata, dtype=np.int16, copy=True))

    def _on_finished(self) -> None:
        self._finished.set()

    # --- caller -------------------------------------------------------------
    def _open(self, sd: ModuleType, rate: int) -> None:
        self._stream = sd.InputStream(
            samplerate=rate,
            blocksize=max(1, int(round(self.chunk_seconds * rate))),
            device=self.device.index,
            channels=1,
            dtype="int16",
            callback=self._callback,
            finished_callback=self._on_finished,
        )
        self._stream.start()
        self.device_rate = rate

    def start(self) -> None:
        sd = sounddevice_module()
        errors = (OSError, ValueError, _portaudio_error_type(sd))
        try:
            try:
                self._open(sd, self.sample_rate)
            except errors as exc:  # type: ignore[misc]
                native = int(self.device.default_samplerate)
                if not _rejects_sample_rate(exc) or native in (0, self.sample_rate):
                    raise
                log.info("device %s rejects %d Hz (%s); recording at %d Hz and resampling", self.device.index, self.sample_rate, exc, native)
                self._stream = None
                self._open(sd, native)
                import soxr

                self._resampler = soxr.ResampleStream(native, self.sample_rate, 1, dtype="int16")
        except errors as exc:  # type: ignore[misc]
            self._stream = None
            raise open_error(exc, self.device) from exc
        self._last_audio = time.monotonic()

    def drain(self) -> None:
        """Drop audio captured while nobody was listening (between answers)."""
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._last_audio = time.monotonic()

    def read(self) -> np.ndarray:
        if self._stream is None:
            raise RuntimeError("capture not started")
        while True:
            try:
                chunk = self._queue.get(timeout=0.05)
            except queue.Empty:
                stopped = self._finished.is_set() or not bool(getattr(self._stream, "active", True))
                if stopped or time.monotonic() - self._last_audio > self.stall_seconds:
                    raise DeviceDisconnectedError(
                        f"录音设备“{self.device.name}”中断了（可能被拔出或被系统停用）。已录下的内容会保留。"
                        "请检查麦克风连接后重新开始练习。",
                        f"input device {self.device.index} stopped delivering audio (stopped={stopped})",
                    ) from None
                continue
            self._last_audio = time.monotonic()
            if self._resampler is not None:
                chunk = np.asarray(self._resampler.resample_chunk(chunk), dtype=np.int16)
                if chunk.size == 0:
                    continue  # the resampler is still filling its window
            return chunk

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        for action in ("stop", "close"):
            try:
                getattr(stream, action)()
            except Exception as exc:  # a vanished device may fail to stop; nothing left to save here
                log.info("input stream %s failed: %s", action, exc)

    def __enter__(self) -> "MicrophoneCapture":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
