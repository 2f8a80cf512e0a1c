"""A bounded pool of worker threads with a fair queue: the owners of waiting jobs take turns.

Many trainees share one recogniser. `FairPool(workers)` runs at most `workers` jobs at
once; waiting jobs are kept per owner (a trainee, a browser session) and started round-robin
across owners, so one owner with many jobs cannot starve the others. `submit` returns a
`Ticket` that tells how many people are ahead (for 前面还有 N 人), and gives the job's value
or re-raises its exception in the caller that waits for it.

Nothing here knows about speech or Streamlit: the unit tests drive it with plain callables.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from trainer.errors import TrainerError

T = TypeVar("T")

QUEUED = "queued"
RUNNING = "running"
DONE = "done"


class PoolClosedError(TrainerError):
    """The pool was shut down before the job could run."""


def _closed_error() -> PoolClosedError:
    return PoolClosedError(
        "识别服务正在关闭，这段录音没有被处理。请稍后刷新页面再录一次。",
        "the worker pool was shut down before the job ran",
    )


@dataclass(frozen=True)
class QueueStatus:
    """Where a job stands: `ahead` waiting jobs start before it; `running` jobs are being served."""

    state: str  # queued | running | done
    ahead: int
    running: int

    @property
    def people_ahead(self) -> int:
        """前面还有 N 人: the waiting jobs before this one plus those being served (0 once it runs)."""
        return self.ahead + self.running if self.state == QUEUED else 0


class Ticket(Generic[T]):
    """One submitted job."""

    def __init__(self, pool: "FairPool", owner: str, seq: int, fn: Callable[[], T]) -> None:
        self._pool = pool
        self.owner = owner
        self.seq = seq
        self._fn = fn
        self.state = QUEUED
        self._value: T | None = None
        self._error: BaseException | None = None
        self._finished = threading.Event()

    def status(self) -> QueueStatus:
        return self._pool.status(self)

    def done(self) -> bool:
        return self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has finished (or `timeout` seconds); True when it has."""
        return self._finished.wait(timeout)

    def result(self, timeout: float | None = None) -> T:
        """The job's value; re-raises the job's exception. TimeoutError when not finished in time."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.seq} of {self.owner!r} not finished within {timeout} s")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def _finish(self, value: Any = None, error: BaseException | None = None) -> None:
        self._value, self._error = value, error
        self.state = DONE
        self._fn = None  # type: ignore[assignment]  # drop the closure (audio bytes) early
        self._finished.set()

    def __repr__(self) -> str:
        return f"Ticket(owner={self.owner!r}, seq={self.seq}, state={self.state})"


class FairPool:
    """`workers` threads serving a round-robin queue of owners."""

    def __init__(self, workers: int, name: str = "trainer-pool") -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self._cond = threading.Condition()
        self._queues: OrderedDict[str, deque[Ticket[Any]]] = OrderedDict()  # ring: next owner first
        self._running = 0
        self._closed = False
        self._seq = itertools.count(1)
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i + 1}", daemon=True) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    # ---- callers

    def submit(self, owner: str, fn: Callable[[], T]) -> Ticket[T]:
        """Queue `fn` for `owner`. Raises PoolClosedError after shutdown."""
        with self._cond:
            if self._closed:
                raise _closed_error()
            ticket: Ticket[T] = Ticket(self, owner, next(self._seq), fn)
            queue = self._queues.get(owner)
            if queue is None:
                queue = self._queues[owner] = deque()  # a new owner joins the end of the ring
            queue.append(ticket)
            self._cond.notify()
            return ticket

    def status(self, ticket: Ticket[Any]) -> QueueStatus:
        with self._cond:
            if ticket.state != QUEUED:
                return QueueStatus(ticket.state, 0, self._running)
            return QueueStatus(QUEUED, self._ahead(ticket), self._running)

    def order(self) -> list[Ticket[Any]]:
        """The waiting jobs in the order they will start."""
        with self._cond:
            return sorted((t for q in self._queues.values() for t in q), key=self._ahead)

    @property
    def running(self) -> int:
        with self._cond:
            return self._running

    @property
    def waiting(self) -> int:
        with self._cond:
            return sum(len(q) for q in self._queues.values())

    def shutdown(self, wait: bool = True) -> None:
        """Refuse new jobs, fail the waiting ones with PoolClosedError, let running jobs finish."""
        with self._cond:
            self._closed = True
            dropped = [t for q in self._queues.values() for t in q]
            self._queues.clear()
            self._cond.notify_all()
        for ticket in dropped:
            ticket._finish(error=_closed_error())
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    # ---- inside

    def _ahead(self, ticket: Ticket[Any]) -> int:
        """Jobs that start before `ticket` under round-robin (caller holds the lock).

        The ring serves one job per owner per round, starting with the first owner. The ticket
        is its owner's k-th waiting job, so it starts in round k: before it go k jobs of its
        own owner, up to k + 1 jobs of each owner ahead of it in the ring and up to k of each
        owner behind it.
        """
        owners = list(self._queues)
        mine = owners.index(ticket.owner)
        k = self._queues[ticket.owner].index(ticket)
        ahead = k
        for i, owner in enumerate(owners):
            if i != mine:
                ahead += min(len(self._queues[owner]), k + 1 if i < mine else k)
        return ahead

    def _next(self) -> Ticket[Any] | None:
        while not self._queues and not self._closed:
            self._cond.wait()
        if not self._queues:
            return None
        owner, queue = next(iter(self._queues.items()))
        ticket = queue.popleft()
        if queue:
            self._queues.move_to_end(owner)  # this owner's next job waits for everyone else's turn
        else:
            del self._queues[owner]
        ticket.state = RUNNING
        self._running += 1
        return ticket

    def _work(self) -> None:
        while True:
            with self._cond:
                ticket = self._next()
            if ticket is None:
                return
            try:
                value = ticket._fn()
            except BaseException as exc:  # handed to the waiting caller, never lost in this thread
                ticket._finish(error=exc)
            else:
                ticket._finish(value=value)
            finally:
                with self._cond:
                    self._running -= 1
