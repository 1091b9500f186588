"""DuckDB extensions come from the pinned wheels, offline, or fail with one clear line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.store import extensions

ROOT = Path(__file__).resolve().parents[2]


def installed_copy(extension_dir: Path, name: str) -> Path:
    con = duckdb.connect()
    version, platform = con.execute("select version(), (select * from pragma_platform())").fetchone()
    return extension_dir / version / platform / f"{name}.duckdb_extension"


def test_ducklake_attaches_a_local_lake(tmp_path: Path):
    extension_dir = tmp_path / "duckdb_extensions"
    writer = duckdb.connect()
    extensions.load(writer, ["ducklake"], extension_dir)
    writer.execute(f"attach 'ducklake:{tmp_path}/catalog.ducklake' as lake (data_path '{tmp_path}/lake/')")
    writer.execute("create table lake.reports as select range as n, 'example.com' as policy_domain from range(1000)")
    writer.execute("insert into lake.reports select 1000, 'example.org'")
    writer.close()

    assert installed_copy(extension_dir, "ducklake").is_file()
    assert list((tmp_path / "lake").rglob("*.parquet")), "the lake's data files are Parquet"
    # A second database instance finds the installed copy and reads the committed snapshot.
    reader = duckdb.connect()
    extensions.load(reader, ["ducklake"], extension_dir)
    reader.execute(f"attach 'ducklake:{tmp_path}/catalog.ducklake' as lake (read_only)")
    assert reader.execute("select count(*), count(distinct policy_domain) from lake.reports").fetchone() == (1001, 2)


def test_sqlite_catalog_needs_its_scanner_loaded(tmp_path: Path):
    con = duckdb.connect()
    extensions.load(con, ["ducklake"], tmp_path / "ext")
    attach = f"attach 'ducklake:sqlite:{tmp_path}/catalog.sqlite' as lake (data_path '{tmp_path}/lake/')"
    # Not loaded means an error, never an automatic download.
    with pytest.raises(duckdb.Error, match="sqlite"):
        con.execute(attach)
    assert not installed_copy(tmp_path / "ext", "sqlite_scanner").exists()

    extensions.load(con, ["sqlite_scanner"], tmp_path / "ext")
    con.execute(attach)
    con.execute("create table lake.t as select 42 as answer")
    assert con.execute("select answer from lake.t").fetchone() == (42,)


def test_loading_twice_is_a_no_op(tmp_path: Path):
    con = duckdb.connect()
    extensions.load(con, ["ducklake", "ducklake"], tmp_path / "ext")
    extensions.load(con, ["ducklake"], tmp_path / "ext")
    assert con.execute("select loaded from duckdb_extensions() where extension_name = 'ducklake'").fetchone() == (True,)


def test_other_duckdb_release_is_one_clean_line(monkeypatch):
    monkeypatch.setattr(extensions, "running_version", lambda con: "1.5.6")
    with pytest.raises(extensions.ExtensionError) as error:
        extensions.load(duckdb.connect(), ["ducklake"], Path("unused"))
    message = str(error.value)
    assert "\n" not in message
    assert "duckdb-extension-ducklake 1.5.5 holds ducklake for DuckDB 1.5.5" in message
    assert "this is DuckDB 1.5.6" in message


def test_missing_wheel_is_one_clean_line(monkeypatch):
    monkeypatch.setitem(extensions.WHEELS, "ducklake", "duckdb-extension-not-installed")
    with pytest.raises(extensions.ExtensionError, match=r"^DuckDB extension ducklake is not installed: the package "
                       r"duckdb-extension-not-installed==1\.5\.5 is missing"):
        extensions.load(duckdb.connect(), ["ducklake"], Path("unused"))


def test_unknown_extension_is_refused():
    with pytest.raises(extensions.ExtensionError, match="unknown DuckDB extension 'spatial'"):
        extensions.load(duckdb.connect(), ["spatial"], Path("unused"))


def fake_wheel(root: Path, monkeypatch, content_from: str) -> None:
    """A wheel whose ducklake file is really another extension: the trap of the `-postgres` and
    `-sqlite` packages, whose entry points do not match their names."""
    target = root / "duckdb_extension_broken" / "extensions" / f"v{duckdb.__version__}"
    target.mkdir(parents=True)
    (target.parents[1] / "__init__.py").write_text("")
    shutil.copy(extensions.wheel_file(content_from, duckdb.__version__), target / "ducklake.duckdb_extension")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setitem(extensions.WHEELS, "ducklake", "duckdb-extension-broken")


def test_file_that_does_not_load_is_one_clean_line_and_is_replaced_later(tmp_path: Path, monkeypatch):
    real_wheel_file = extensions.wheel_file("ducklake", duckdb.__version__)
    fake_wheel(tmp_path / "site", monkeypatch, content_from="sqlite_scanner")
    with pytest.raises(extensions.ExtensionError) as error:
        extensions.load(duckdb.connect(), ["ducklake"], tmp_path / "ext")
    assert "\n" not in str(error.value)
    assert str(error.value).startswith("cannot load DuckDB extension ducklake from ")
    assert "entrypoint" in str(error.value)

    # The real wheel again, in a new process (a repaired venv; this process's dynamic loader
    # keeps the broken file it opened): the stale copy is replaced, not loaded.
    script = (
        "import sys, duckdb; from pathlib import Path; from pipeline.store import extensions; "
        "con = duckdb.connect(); extensions.load(con, ['ducklake'], Path(sys.argv[1])); "
        "print(con.execute('select installed_from from duckdb_extensions() where extension_name = $$ducklake$$').fetchone()[0])"
    )
    repaired = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ext")], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.strip() == str(real_wheel_file)


def test_unwritable_extension_dir_loads_straight_from_the_wheel(tmp_path: Path):
    (tmp_path / "a-file").write_text("")
    con = duckdb.connect()
    extensions.load(con, ["ducklake"], tmp_path / "a-file" / "ext")
    con.execute(f"attach 'ducklake:{tmp_path}/catalog.ducklake' as lake (data_path '{tmp_path}/lake/')")
    assert con.execute("select install_mode from duckdb_extensions() where extension_name = 'ducklake'").fetchone() \
        != ("CUSTOM_PATH",)
