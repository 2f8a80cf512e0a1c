"""One recogniser per process, shared by every trainee through a bounded, fair worker pool.

- `worker_plan(settings)` (from trainer.asr.factory): how many recognitions run at once
  (`asr_workers`, default one per core) and with how many CPU threads each (`asr_threads`,
  default cores // workers, at least 1), so workers × threads ≤ cores unless set by hand.
- `shared_pool(settings)`: the process-wide `FairPool` with that many workers (created once;
  a later call with another plan gets the same pool: one pool per process).
- `owner_key(...)`: the queue owner of a job (the trainee), so that trainees take turns.
- `QueuedRecognizer`: a recogniser whose every transcription waits its turn on the pool.

Why bounded threads: measured on the 2-core machine under load (benchmarks/README.md), the
default CTranslate2 team of 2 OpenMP threads per recognition burned 3–11× the CPU of one
thread on the same turn in the app server, and its turns took up to 25 s instead of 2–3 s.
"""

from __future__ import annotations

import threading

from trainer.asr.base import Recognizer, StreamingRecognition, Transcript
from trainer.asr.factory import WorkerPlan, cpu_count, worker_plan
from trainer.audio import Audio
from trainer.config import Settings
from trainer.fair_pool import FairPool

__all__ = ["QueuedRecognizer", "WorkerPlan", "cpu_count", "owner_key", "shared_pool", "worker_plan"]


_pool: FairPool | None = None
_pool_lock = threading.Lock()


def shared_pool(settings: Settings) -> FairPool:
    """The process's recognition pool, sized by `worker_plan` when first asked for."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = FairPool(worker_plan(settings).workers, name="trainer-asr")
        return _pool


def owner_key(trainee_id: str, session_id: str = "") -> str:
    """Whose turn a job is: the trainee when known (one trainee with several tabs still gets one
    place in the round), else the browser session."""
    return f"trainee:{trainee_id}" if trainee_id else f"session:{session_id}"


class QueuedRecognizer:
    """A `Recognizer` whose transcribe() waits its turn on the shared pool, for callers that
    recognise in a batch (exam marking at submission) so they share the workers fairly with
    the practising trainees instead of running beside them."""

    def __init__(self, inner: Recognizer, pool: FairPool, owner: str) -> None:
        self.inner = inner
        self.pool = pool
        self.owner = owner
        self.engine = inner.engine
        self.model_name = inner.model_name

    def transcribe(self, audio: Audio) -> Transcript:
        return self.pool.submit(self.owner, lambda: self.inner.transcribe(audio)).result()

    def stream(self) -> StreamingRecognition:
        return self.inner.stream()
