"""Microphone capture and device errors, with sounddevice replaced at the capture module's import boundary.

`FakeSoundDevice` stands in for the sounddevice module: query_devices,
query_hostapis, default.device, PortAudioError and InputStream (callback +
finished_callback). The stream plays a given int16 signal block by block from a
thread (optionally only while a `gate` is open), and can vanish after some blocks (a device pulled out), either announcing it
(finished callback) or silently (no more callbacks).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from trainer.practice import capture
from trainer.practice.capture import (
    DeviceDisconnectedError,
    DeviceNotFoundError,
    DeviceOpenError,
    MicrophoneCapture,
    MicrophonePermissionError,
    NoInputDeviceError,
    PortAudioMissingError,
    list_input_devices,
    select_input_device,
)
from trainer.practice.source import MicrophoneSource


class FakePortAudioError(Exception):
    pass


class FakeSoundDevice:
    PortAudioError = FakePortAudioError

    def __init__(
        self,
        signal: np.ndarray | None = None,
        *,
        devices: list[dict[str, Any]] | None = None,
        default_input: int = 0,
        open_error: BaseException | None = None,
        reject_rates: tuple[int, ...] = (),
        disconnect_after_blocks: int | None = None,
        announce_disconnect: bool = True,
        block_interval: float = 0.0,
        gate: Any = None,
    ) -> None:
        self.signal = signal if signal is not None else np.zeros(16000 * 30, dtype=np.int16)
        self.devices = (
            devices
            if devices is not None
            else [
                {"name": "HDA Intel PCH: ALC257 Analog (hw:0,0)", "index": 0, "hostapi": 0, "max_input_channels": 2, "max_output_channels": 2, "default_samplerate": 44100.0},
                {"name": "HDMI 0", "index": 1, "hostapi": 0, "max_input_channels": 0, "max_output_channels": 8, "default_samplerate": 48000.0},
                {"name": "USB Headset Mic", "index": 2, "hostapi": 0, "max_input_channels": 1, "max_output_channels": 0, "default_samplerate": 48000.0},
                {"name": "default", "index": 3, "hostapi": 0, "max_input_channels": 32, "max_output_channels": 32, "default_samplerate": 44100.0},
            ]
        )
        self.default = SimpleNamespace(device=[default_input, 0])
        self.open_error = open_error
        self.reject_rates = reject_rates
        self.disconnect_after_blocks = disconnect_after_blocks
        self.announce_disconnect = announce_disconnect
        self.block_interval = block_interval
        self.gate = gate  # callable: blocks are produced only while it returns True (a speaker who waits for the prompt)
        self.opened: list[dict[str, Any]] = []
        fake = self

        class InputStream:
            def __init__(self, **kwargs: Any) -> None:
                if fake.open_error is not None:
                    raise fake.open_error
                if kwargs["samplerate"] in fake.reject_rates:
                    raise FakePortAudioError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]")
                fake.opened.append(kwargs)
                self.kwargs = kwargs
                self.active = False
                self.closed = False
                self._stop = threading.Event()
                self._thread: threading.Thread | None = None

            def start(self) -> None:
                self.active = True
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

            def _run(self) -> None:
                block = self.kwargs["blocksize"]
                callback = self.kwargs["callback"]
                blocks = 0
                for start in range(0, len(fake.signal) - block + 1, block):
                    while fake.gate is not None and not fake.gate() and not self._stop.is_set():
                        time.sleep(0.002)
                    if self._stop.is_set():
                        return
                    if fake.disconnect_after_blocks is not None and blocks >= fake.disconnect_after_blocks:
                        if fake.announce_disconnect:
                            self.active = False
                            self.kwargs["finished_callback"]()
                        return  # silent: the stream looks active but nothing arrives
                    callback(fake.signal[start : start + block].reshape(-1, 1), block, None, None)
                    blocks += 1
                    if fake.block_interval:
                        time.sleep(fake.block_interval)

            def stop(self) -> None:
                self._stop.set()
                self.active = False

            def close(self) -> None:
                self._stop.set()
                self.closed = True

        self.InputStream = InputStream

    def query_devices(self) -> list[dict[str, Any]]:
        return self.devices

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "ALSA"}]


def use(monkeypatch: pytest.MonkeyPatch, fake: Any) -> Any:
    monkeypatch.setattr(capture, "_import_sounddevice", lambda: fake)
    return fake


def ramp(seconds: float) -> np.ndarray:
    """A signal whose every sample is distinct enough to check that nothing was lost or reordered."""
    return (np.arange(int(seconds * 16000)) % 20000).astype(np.int16)


def test_portaudio_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_portaudio() -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(capture, "_import_sounddevice", no_portaudio)
    with pytest.raises(PortAudioMissingError) as info:
        list_input_devices()
    assert "PortAudio" in info.value.user_message and "libportaudio2" in info.value.user_message
    assert "--input-file" in info.value.user_message
    with pytest.raises(PortAudioMissingError):
        MicrophoneSource().open()


def test_lists_only_input_devices_and_marks_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeSoundDevice(default_input=2))
    devices = list_input_devices()
    assert [d.index for d in devices] == [0, 2, 3]
    assert [d.is_default for d in devices] == [False, True, False]
    assert devices[1].name == "USB Headset Mic" and devices[1].hostapi == "ALSA"
    assert devices[1].default_samplerate == 48000.0


def test_select_device_by_index_name_or_default(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeSoundDevice(default_input=3))
    assert select_input_device(None).index == 3
    assert select_input_device("2").index == 2
    assert select_input_device(2).index == 2
    assert select_input_device("usb").index == 2
    with pytest.raises(DeviceNotFoundError) as info:
        select_input_device("bluetooth")
    assert "USB Headset Mic" in info.value.user_message and "trainer devices" in info.value.user_message
    with pytest.raises(DeviceNotFoundError):
        select_input_device("1")  # HDMI: output only
    with pytest.raises(DeviceNotFoundError) as info:
        select_input_device("a")  # matches several names
    assert "多个" in info.value.user_message


def test_no_input_device(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, FakeSoundDevice(devices=[{"name": "HDMI 0", "index": 0, "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0}], default_input=-1))
    assert list_input_devices() == []
    with pytest.raises(NoInputDeviceError) as info:
        MicrophoneSource().open()
    assert "没有找到任何录音设备" in info.value.user_message


@pytest.mark.parametrize(
    "error",
    [
        FakePortAudioError("Error opening InputStream: Unanticipated host error", -9999, (0, -13, "Permission denied")),
        PermissionError(13, "Permission denied"),
    ],
)
def test_permission_denied(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    use(monkeypatch, FakeSoundDevice(open_error=error))
    with pytest.raises(MicrophonePermissionError) as info:
        MicrophoneSource().open()
    assert "权限" in info.value.user_message


def test_unsupported_rate_and_busy_device(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = use(monkeypatch, FakeSoundDevice(open_error=FakePortAudioError("Error opening InputStream: Invalid sample rate [PaErrorCode -9997]")))
    with pytest.raises(DeviceOpenError) as info:
        MicrophoneSource().open()
    assert "16 kHz" in info.value.user_message and "default" in info.value.user_message
    fake.open_error = FakePortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
    with pytest.raises(DeviceOpenError) as info:
        MicrophoneSource().open()
    assert "占用" in info.value.user_message


def test_capture_opens_16k_mono_int16_and_delivers_every_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    signal = ramp(1.0)
    fake = use(monkeypatch, FakeSoundDevice(signal))
    with MicrophoneCapture(select_input_device(None), stall_seconds=0.5) as mic:
        chunks = [mic.read() for _ in range(10)]
    opened = fake.opened[0]
    assert (opened["samplerate"], opened["channels"], opened["dtype"], opened["blocksize"]) == (16000, 1, "int16", 1600)
    assert all(c.dtype == np.int16 and c.shape == (1600,) for c in chunks)
    assert np.array_equal(np.concatenate(chunks), signal)


@pytest.mark.parametrize("announce", [True, False], ids=["stream-finished", "stream-silent"])
def test_disconnect_mid_recording_keeps_recorded_audio(monkeypatch: pytest.MonkeyPatch, announce: bool) -> None:
    signal = ramp(3.0)
    use(monkeypatch, FakeSoundDevice(signal, disconnect_after_blocks=7, announce_disconnect=announce))
    recorded: list[np.ndarray] = []
    with MicrophoneCapture(select_input_device(None), stall_seconds=0.3) as mic:
        with pytest.raises(DeviceDisconnectedError) as info:
            while True:
                recorded.append(mic.read())
    assert "中断" in info.value.user_message and "保留" in info.value.user_message
    assert np.array_equal(np.concatenate(recorded), signal[: 7 * 1600])


def test_begin_turn_drops_audio_captured_between_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    block_numbers = np.repeat(np.arange(200, dtype=np.int16), 1600)
    use(monkeypatch, FakeSoundDevice(block_numbers, block_interval=0.005))
    with MicrophoneSource(stall_seconds=1.0) as source:
        source.begin_turn()
        first = source.read()
        time.sleep(0.2)  # blocks keep arriving while the result is shown
        source.begin_turn()
        later = source.read()
        after = source.read()
    assert first is not None and later is not None and after is not None
    assert int(later[0]) > int(first[0]) + 5  # the blocks in between were dropped ...
    assert int(after[0]) == int(later[0]) + 1  # ... and reading goes on without gaps


def test_device_without_16k_is_recorded_at_its_own_rate_and_resampled(monkeypatch: pytest.MonkeyPatch) -> None:
    t = np.arange(48000 * 2) / 48000
    tone_48k = (8000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
    fake = use(monkeypatch, FakeSoundDevice(tone_48k, reject_rates=(16000,)))
    with MicrophoneCapture(select_input_device("USB"), stall_seconds=0.3) as mic:
        chunks = []
        with pytest.raises(DeviceDisconnectedError):  # the fake signal ends: the stream goes quiet
            while True:
                chunks.append(mic.read())
    assert [o["samplerate"] for o in fake.opened] == [48000]
    out = np.concatenate(chunks)
    assert out.dtype == np.int16
    assert abs(len(out) - 32000) < 1600  # 2 s at 16 kHz (minus the resampler's delay)
    spectrum = np.abs(np.fft.rfft(out[4000:20000].astype(float)))
    assert np.argmax(spectrum) * 16000 / 16000 == pytest.approx(440, abs=2)  # 1 Hz bins over 16000 samples


def test_trainer_devices_lists_input_devices(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from trainer.cli import main

    monkeypatch.setenv("COLUMNS", "120")
    use(monkeypatch, FakeSoundDevice(default_input=2))
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "USB Headset Mic" in out and "HDA Intel PCH" in out and "HDMI" not in out
    assert "48000 Hz" in out and "✓" in out and "--device" in out


def test_trainer_devices_errors(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from trainer.cli import main

    use(monkeypatch, FakeSoundDevice(devices=[], default_input=-1))
    assert main(["devices"]) == 2
    assert "没有找到任何录音设备" in capsys.readouterr().err

    def no_portaudio() -> Any:
        raise OSError("PortAudio library not found")

    monkeypatch.setattr(capture, "_import_sounddevice", no_portaudio)
    assert main(["devices"]) == 2
    assert "PortAudio" in capsys.readouterr().err
    assert main(["practice", "--scenario", "reception"]) == 2  # the microphone path reports the same
    assert "PortAudio" in capsys.readouterr().err
