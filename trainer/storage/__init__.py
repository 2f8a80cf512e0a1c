"""Storage backends: the embedded default (folders + SQLite, in trainer/sessions, trainer/accounts
and trainer/exam) and PostgreSQL (this package, SQLAlchemy Core + psycopg 3).

`trainer.storage.factory` is the one place that picks the backend from the settings; pages and
the CLI ask it for a session store, an account store and an exam ledger and never branch on the
backend themselves. The PostgreSQL modules import SQLAlchemy lazily, so the embedded default
needs neither SQLAlchemy nor psycopg installed (`pip install "trainer[postgres]"` adds them).
"""
