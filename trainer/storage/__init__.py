"""Storage backends: the embedded default (folders + SQLite, in trainer/sessions, trainer/accounts
and trainer/exam) and PostgreSQL (this package, SQLAlchemy Core + psycopg 3). The leaf modules
`schema` (the tables), `engine` (engines, transactions, errors) and `sqlite` (the embedded file)
are used by the account store for both backends.

`trainer.storage.factory` is the one place that picks the backend from the settings; pages and
the CLI ask it for a session store, an account store and an exam ledger and never branch on the
backend themselves. SQLAlchemy is a dependency of the package (the session index, trainer/sessions/index_sql.py,
and the account store use it on both backends); psycopg (the PostgreSQL driver) is only needed with
PostgreSQL (`pip install "trainer[postgres]"` adds it).
"""
