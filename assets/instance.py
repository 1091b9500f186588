"""The Dagster instance of a data dir: `<data>/dagster/dagster.yaml`, kept in line with the settings.

By default Dagster keeps runs, events and schedules in SQLite files under the home, which only
this machine sees. With `TLSRPT_DAGSTER_POSTGRES` (docs/deployment.md) they go to PostgreSQL, so
every machine's `tlsrpt run`, daemon and UI share one run history and one schedule state. The
file is (re)written before each use: `storage` follows the setting, everything else in it (a
`run_coordinator` added by hand, ...) is kept. No secret is written: the password is a reference
to its environment variable, which Dagster resolves when it loads the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import dagster as dg
import yaml

from pipeline.settings import Settings, variable

PASSWORD_VARIABLE = variable("dagster_postgres_password")
# SQLAlchemy 2.1 reads a plain `postgresql://` as psycopg 3; dagster-postgres brings psycopg2.
SCHEME = "postgresql+psycopg2"


def storage(settings: Settings) -> dict[str, Any] | None:
    """The `storage` section for the settings; None: Dagster's default (SQLite under the home)."""
    if not settings.dagster_postgres:
        return None
    url = urlsplit(settings.dagster_postgres)
    database: dict[str, Any] = {
        "username": unquote(url.username or ""),
        "hostname": url.hostname,
        "db_name": unquote(url.path.lstrip("/")),
        "port": url.port or 5432,
        "params": dict(parse_qsl(url.query)),
        "scheme": SCHEME,
    }
    if settings.dagster_postgres_password:
        database["password"] = {"env": PASSWORD_VARIABLE}
    return {"postgres": {"postgres_db": database}}


def write_config(settings: Settings) -> Path:
    """Bring `dagster.yaml` in line with the settings; rewritten only when it changes."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    before = path.read_text() if path.exists() else None
    config = (yaml.safe_load(before) if before else None) or {"telemetry": {"enabled": False}}
    wanted = storage(settings)
    if wanted is None:
        config.pop("storage", None)
    else:
        config["storage"] = wanted
    text = yaml.safe_dump(config, sort_keys=False)
    if text != before:
        temporary = path.with_suffix(".yaml.tmp")
        temporary.write_text(text)
        os.replace(temporary, path)  # a concurrent reader sees the old file or the new one
    return path


class DagsterStorageUnavailable(RuntimeError):
    """Dagster's PostgreSQL storage cannot be reached; the message is one line."""


def dagster_instance(settings: Settings) -> dg.DagsterInstance:
    """The instance `tlsrpt run` records its run in (and `dagster dev` with this home shows)."""
    write_config(settings)
    if settings.dagster_postgres_password:  # given in code, not the environment: Dagster reads it there
        os.environ[PASSWORD_VARIABLE] = settings.dagster_postgres_password
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return open_instance(settings)


def open_instance(settings: Settings) -> dg.DagsterInstance:
    """The instance as the home's dagster.yaml describes it, without rewriting the file."""
    if settings.dagster_postgres:
        refused = _refusal(settings)
        if refused:
            raise _unavailable(settings, refused)
    try:
        return dg.DagsterInstance.from_config(str(settings.dagster_home))
    except Exception as exc:
        if not settings.dagster_postgres:
            raise
        # dagster-postgres retries, then raises its own "too many retries"; the driver's reason
        # (refused, bad password, no such database) is at the bottom of the chain.
        while exc.__cause__ is not None or exc.__context__ is not None:
            exc = exc.__cause__ or exc.__context__
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _unavailable(settings, reason) from None


# The server answered but may let us in on a later try: Dagster's retries are for these.
_PASSING_REFUSALS = ("starting up", "shutting down", "too many", "in recovery", "remaining connection slots")


def _refusal(settings: Settings) -> str:
    """One connection attempt to Dagster's PostgreSQL: the server's reason when it answered and
    refused for good (a wrong password, no such role or database, no pg_hba entry), else "".
    dagster-postgres retries every failed connection for ~12 s, which helps a server that is
    restarting but only delays the error of a wrong password; anything that is not such a
    refusal (connection refused, a timeout, ...) is left to those retries."""
    import psycopg2  # dagster-postgres' driver; imported only for a PostgreSQL storage

    database = storage(settings)["postgres"]["postgres_db"]  # what Dagster is given, read the same way
    named = {"host": database["hostname"], "user": database["username"], "dbname": database["db_name"],
             "password": settings.dagster_postgres_password}
    # Unset ones left to libpq's defaults (~/.pgpass, the login name), as Dagster leaves them.
    options = {"port": database["port"], "connect_timeout": 5, **{k: v for k, v in named.items() if v}}
    options.update(database["params"])  # as Dagster passes them (sslmode=..., even a connect_timeout)
    try:
        psycopg2.connect(**options).close()
    except psycopg2.Error as exc:  # refused, a timeout, an option libpq does not know...: see below
        text = " ".join(str(exc).split())
        if "FATAL:" in text and not any(passing in text for passing in _PASSING_REFUSALS):
            return text[text.index("FATAL:"):]
    return ""


def _unavailable(settings: Settings, reason: str) -> DagsterStorageUnavailable:
    where = urlsplit(settings.dagster_postgres)
    return DagsterStorageUnavailable(
        f"cannot reach Dagster's storage (TLSRPT_DAGSTER_POSTGRES, {where.hostname}{where.path}): {reason}")
