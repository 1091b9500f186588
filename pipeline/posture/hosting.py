"""Host MTA-STS policy files on the report receiver (`tlsrpt serve --mta-sts-dir DIR`): a GET of
`https://mta-sts.<domain>/.well-known/mta-sts.txt` answers `DIR/<domain>.txt` as text/plain
(RFC 8461 3.3), so one service is both the policy host and the rua=https:// endpoint."""

from __future__ import annotations

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
