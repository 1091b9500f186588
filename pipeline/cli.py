"""The `tlsrpt` command line. Thin: every command calls the same functions as the assets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from pipeline import status as status_mod
from pipeline.settings import Settings, SettingsError
from pipeline.store import lake

app = typer.Typer(add_completion=False, no_args_is_help=True, help="SMTP TLS Reporting (RFC 8460) warehouse.")
console = Console(stderr=True)
out = Console()

DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Where everything is written (default: TLSRPT_DATA_DIR, else ./data)."),
]
NoModels = Annotated[bool, typer.Option(
    "--no-models", help="Load the core tables only; the SQL models (and what the dashboard shows) wait for the next "
    "`tlsrpt run` (loading many archives in a row: rebuild once at the end; an intake machine of a shared lake).")]


def error_line(message: str) -> None:
    """One `error:` line; the message (paths, channel names) is text, never rich markup."""
    from rich.text import Text

    from pipeline.plain_text import visible

    console.print(Text.assemble(("error:", "red"), " ", visible(message)))


def fail(message: str) -> None:
    error_line(message)
    raise typer.Exit(2)


def _port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def validated(**given: object) -> Settings:
    """The settings from the options given and the environment, or a one-line error (exit 2)."""
    try:
        return Settings(**{name: value for name, value in given.items() if value is not None})
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable: fail() exits


@app.callback()
def check_settings() -> None:
    # Every command checks every TLSRPT_* value before it does anything (the posture probes'
    # own settings too: a typo must not quietly switch them on or off).
    validated()
    from pipeline.posture.settings import PostureSettings

    try:
        PostureSettings()
    except ValueError as exc:
        fail(str(exc))


def settings_for(data_dir: Path | None, workers: int | None = None) -> Settings:
    settings = validated(data_dir=data_dir, workers=workers or None)
    directory = settings.data_dir
    if directory.exists() and not directory.is_dir():
        fail(f"--data-dir {directory} exists and is not a folder")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fail(f"cannot write to data dir {directory}: {exc.strerror or exc}")
    return settings


def models_settings_for(data_dir: Path | None, workers: int | None = None) -> Settings:
    """The settings of a command that rebuilds the SQL models: the detection config file is
    checked too, before anything is loaded (a bad value must not surface after the load)."""
    from pipeline.detect.detection_config import DetectionConfigError, load_thresholds

    settings = settings_for(data_dir, workers)
    try:
        load_thresholds(settings.data_dir)
    except DetectionConfigError as exc:
        fail(str(exc))
    return settings


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files, folders, mbox files or Maildir folders.")],
    data_dir: DataDir = None,
    workers: Annotated[Optional[int], typer.Option(help="Parallel parser processes (default: cores).")] = None,
    no_models: NoModels = False,
) -> None:
    """Land, parse and load TLS-RPT reports; print what was loaded, duplicate or quarantined."""
    from pipeline.ingest_cli import run_ingest

    missing = [str(p) for p in paths if not p.exists() and not p.is_symlink()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    settings = settings_for(data_dir, workers) if no_models else models_settings_for(data_dir, workers)
    run_ingest(paths, settings, console, out, models=not no_models)


@app.command()
def rebuild(data_dir: DataDir = None) -> None:
    """Rebuild every table from the landing zone alone (after a parser upgrade, or a lost DB)."""
    from pipeline.ingest_cli import run_rebuild

    run_rebuild(models_settings_for(data_dir), console, out)


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Row counts, last run, and the quarantine by reason."""
    settings = settings_for(data_dir)
    try:
        status_mod.print_status(settings, out, last_run=_last_dagster_run(settings))
    except lake.LakeUnavailable as exc:  # an unreachable catalog: exit 3, as for a writer
        error_line(str(exc))
        raise typer.Exit(3) from None


