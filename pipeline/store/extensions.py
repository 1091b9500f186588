"""DuckDB extensions, loaded offline from the `duckdb-extension-*` wheels pinned beside DuckDB.

DuckDB's own `INSTALL ducklake` downloads from the internet; here it must never happen. Each
wheel ships `<package>/extensions/v<duckdb version>/<name>.duckdb_extension`, and a file loads
only into that exact DuckDB release (a 1.5.5 extension refuses 1.5.6). So the file is looked up
for the running version, copied once with `INSTALL '<file>'` into a project-local extension
directory (`<data>/duckdb_extensions/`, where the DuckDB shell finds it too), and loaded by
name. Automatic installs are switched off on the connection, so an extension we did not load
fails with DuckDB's "not loaded" error instead of a download attempt.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import os
from pathlib import Path
from typing import Iterable

import duckdb

from pipeline.store.sql_text import sql_text

# extension name -> the distribution that ships it (and whose import package holds the file)
WHEELS = {
    "ducklake": "duckdb-extension-ducklake",
    # Not `duckdb-extension-postgres` / `-sqlite`: their files' entry points do not match their
    # names and LOAD fails.
    "postgres_scanner": "duckdb-extension-postgres-scanner",
    "sqlite_scanner": "duckdb-extension-sqlite-scanner",
    "httpfs": "duckdb-extension-httpfs",
}


class ExtensionError(RuntimeError):
    """An extension a command needs is missing, built for another DuckDB, or fails to load."""


def running_version(con: duckdb.DuckDBPyConnection) -> str:
    """'1.5.5' for the DuckDB library this process runs (what an extension must match)."""
    return con.execute("select version()").fetchone()[0].lstrip("v")


def wheel_file(name: str, duckdb_version: str) -> Path:
    """The extension file for this DuckDB release inside its wheel, or a one-line ExtensionError."""
    if name not in WHEELS:
        raise ExtensionError(f"unknown DuckDB extension {name!r}; known: {', '.join(sorted(WHEELS))}")
    dist = WHEELS[name]
    try:
        root = importlib.resources.files(dist.replace("-", "_")) / "extensions"
    except ModuleNotFoundError:
        raise ExtensionError(
            f"DuckDB extension {name} is not installed: the package {dist}=={duckdb_version} is missing "
            "(bash scripts/setup.sh installs it)"
        ) from None
    candidate = root / f"v{duckdb_version}" / f"{name}.duckdb_extension"
    if not candidate.is_file():
        built_for = sorted(p.name.lstrip("v") for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise ExtensionError(
            f"{dist} {_dist_version(dist)} holds {name} for DuckDB {', '.join(built_for) or 'no version'}, "
            f"but this is DuckDB {duckdb_version}: pin duckdb and the duckdb-extension-* packages to one release"
        )
    return Path(str(candidate))


def load(con: duckdb.DuckDBPyConnection, names: Iterable[str], extension_dir: Path) -> None:
    """Load `names` into the connection's database, installing each from its wheel on first use.
    Already loaded ones cost nothing. Load only what the command needs: each costs a few hundred
    milliseconds per process (docs/architecture.md, "Storage on DuckLake")."""
    version = running_version(con)
    con.execute("set autoinstall_known_extensions = false")
    installable = _use_extension_dir(con, extension_dir)
    state = {
        row[0]: (row[1], row[2])
        for row in con.execute("select extension_name, loaded, installed_from from duckdb_extensions()").fetchall()
    }
    wanted = [name for name in dict.fromkeys(names) if not state.get(name, (False, ""))[0]]
    if not wanted:
        return
    for name in wanted:
        source = wheel_file(name, version)
        try:
            if installable:
                # Plain INSTALL is a no-op once the file is there; FORCE when it came from another
                # wheel file (a moved or rebuilt venv) so the copy never goes stale.
                force = "force " if state.get(name, (False, ""))[1] not in ("", str(source)) else ""
                con.execute(f"{force}install {sql_text(str(source))}")
                con.execute(f"load {name}")
            else:
                con.execute(f"load {sql_text(str(source))}")
        except duckdb.Error as exc:
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExtensionError(f"cannot load DuckDB extension {name} from {source}: {detail}") from None


def _use_extension_dir(con: duckdb.DuckDBPyConnection, extension_dir: Path) -> bool:
    """Point the database at the project's extension directory; False when it cannot be written
    (a read-only data dir): the files are then loaded straight from the wheels."""
    try:
        extension_dir.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(extension_dir, os.W_OK):
        return False
    con.execute(f"set extension_directory = {sql_text(str(extension_dir))}")
    return True


def _dist_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "(no metadata)"

