"""`tlsrpt check` and `tlsrpt setup`: registered on the CLI by `register(app)`, logic here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from pipeline.posture.result import CheckResult
from pipeline.posture.settings import PostureSettings

if TYPE_CHECKING:
    from pipeline.posture.run import Run

# pipeline.posture.run (its probes pull in httpx and the certificate and STARTTLS code, ~0.18 s)
# is imported by the commands that use it, not when the CLI starts: every other command would
# pay for it.

COLOURS = {"ok": "green", "warn": "yellow", "fail": "red", "error": "magenta"}
DnsServer = Annotated[str, typer.Option(help="DNS server ip[:port] (default: TLSRPT_DNS_SERVER, else the system resolver).")]


def print_run(run: Run, out: Console) -> None:
    from pipeline.posture.run import worst

    by_domain: dict[str, list[CheckResult]] = {}
    for result in run.results:
        by_domain.setdefault(result.domain, []).append(result)
    for domain, results in by_domain.items():
        verdict = worst(results)
        out.print(f"[bold]{domain}[/bold]: [{COLOURS[verdict]}]{verdict}[/]", highlight=False)
        for r in results:
            out.print(f"  [{COLOURS[r.verdict]}]{r.verdict:5}[/] {r.check:14} {r.target}: {r.detail}", highlight=False, soft_wrap=True)
    if run.skipped:
        out.print(f"not checked (over the per-run cap): {', '.join(run.skipped)}", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def check(
        domains: Annotated[Optional[list[str]], typer.Argument(help="Domains (default: TLSRPT_POSTURE_DOMAINS and the domains in reports).")] = None,
        data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Where the history is written (default: TLSRPT_DATA_DIR, else ./data).")] = None,
        save: Annotated[bool, typer.Option("--save/--no-save", help="Keep the results in posture_checks.")] = True,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per result.")] = False,
        dns_server: DnsServer = "",
        smtp_port: Annotated[int, typer.Option(help="SMTP port to probe on each MX.")] = 25,
        https_port: Annotated[int, typer.Option(help="HTTPS port of the policy host.")] = 443,
        ca_file: Annotated[Optional[Path], typer.Option(help="Trust these CAs instead of the system store.")] = None,
        connect: Annotated[str, typer.Option(hidden=True, help="Dial this address for every HTTPS/SMTP probe (tests).")] = "",
    ) -> None:
        """Check what domains publish: TLSRPT and MTA-STS records, the policy file, MX STARTTLS certificates, TLSA."""
        from pipeline.cli import console, fail, out, settings_for
        from pipeline.posture.run import check_domains, is_domain, normalise
        from pipeline.store.posture_history import check_and_record, watched_domains
        from pipeline.store.warehouse import WarehouseBusy

        try:
            posture = PostureSettings()
        except ValueError as exc:
            fail(str(exc))
        settings = settings_for(data_dir) if save or not domains else None
        try:
            wanted = [normalise(d) for d in domains] if domains else watched_domains(settings, posture)
        except WarehouseBusy as exc:
            fail(str(exc))
        if not wanted:
            fail("no domains to check: name some, set TLSRPT_POSTURE_DOMAINS, or ingest reports first")
        bad = [d for d in wanted if not is_domain(d)]
        if bad:
            fail(f"not a domain name: {bad[0]!r}")
        config = posture.probe_config(dns_server=dns_server or posture.dns_server, smtp_port=smtp_port, https_port=https_port,
                                      ca_file=str(ca_file or ""), connect_address=connect)
        emit = (lambda r: out.print(json.dumps(_as_dict(r)), highlight=False, soft_wrap=True)) if as_json else None
        try:
            if save:
                run, run_id = check_and_record(settings, wanted, config, emit)
                console.print(f"saved {len(run.results)} results as run {run_id} in posture_checks", highlight=False)
            else:
                run = check_domains(wanted, config, emit)
        except WarehouseBusy as exc:
            console.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(3) from None
        if not as_json:
            print_run(run, out)
        if any(r.verdict == "fail" for r in run.results):
            raise typer.Exit(1)

    @app.command()
    def setup(
        domain: Annotated[str, typer.Argument(help="The domain that receives mail.")],
        rua: Annotated[list[str], typer.Option(help="Where reports go: mailto:ADDRESS or https://URL (repeatable).")],
        dns_server: DnsServer = "",
        policy_file: Annotated[Optional[Path], typer.Option(help="Also write the policy file here (e.g. for `tlsrpt serve --mta-sts-dir`).")] = None,
    ) -> None:
        """Print the DNS records and the MTA-STS policy file to publish, from the domain's MX records."""
        from pipeline.cli import fail, out
        from pipeline.posture.publish import SetupError, plan
        from pipeline.posture.run import is_domain, normalise

        domain = normalise(domain)
        if not is_domain(domain):
            fail(f"not a domain name: {domain!r}")
        try:
            publication = plan(domain, rua, PostureSettings().probe_config(dns_server=dns_server))
        except SetupError as exc:
            fail(str(exc))
        if policy_file is not None:
            policy_file.parent.mkdir(parents=True, exist_ok=True)
            policy_file.write_bytes(publication.policy.encode())
        out.print(publication.text(), highlight=False, soft_wrap=True, markup=False)


def _as_dict(result: CheckResult) -> dict:
    return {"domain": result.domain, "check": result.check, "target": result.target, "verdict": result.verdict,
            "reason": result.reason, "detail": result.detail, "facts": result.facts, "checked_at": result.checked_at.isoformat()}