def _last_dagster_run(settings: Settings) -> str | None:
    """The line on the newest Dagster run, read by assets/run_history.py in a process of its own:
    the library never imports Dagster, and a data dir with no run history never pays for it."""
    import subprocess

    if not settings.has_dagster_history:
        return None
    try:
        found = subprocess.run([sys.executable, "-m", "assets.run_history", str(settings.data_dir)],
                               capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "last Dagster run: unknown (reading the run history timed out)"
    return found.stdout.strip() or None


@app.command()
def raw(
    key: Annotated[str, typer.Argument(help="A report_key (reports) or a raw_sha256 (deliveries).")],
    data_dir: DataDir = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write here instead of standard output.")] = None,
) -> None:
    """Write the raw input bytes (the mail, .json.gz, ...) that carried a report, from the landing zone."""
    from pipeline.store.raw_lookup import find_raw

    settings = settings_for(data_dir)
    found = find_raw(settings, key.strip().lower())
    if found is None:
        fail(f"no report or raw input {key!r} in the warehouse at {lake.location(settings).described}")
    if out_file:
        out_file.write_bytes(found)
        console.print(f"wrote {len(found)} bytes to {out_file}", highlight=False)
    else:
        sys.stdout.buffer.write(found)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def sql(
    ctx: typer.Context,
    data_dir: DataDir = None,
    snapshot: Annotated[Optional[int], typer.Option(min=0, help="Read this committed snapshot of the lake (time travel).")] = None,
) -> None:
    """Open the DuckDB shell on the warehouse, read-only (also while a pipeline writes). Other arguments go to
    the shell: `tlsrpt sql -c "select count(*) from reports"` runs one query and exits."""
    import os

    from pipeline import sql_shell
    from pipeline.store.extensions import ExtensionError
    from pipeline.store.lake import LakeUnavailable

    settings = validated(data_dir=data_dir)  # a reader: no data dir is created or written
    try:
        command = sql_shell.prepare(settings, snapshot, ctx.args)
    except (sql_shell.ShellUnavailable, ExtensionError) as exc:
        fail(str(exc))
    except LakeUnavailable as exc:
        error_line(str(exc))
        raise typer.Exit(3) from None
    sys.stdout.flush()
    os.execve(command.argv[0], command.argv, {**os.environ, **command.environment})


@app.command()
def maintain(data_dir: DataDir = None) -> None:
    """Merge the lake's small data files, expire snapshots older than TLSRPT_SNAPSHOT_RETENTION_DAYS (never the one
    the dashboard reads) and delete the files no snapshot needs any more; print what it did."""
    from pipeline.store import maintenance
    from pipeline.store.lake import LakeUnavailable
    from pipeline.store.warehouse import WarehouseBusy

    settings = validated(data_dir=data_dir)
    try:
        done = maintenance.run(settings)
    except (LakeUnavailable, WarehouseBusy) as exc:  # exit 3, as for any writer that cannot write now
        error_line(str(exc))
        raise typer.Exit(3) from None
    out.print(done.described, highlight=False)


@app.command()
def run(data_dir: DataDir = None) -> None:
    """Materialize the whole asset graph once: inbox -> landing -> core tables -> SQL models -> dashboard snapshot."""
    import os

    from pipeline.ingest_cli import clean_errors
    from pipeline.store.warehouse import writer_lock

    settings = models_settings_for(data_dir)
    with clean_errors(console, settings):
        with writer_lock(settings.data_dir):  # another writer: say so now, not as a failed Dagster run
            pass
    # The Dagster side lives in assets/ (the pipeline package never imports Dagster): this
    # command becomes `python -m assets.run`, the same process, its exit code the command's.
    os.execv(sys.executable, [sys.executable, "-m", "assets.run", str(settings.data_dir)])


@app.command()
def dashboard(
    data_dir: DataDir = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Start the analyst dashboard on the last passed model build and print its address."""
    import os
    from importlib import resources
    from pathlib import Path as _Path

    settings = settings_for(data_dir)
    script = _Path(str(resources.files("app").joinpath("streamlit_app.py")))
    if not script.exists():
        fail(f"the dashboard code is missing ({script})")
    wanted = port
    while not _port_is_free(host, port):
        port += 1
        if port > wanted + 20:
            fail(f"ports {wanted}-{port} on {host} are all in use; choose one with --port")
    out.print(f"dashboard: http://{host}:{port}  (data: {settings.data_dir}; Ctrl-C stops it)", highlight=False)
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.address", host, "--server.port", str(port), "--browser.gatherUsageStats", "false",
               # An analyst's tool: no "Deploy" button or developer menu.
               "--client.toolbarMode", "viewer"]
    sys.stdout.flush()
    # Become the server rather than wait for it: a SIGTERM (systemd, docker stop, kill) to this pid
    # then stops Streamlit itself, where a child would be orphaned and keep the port.
    os.execve(sys.executable, command, {**os.environ, "TLSRPT_DATA_DIR": str(settings.data_dir)})


@app.command(name="fetch-imap")
def fetch_imap(
    host: Annotated[Optional[str], typer.Option(help="IMAP server (default: TLSRPT_IMAP_HOST).")] = None,
    user: Annotated[Optional[str], typer.Option(help="Login name (default: TLSRPT_IMAP_USER).")] = None,
    data_dir: DataDir = None,
    port: Annotated[Optional[int], typer.Option(help="Default: TLSRPT_IMAP_PORT, else 993 (tls) or 143 (starttls).")] = None,
    security: Annotated[Optional[str], typer.Option(help="tls (implicit) or starttls (default: TLSRPT_IMAP_SECURITY, else tls).")] = None,
    password_file: Annotated[Optional[Path], typer.Option(help="File holding the password (else TLSRPT_IMAP_PASSWORD).")] = None,
    folder: Annotated[Optional[str], typer.Option(help="Folder to read (default: TLSRPT_IMAP_FOLDER, else INBOX).")] = None,
    processed_folder: Annotated[str, typer.Option(help="Where handled messages are moved.")] = "Processed",
    quarantine_folder: Annotated[str, typer.Option(help="Where messages without a report are moved.")] = "Quarantine",
    read_only: Annotated[bool, typer.Option("--read-only", help="Never change the mailbox (EXAMINE, no moves; or TLSRPT_IMAP_READ_ONLY).")] = False,
    ca_file: Annotated[Optional[Path], typer.Option(help="Extra CA certificate to trust (default: TLSRPT_IMAP_CA_FILE).")] = None,
    no_models: NoModels = False,
) -> None:
    """Fetch new reports from an IMAP folder, then load them (and rebuild the marts)."""
    from imap_tools import MailboxLoginError

    from pipeline.ingest_cli import load_drop_folders
    from pipeline.intake.imap_fetch import ImapConfig, fetch

    settings = settings_for(data_dir) if no_models else models_settings_for(data_dir)
    imap = settings.imap
    host, user, security, folder = host or imap.host, user or imap.user, security or imap.security, folder or imap.folder
    port, ca_file, read_only = port or imap.port, ca_file or imap.ca_file, read_only or imap.read_only
    if not host or not user:
        fail("no mailbox: pass --host and --user, or set TLSRPT_IMAP_HOST and TLSRPT_IMAP_USER")
    if password_file is not None:
        if not password_file.is_file():
            fail(f"no such file: {password_file}")
        password = password_file.read_text().strip()
    else:
        password = imap.password
    if not password:
        fail("no password: set TLSRPT_IMAP_PASSWORD or pass --password-file")
    if security not in ("tls", "starttls"):
        fail("--security takes tls or starttls")
    config = ImapConfig(
        host=host, user=user, password=password, port=port or (993 if security == "tls" else 143), security=security,
        folder=folder, processed_folder=processed_folder, quarantine_folder=quarantine_folder,
        read_only=read_only, ca_file=str(ca_file) if ca_file else None,
    )
    try:
        summary = fetch(config, settings)
    except MailboxLoginError:
        fail(f"IMAP login refused for {user} at {host}")
    except OSError as exc:
        fail(f"cannot reach IMAP server {host}:{config.port}: {exc}")
    out.print(f"fetched {summary.fetched} messages ({summary.moved_processed} with reports, "
              f"{summary.moved_quarantine} set aside, {len(summary.too_large)} too large)", highlight=False)
    load_drop_folders(settings, console, out, models=not no_models)


@app.command()
def load(data_dir: DataDir = None, no_models: NoModels = False) -> None:
    """Land and load what waits in the inbox and the spools (HTTPS receiver, IMAP fetcher), then rebuild the marts."""
    from pipeline.ingest_cli import load_drop_folders

    settings = settings_for(data_dir) if no_models else models_settings_for(data_dir)
    load_drop_folders(settings, console, out, models=not no_models)


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8460,
    certfile: Annotated[Optional[Path], typer.Option("--cert", help="TLS certificate chain (PEM); without it, plain HTTP for a reverse proxy.")] = None,
    keyfile: Annotated[Optional[Path], typer.Option("--key", help="TLS private key (PEM).")] = None,
    allow_domain: Annotated[Optional[list[str]], typer.Option(help="Accept only reports for this policy domain (repeatable).")] = None,
    max_body: Annotated[int, typer.Option(help="Largest accepted body in bytes.")] = 10 * 1024 * 1024,
    body_deadline: Annotated[float, typer.Option(help="Seconds a client may take to send its body.")] = 30.0,
    max_connections: Annotated[int, typer.Option(help="Concurrent connections before answering 503.")] = 100,
    header_timeout: Annotated[float, typer.Option(help="Seconds a client may take to send a request's head (else 408).")] = 10.0,
    client_connections: Annotated[int, typer.Option(
        help="Connections one client address may hold at once; more are answered 503 at once.")] = 16,
    mta_sts_dir: Annotated[Optional[Path], typer.Option(help="Also host <domain>.txt from this folder as https://mta-sts.<domain>/.well-known/mta-sts.txt.")] = None,
    sni_dir: Annotated[Optional[Path], typer.Option(help="Per-name certificates: NAME.pem (key + chain) answers clients asking for NAME (SNI).")] = None,
) -> None:
    """Receive reports POSTed to a `rua=https://` endpoint (RFC 8460 5.4) into the HTTPS spool."""
    import uvicorn

    from pipeline.intake.receiver import ReceiverConfig, make_app
    from pipeline.intake.receiver_limits import guarded_protocol
    from pipeline.parse.policy_text import normalise_host

    settings = settings_for(data_dir)
    if header_timeout <= 0 or client_connections < 1 or max_connections < 1:
        fail("--header-timeout, --client-connections and --max-connections must be positive")
    if (certfile is None) != (keyfile is None):
        fail("--cert and --key go together")
    for path in (certfile, keyfile):
        if path is not None and not path.is_file():
            fail(f"no such file: {path}")
    settings.spool_dir.mkdir(parents=True, exist_ok=True)
    from pipeline.posture.hosting import HostingError, serve_options

    try:  # --mta-sts-dir, --sni-dir (docs/posture.md)
        mta_sts, sni = serve_options(mta_sts_dir, sni_dir, certfile is not None, console)
    except HostingError as exc:
        fail(str(exc))
    receiver = make_app(ReceiverConfig(
        spool_dir=settings.spool_dir, max_body_bytes=max_body, body_deadline_seconds=body_deadline,
        allowed_domains=frozenset(normalise_host(d) for d in allow_domain or [] if d.strip()),
        mta_sts_dir=Path(mta_sts) if mta_sts else None,
    ))
    scheme = "https" if certfile else "http"
    out.print(f"receiving TLS reports at {scheme}://{host}:{port}/tlsrpt  (spool: {settings.spool_dir}; health: /healthz)", highlight=False)
    uvicorn.run(
        receiver, host=host, port=port, log_level="warning",
        ssl_certfile=str(certfile) if certfile else None, ssl_keyfile=str(keyfile) if keyfile else None,
        limit_concurrency=max_connections, timeout_keep_alive=5, timeout_graceful_shutdown=5, ssl_context_factory=sni,
        http=guarded_protocol(header_timeout, client_connections),
    )


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the corpus into.")],
    domains: Annotated[Optional[int], typer.Option(min=1, help="Policy domains (default 3; 12 with --scenario).")] = None,
    days: Annotated[Optional[int], typer.Option(min=1, help="Days of reports (default 30; 90 with --scenario).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 0,
    reports: Annotated[Optional[int], typer.Option(min=1, help="Exact number of reports (scales days/domains).")] = None,
    formats: Annotated[str, typer.Option(help="Comma list of files, eml, mbox.")] = "files,eml",
    scenario: Annotated[Optional[list[str]], typer.Option(
        metavar="NAME", help="Labelled incident on a calm background, repeatable: cert-expiry, sts-host-down, "
        "starttls-stripped, reporter-silent, mx-migration, dane-rollover, all, or clean (background only). "
        "Ground truth goes to OUT/incidents.json.")] = None,
) -> None:
    """Write a deterministic, realistic corpus of TLS-RPT reports (.json.gz files and .eml mails)."""
    from pipeline.generate.incidents import resolve
    from pipeline.ingest_cli import run_generate

    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    bad = [f for f in chosen if f not in ("files", "eml", "mbox")]
    if bad or not chosen:
        fail(f"--formats takes files, eml, mbox (got {formats!r})")
    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out_dir} exists and is not a folder")
    if scenario is not None:
        if reports is not None:
            fail("--reports cannot be combined with --scenario")
        try:
            resolve(scenario)
        except ValueError as e:
            fail(str(e))
    try:
        run_generate(out_dir, domains, days, seed, reports, chosen, console, out, scenarios=scenario)
    except ValueError as e:  # e.g. too few domains for the scenarios: said in one line
        fail(str(e))


@app.command()
def alerts(
    data_dir: DataDir = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be sent; send nothing, change no state.")] = False,
    config: Annotated[Optional[Path], typer.Option(help="Alerts config (default: TLSRPT_ALERTS_CONFIG, else <data>/alerts.toml).")] = None,
) -> None:
    """Send alerts (webhook, e-mail, Apprise) for new, worse and resolved problems in the last passed build."""
    from pipeline.alerts.config import AlertsConfigError
    from pipeline.alerts.report import print_run
    from pipeline.alerts.run import run_alerts
    from pipeline.alerts.state import AlertsBusy

    settings = settings_for(data_dir)
    config = config or settings.alerts_config
    if config is not None and not config.is_file():
        fail(f"no such alerts config: {config}")
    try:
        result = run_alerts(settings, config, dry_run=dry_run)
    except AlertsConfigError as exc:
        fail(str(exc))
    except AlertsBusy as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(3) from None
    print_run(result, out)
    if result.failed:
        failed = sorted({o.event.channel for o in result.failed})
        error_line(f"{len(result.failed)} message(s) not accepted by {', '.join(failed)}; they are retried on the next run")
        raise typer.Exit(1)


from pipeline.posture_cli import register as register_posture  # noqa: E402 - after the helpers it uses

register_posture(app)  # `tlsrpt check`, `tlsrpt setup` (docs/posture.md)


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)
