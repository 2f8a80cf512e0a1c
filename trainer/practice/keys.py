"""The stop key: Enter ends the current answer.

On a POSIX terminal, stdin is put in cbreak mode (keys arrive without Enter-echo,
Ctrl-C still interrupts) and polled with `select`; the terminal is restored on exit.
On other terminals (Windows) a background thread reads lines from stdin. When stdin
is not a terminal (piped, tests), no key is watched.
"""

from __future__ import annotations

import os
import queue
import select
import sys
import threading
from typing import Any, TextIO

STOP_KEYS = ("\n", "\r")


class KeyWatcher:
    """Context manager; `stop_pressed()` is True once per press of Enter since the last `clear()`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stdin
        self._saved: Any = None
        self._fd: int | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        """True when key presses can be seen (stdin is a terminal)."""
        return self._fd is not None or self._thread is not None

    def __enter__(self) -> "KeyWatcher":
        try:
            fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is not None and os.isatty(fd) and os.name == "posix":
            import termios
            import tty

            self._fd = fd
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        elif fd is not None and os.isatty(fd):
            self._thread = threading.Thread(target=self._read_lines, daemon=True)
            self._thread.start()
        return self

    def _read_lines(self) -> None:
        for line in self.stream:
            self._lines.put(line)

    def stop_pressed(self) -> bool:
        if self._fd is not None:
            pressed = False
            while select.select([self._fd], [], [], 0)[0]:
                data = os.read(self._fd, 64).decode(errors="ignore")
                if not data:
                    break
                pressed = pressed or any(k in data for k in STOP_KEYS)
            return pressed
        pressed = False
        while True:
            try:
                self._lines.get_nowait()
                pressed = True
            except queue.Empty:
                return pressed

    def clear(self) -> None:
        """Forget keys pressed between answers."""
        self.stop_pressed()

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None and self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._fd = None
