"""Host MTA-STS policy files on the report receiver (`tlsrpt serve --mta-sts-dir DIR`): a GET of
`https://mta-sts.<domain>/.well-known/mta-sts.txt` answers `DIR/<domain>.txt` as text/plain
(RFC 8461 3.3), so one service is both the policy host and the rua=https:// endpoint."""

from __future__ import annotations

import ssl
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from pipeline.posture.run import is_domain, normalise
from pipeline.posture.sts_policy import parse_policy

MAX_POLICY_BYTES = 64 * 1024


def policy_for(policy_dir: Path, host: str) -> bytes | None:
    """The policy file for a `Host:` header, or None. Only `mta-sts.<valid domain>` maps to a
    file name, so no header can name a path outside the folder."""
    name = normalise(host.rsplit(":", 1)[0] if not host.endswith("]") else "")
    if not name.startswith("mta-sts."):
        return None
    domain = name.removeprefix("mta-sts.")
    path = policy_dir / f"{domain}.txt"
    if not is_domain(domain) or not path.is_file() or path.stat().st_size > MAX_POLICY_BYTES:
        return None
    return path.read_bytes()


def check_folder(policy_dir: Path) -> list[str]:
    """One line per policy file that would not validate: said at start-up, before senders see it."""
    problems = []
    for path in sorted(policy_dir.glob("*.txt")):
        policy = parse_policy(path.read_text(encoding="utf-8", errors="replace"))
        if not is_domain(path.stem):
            problems.append(f"{path.name}: the file name is not <domain>.txt")
        elif not policy.valid:
            problems.append(f"{path.name}: {policy.problems[0][1]}")
    return problems


def policy_route(policy_dir: Path) -> Route:
    async def serve_policy(request: Request) -> Response:
        body = policy_for(policy_dir, request.headers.get("host", ""))
        if body is None:
            return PlainTextResponse("no MTA-STS policy for this host\n", status_code=404)
        # Senders cache the policy for max_age; a short HTTP cache keeps edits visible quickly.
        return Response(body, media_type="text/plain", headers={"Cache-Control": "max-age=300"})

    return Route("/.well-known/mta-sts.txt", serve_policy, methods=["GET"])


def sni_factory(cert_dir: Path):
    """uvicorn's `ssl_context_factory`: the --cert certificate by default and, for a client that
    asks (SNI) for NAME, `cert_dir/NAME.pem` (key and chain in one file) when there is one. Loaded
    once at start: a renewed certificate needs a restart. Raises ssl.SSLError/OSError on a bad file."""
    contexts = {}
    for pem in sorted(cert_dir.glob("*.pem")):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem)
        contexts[pem.stem.lower()] = context

    def factory(_config, default):
        context = default()

        def pick(connection, name, _context):
            if name and name.lower() in contexts:
                connection.context = contexts[name.lower()]

        context.sni_callback = pick
        return context

    return factory


class HostingError(ValueError):
    """A `tlsrpt serve` hosting option that cannot work: one line for the user."""


def serve_options(mta_sts_dir: Path | None, sni_dir: Path | None, has_cert: bool, console) -> tuple[str, object]:
    """(TLSRPT_MTA_STS_DIR for the app, uvicorn's ssl_context_factory or None); policy files that
    would not validate are printed as warnings before senders see them."""
    if mta_sts_dir is not None:
        if not mta_sts_dir.is_dir():
            raise HostingError(f"--mta-sts-dir {mta_sts_dir} is not a folder")
        for problem in check_folder(mta_sts_dir):
            console.print(f"[yellow]warning:[/yellow] {problem}", highlight=False)
    factory = None
    if sni_dir is not None:
        if not has_cert or not sni_dir.is_dir():
            raise HostingError("--sni-dir needs --cert/--key and a folder of NAME.pem files")
        try:
            factory = sni_factory(sni_dir)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise HostingError(f"--sni-dir {sni_dir}: {exc}") from None
    return str(mta_sts_dir.absolute()) if mta_sts_dir else "", factory
