"""Storage backends: the embedded default (folders + SQLite, in trainer/sessions, trainer/accounts
and trainer/exam) and PostgreSQL (this package, SQLAlchemy Core + psycopg 3).

`trainer.storage.factory` is the one place that picks the backend from the settings; pages and
the CLI ask it for a session store, an account store and an exam ledger and never branch on the
backend themselves. The session index is SQLAlchemy Core on both backends (trainer/sessions/index_sql.py:
one set of tables, filters and row mapping), so SQLAlchemy is a plain dependency; psycopg is only
needed for PostgreSQL (`pip install "trainer[postgres]"` adds it).
"""
