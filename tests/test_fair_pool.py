"""The fair recognition pool: round-robin across owners, bounded concurrency, queue positions,
errors to the right caller, shutdown. Jobs are plain callables gated by events (no speech)."""

from __future__ import annotations

import threading
import time

import pytest

from trainer.config import Settings
from trainer.fair_pool import DONE, QUEUED, RUNNING, FairPool, PoolClosedError
from trainer.recognition import WorkerPlan, owner_key, worker_plan

WAIT = 10.0  # generous bound for thread hand-offs; never reached when the code is right


class Gate:
    """A job that records when it starts and blocks until released."""

    def __init__(self, name: str, log: list[str], lock: threading.Lock) -> None:
        self.name = name
        self.started = threading.Event()
        self.release = threading.Event()
        self._log = log
        self._lock = lock

    def __call__(self) -> str:
        with self._lock:
            self._log.append(self.name)
        self.started.set()
        assert self.release.wait(WAIT), f"{self.name} never released"
        return self.name


@pytest.fixture
def started() -> tuple[list[str], threading.Lock]:
    return [], threading.Lock()


def _until(condition, seconds: float = WAIT) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


def test_owners_take_turns_so_a_busy_trainee_cannot_starve_others(started) -> None:  # type: ignore[no-untyped-def]
    log, lock = started
    pool = FairPool(1)
    try:
        blocker = Gate("blocker", log, lock)
        pool.submit("x", blocker)
        assert blocker.started.wait(WAIT)
        gates = {}
        # A uploads five recordings before B and C submit one each
        for name in ("a1", "a2", "a3", "a4", "a5", "b1", "c1"):
            gates[name] = Gate(name, log, lock)
            gates[name].release.set()
            pool.submit(name[0], gates[name])
        assert [t.owner + str(t.seq) for t in pool.order()][:3] == ["a2", "b7", "c8"]
        blocker.release.set()
        _until(lambda: len(log) == 8)
        assert log == ["blocker", "a1", "b1", "c1", "a2", "a3", "a4", "a5"]
    finally:
        pool.shutdown()


def test_an_owner_coming_back_joins_the_end_of_the_round(started) -> None:  # type: ignore[no-untyped-def]
    log, lock = started
    pool = FairPool(1)
    try:
        blocker = Gate("blocker", log, lock)
        pool.submit("x", blocker)
        assert blocker.started.wait(WAIT)
        for name in ("a1", "b1", "a2", "c1", "b2"):
            gate = Gate(name, log, lock)
            gate.release.set()
            pool.submit(name[0], gate)
        blocker.release.set()
        _until(lambda: len(log) == 6)
        # round 1: a, b, c (owners in order of arrival); round 2: a, b
        assert log == ["blocker", "a1", "b1", "c1", "a2", "b2"]
    finally:
        pool.shutdown()


def test_positions_count_the_people_ahead(started) -> None:  # type: ignore[no-untyped-def]
    log, lock = started
    pool = FairPool(2)
    try:
        running = [Gate(f"r{i}", log, lock) for i in range(2)]
        tickets = [pool.submit(f"run{i}", gate) for i, gate in enumerate(running)]
        for gate in running:
            assert gate.started.wait(WAIT)
        assert all(t.status().state == RUNNING and t.status().people_ahead == 0 for t in tickets)
        waiting = {name: Gate(name, log, lock) for name in ("a1", "a2", "b1", "c1")}
        queued = {name: pool.submit(name[0], gate) for name, gate in waiting.items()}
        # order: a1, b1, c1, a2 — plus the two being served
        ahead = {name: t.status().ahead for name, t in queued.items()}
        assert ahead == {"a1": 0, "b1": 1, "c1": 2, "a2": 3}
        assert queued["a2"].status().people_ahead == 5 and queued["a2"].status().state == QUEUED
        assert pool.running == 2 and pool.waiting == 4
        running[0].release.set()  # one worker frees up: a1 starts, everyone moves up
        assert waiting["a1"].started.wait(WAIT)
        _until(lambda: queued["b1"].status().ahead == 0)
        assert queued["a2"].status().people_ahead == 4
        for gate in [running[1], *waiting.values()]:
            gate.release.set()
        assert [queued[n].result(WAIT) for n in ("a1", "a2", "b1", "c1")] == ["a1", "a2", "b1", "c1"]
        assert queued["c1"].status().state == DONE and queued["c1"].status().people_ahead == 0
    finally:
        pool.shutdown()


