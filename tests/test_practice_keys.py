"""The stop key, on a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import sys
import termios

import pytest

from trainer.practice.keys import KeyWatcher

pytestmark = pytest.mark.skipif(sys.platform.startswith("win"), reason="POSIX terminals only")


def test_enter_on_a_terminal_stops_once_and_terminal_is_restored() -> None:
    master, slave = os.openpty()
    with os.fdopen(slave, "r", closefd=True) as tty_in:
        before = termios.tcgetattr(slave)
        with KeyWatcher(tty_in) as keys:
            assert keys.active
            assert not termios.tcgetattr(slave)[3] & termios.ICANON  # cbreak: keys arrive without Enter
            assert not keys.stop_pressed()
            os.write(master, b"x")
            assert not keys.stop_pressed()  # other keys do not stop
            os.write(master, b"\n")
            assert keys.stop_pressed()
            assert not keys.stop_pressed()  # one press, one stop
            os.write(master, b"\r")
            keys.clear()  # pressed between answers: forgotten
            assert not keys.stop_pressed()
        assert termios.tcgetattr(slave) == before
    os.close(master)


def test_not_a_terminal_watches_nothing() -> None:
    with KeyWatcher(io.StringIO("\n\n")) as keys:
        assert not keys.active
        assert not keys.stop_pressed()
