"""`tlsrpt sql`: the DuckDB shell the project installs, with the lake attached read-only.

The shell is PyPI's `duckdb-cli`, pinned to the release of the Python package, so it loads the
extension files `pipeline/store/extensions.py` copied into `<data>/duckdb_extensions/` by name
and offline. It reads a committed snapshot like any other reader, so it works while an ingest
commits (docs/architecture.md, "Storage on DuckLake"). The command becomes the shell (exec):
Ctrl-C, the exit code and the terminal are the shell's own.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from pipeline.settings import Settings
from pipeline.store import lake
from pipeline.store.sql_text import sql_text


class ShellUnavailable(RuntimeError):
    """The DuckDB shell is not installed beside this Python; the message is one line."""


@dataclass(frozen=True)
class ShellCommand:
    argv: list[str]
    # Added to the shell's environment: a catalog password goes to libpq as PGPASSWORD, because
    # a command line is readable by every user of the machine (`ps`) and an environment is not.
    environment: dict[str, str]


def shell_path() -> Path:
    """The `duckdb` shell of this environment (the venv's bin/, next to its Python)."""
    found = Path(sys.executable).parent / "duckdb"
    if not found.is_file():
        raise ShellUnavailable(f"no DuckDB shell at {found}: install duckdb-cli at the version of the duckdb "
                               "package (bash scripts/setup.sh does)")
    return found


def setup_statements(settings: Settings, snapshot: int | None, where: lake.Location | None = None) -> str:
    """What the shell runs before the analyst's input: the project's extensions, loaded by name
    with downloads off, and the lake attached read-only as `lake` and in use."""
    where = where or lake.location(settings)
    statements = [
        f"set extension_directory = {sql_text(str(settings.extension_dir))}",
        "set autoinstall_known_extensions = false",
        *(f"load {name}" for name in where.extensions),
        *([lake.s3_secret(settings, keys_from_environment=True)] if where.data_path.startswith("s3://") else []),
        lake.attach_statement(where, read_only=True, snapshot=snapshot),
        f"use {lake.ALIAS}",
    ]
    return "; ".join(statements) + ";"


def prepare(settings: Settings, snapshot: int | None, shell_args: list[str]) -> ShellCommand:
    """The shell's command line, after checking what the shell would only report half-way: the
    lake exists and attaches (at `snapshot`, when given). That first attach also installs the
    extension files the shell loads by name. Raises ShellUnavailable, lake.LakeUnavailable or
    extensions.ExtensionError, each one line."""
    shell = shell_path()
    lake.open_lake(settings, read_only=True, snapshot=snapshot).close()
    where = lake.location(settings)
    environment: dict[str, str] = {}
    if where.data_path.startswith("s3://"):  # read by the shell's getenv(), never on its command line
        environment.update({variable: value for variable, value in zip(
            lake.S3_KEY_VARIABLES.values(), (settings.s3_key_id, settings.s3_secret)) if value})
    if where.embedded_catalog is None:
        conninfo, password = without_password(where.attach.removeprefix("ducklake:postgres:"))
        where = replace(where, attach="ducklake:postgres:" + conninfo)
        if password is not None:
            environment["PGPASSWORD"] = password
    return ShellCommand([str(shell), "-cmd", setup_statements(settings, snapshot, where), *shell_args], environment)


_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:\\.|[^'\\])*'|\S+)")


def without_password(conninfo: str) -> tuple[str, str | None]:
    """A PostgreSQL connection string (URI or libpq `key=value` form) split into the string
    without its password, and the password (None when it names none)."""
    if "://" in conninfo:
        parts = urlsplit(conninfo)
        userinfo, at, hosts = parts.netloc.rpartition("@")
        if not at or ":" not in userinfo:
            return conninfo, None
        user, _, password = userinfo.partition(":")
        return urlunsplit(parts._replace(netloc=f"{user}@{hosts}")), unquote(password)
    found = _KEYWORD_PASSWORD.search(conninfo)
    if found is None:
        return conninfo, None
    value = found.group(1)
    if value.startswith("'"):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return (conninfo[:found.start()] + conninfo[found.end():]).strip(), value