def test_never_more_jobs_at_once_than_workers() -> None:
    pool = FairPool(3)
    lock = threading.Lock()
    now = [0]
    peak = [0]

    def job() -> None:
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        time.sleep(0.02)
        with lock:
            now[0] -= 1

    try:
        tickets = [pool.submit(f"owner{i % 7}", job) for i in range(40)]
        for ticket in tickets:
            ticket.result(WAIT)
        assert peak[0] == 3
    finally:
        pool.shutdown()


def test_an_error_goes_to_the_caller_whose_job_failed() -> None:
    pool = FairPool(2)

    def fails() -> None:
        raise ValueError("bad recording of b")

    try:
        good = pool.submit("a", lambda: "a ok")
        bad = pool.submit("b", fails)
        other = pool.submit("c", lambda: "c ok")
        with pytest.raises(ValueError, match="bad recording of b"):
            bad.result(WAIT)
        assert good.result(WAIT) == "a ok" and other.result(WAIT) == "c ok"
        assert pool.submit("d", lambda: 4).result(WAIT) == 4  # the worker survived the error
    finally:
        pool.shutdown()


def test_result_times_out_while_queued(started) -> None:  # type: ignore[no-untyped-def]
    log, lock = started
    pool = FairPool(1)
    gate = Gate("slow", log, lock)
    try:
        ticket = pool.submit("a", gate)
        with pytest.raises(TimeoutError):
            ticket.result(0.05)
        assert not ticket.done()
        gate.release.set()
        assert ticket.result(WAIT) == "slow" and ticket.done()
    finally:
        pool.shutdown()


def test_shutdown_fails_waiting_jobs_finishes_running_ones_and_refuses_new(started) -> None:  # type: ignore[no-untyped-def]
    log, lock = started
    pool = FairPool(1)
    gate = Gate("running", log, lock)
    running = pool.submit("a", gate)
    assert gate.started.wait(WAIT)
    waiting = pool.submit("b", lambda: "never")
    closer = threading.Thread(target=pool.shutdown)
    closer.start()
    with pytest.raises(PoolClosedError) as info:
        waiting.result(WAIT)
    assert "识别服务正在关闭" in info.value.user_message
    assert closer.is_alive()  # waits for the running job
    gate.release.set()
    closer.join(WAIT)
    assert not closer.is_alive() and running.result(0) == "running"
    with pytest.raises(PoolClosedError):
        pool.submit("c", lambda: None)
    assert log == ["running"]
    assert not any(t.is_alive() for t in pool._threads)


def test_workers_times_threads_fit_the_cores() -> None:
    assert worker_plan(Settings(), cores=2) == WorkerPlan(2, 1)  # the default: one single-threaded worker per core
    assert worker_plan(Settings(), cores=8) == WorkerPlan(8, 1)
    assert worker_plan(Settings(asr_workers=1), cores=2) == WorkerPlan(1, 2)
    assert worker_plan(Settings(asr_workers=3), cores=8) == WorkerPlan(3, 2)
    assert worker_plan(Settings(asr_workers=4), cores=2) == WorkerPlan(4, 1)
    assert worker_plan(Settings(asr_workers=2, asr_threads=3), cores=2) == WorkerPlan(2, 3)  # by hand: as given


def test_owner_is_the_trainee_else_the_session() -> None:
    assert owner_key("E1024", "s1") == owner_key("E1024", "s2")
    assert owner_key("", "s1") != owner_key("", "s2")
    with pytest.raises(ValueError):
        FairPool(0)


def test_queued_recognizer_waits_its_turn_on_the_pool(started) -> None:  # type: ignore[no-untyped-def]
    from trainer.recognition import QueuedRecognizer

    log, lock = started

    class Inner:
        engine = "fake"
        model_name = "m"

        def transcribe(self, audio):  # type: ignore[no-untyped-def]
            with lock:
                log.append(("transcribe", threading.current_thread().name))
            return f"text of {audio}"

        def stream(self):  # type: ignore[no-untyped-def]
            return "stream"

    pool = FairPool(1, name="asr-test")
    try:
        blocker = Gate("practice", log, lock)
        pool.submit("trainee:A", blocker)
        assert blocker.started.wait(WAIT)
        queued = QueuedRecognizer(Inner(), pool, "trainee:B")
        assert (queued.engine, queued.model_name, queued.stream()) == ("fake", "m", "stream")
        answer: list[str] = []
        caller = threading.Thread(target=lambda: answer.append(queued.transcribe("clip")))
        caller.start()
        _until(lambda: pool.waiting == 1)  # waits behind the running practice turn
        assert answer == []
        blocker.release.set()
        caller.join(WAIT)
        assert answer == ["text of clip"] and log[-1] == ("transcribe", "asr-test-1")
    finally:
        pool.shutdown()
