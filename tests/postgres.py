"""The tests' PostgreSQL: the server `.ci/run` starts from the system's packages (TUTORSIM_PG_URL),
each test in a schema of its own, dropped afterwards. Without a server a test that needs one
skips with the reason on a developer's machine, and fails under CI=true (there .ci/run must have
started one: a missing server must not let the tests pass unseen)."""
from __future__ import annotations

import contextlib
import os
import uuid

import pytest

PG_URL = os.environ.get("TUTORSIM_PG_URL")
NO_PG = ("TUTORSIM_PG_URL is not set: no PostgreSQL server to test against (.ci/run starts one; or set "
         "it to postgresql://...)")
# the mark of a test that needs the server (conftest.py's `pg_server` fixture applies the rule)
needs_pg = pytest.mark.usefixtures("pg_server")


def require() -> None:
    """Skip (fail under CI=true) unless there is a server."""
    if not PG_URL:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {NO_PG}")
        pytest.skip(NO_PG)


@contextlib.contextmanager
def fresh_schema(prefix: str):
    """A new schema `prefix_<random>`: yields (a URL whose connections use it, an autocommit
    connection to it); dropped with everything in it afterwards."""
    import psycopg
    require()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn = psycopg.connect(PG_URL, autocommit=True)
    conn.execute(f"CREATE SCHEMA {name}")
    conn.execute(f"SET search_path TO {name}")
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options=-csearch_path%3D{name}", conn
    finally:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.close()
