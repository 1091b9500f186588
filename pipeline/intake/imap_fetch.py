"""IMAP intake: new messages in a mailbox folder land in the spool `<data>/spool/imap/`.

Incremental by UID within a UIDVALIDITY (kept in `<data>/imap/<account>.json`). For each new
message: its size is checked before downloading; its exact bytes (BODY.PEEK[], so nothing is
marked seen) are written durably to the spool; only then is it moved to the processed folder, or
to the quarantine folder when it holds no TLS report; only then does the state advance. A
message over the size cap is never downloaded: a refusal record (sources.refusal_record) is
spooled in its place, so it still gets its quarantined `deliveries` row. A crash
anywhere means a message is fetched again (the same spool file: a no-op), never lost. A message
that fails to parse is moved aside, never retried forever (parsedmarc#638). `read_only` opens the
folder with EXAMINE and changes nothing on the server.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

from pipeline.intake.sources import REFUSAL_SUFFIX, refusal_record
from pipeline.intake.spool import write_durably
from pipeline.parse import limits
from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract
from pipeline.settings import Settings

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


@dataclass(frozen=True)
class ImapConfig:
    host: str
    user: str
    password: str
    port: int = 993
    security: str = "tls"  # tls (implicit, port 993) | starttls (port 143) | plain (loopback tests only)
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    quarantine_folder: str = "Quarantine"
    read_only: bool = False
    ca_file: str | None = None  # extra trust anchor (a private CA); system roots otherwise
    max_message_bytes: int = limits.MAX_INPUT_BYTES


@dataclass
class FetchSummary:
    fetched: int = 0
    spooled: int = 0
    moved_processed: int = 0
    moved_quarantine: int = 0
    too_large: list[int] = field(default_factory=list)


def _connect(config: ImapConfig):
    context = ssl.create_default_context(cafile=config.ca_file)
    if config.security == "tls":
        box = MailBox(config.host, config.port, ssl_context=context, timeout=30)
    elif config.security == "starttls":
        box = MailBoxStartTls(config.host, config.port, ssl_context=context, timeout=30)
    elif config.security == "plain":
        if config.host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("plain IMAP (no TLS) is only allowed to loopback")
        box = MailBoxUnencrypted(config.host, config.port, timeout=30)
    else:
        raise ValueError(f"unknown IMAP security {config.security!r}: use tls or starttls")
    return box.login(config.user, config.password, initial_folder=None)


def _state_path(settings: Settings, config: ImapConfig) -> Path:
    account = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{config.user}@{config.host}_{config.port}_{config.folder}")
    return settings.data_dir / "imap" / f"{account}.json"


def _load_state(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {"uidvalidity": None, "last_uid": 0}


def _save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _message_url(config: ImapConfig, uidvalidity: int, uid: int) -> str:
    """The message as an IMAP URL (RFC 5092): what `deliveries.origin` shows for it."""
    return f"imap://{quote(config.user)}@{config.host}:{config.port}/{quote(config.folder)};UIDVALIDITY={uidvalidity}/;UID={uid}"


def _holds_report(data: bytes) -> bool:
    _, outcomes = extract(data, Envelope(channel="imap"))
    return any(outcome.parsed is not None for outcome in outcomes)


def fetch(config: ImapConfig, settings: Settings) -> FetchSummary:
    summary = FetchSummary()
    state_path = _state_path(settings, config)
    state = _load_state(state_path)
    with _connect(config) as box:
        if not config.read_only:
            for folder in (config.processed_folder, config.quarantine_folder):
                if not box.folder.exists(folder):
                    box.folder.create(folder)
        box.folder.set(config.folder, readonly=config.read_only)
        uidvalidity = int(box.folder.status(config.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        if state["uidvalidity"] != uidvalidity:  # a new mailbox: every UID is new again
            state = {"uidvalidity": uidvalidity, "last_uid": 0}
        uids = sorted(int(u) for u in box.uids(f"UID {state['last_uid'] + 1}:*") if int(u) > state["last_uid"])
        for uid in uids:
            summary.fetched += 1
            status, response = box.client.uid("FETCH", str(uid), "(RFC822.SIZE)")
            found = _SIZE.search(b" ".join(part if isinstance(part, bytes) else part[0] for part in response if part))
            size = int(found.group(1)) if found else 0
            target = config.quarantine_folder
            if size > config.max_message_bytes:
                # Never downloaded: left on the server (moved aside below), and a record landed
                # in its place gives it a quarantined `deliveries` row like any refused input.
                summary.too_large.append(uid)
                record = refusal_record(
                    _message_url(config, uidvalidity, uid), "input_too_large",
                    f"a message of {size} bytes (cap {config.max_message_bytes}), not downloaded; "
                    f"left on the server{'' if config.read_only else ' in ' + repr(config.quarantine_folder)}",
                    datetime.now(timezone.utc).isoformat(),
                )
                write_durably(settings.imap_spool_dir, f"{uidvalidity}-{uid}{REFUSAL_SUFFIX}", record)
            else:
                status, response = box.client.uid("FETCH", str(uid), "(BODY.PEEK[])")
                data = next(part[1] for part in response if isinstance(part, tuple))
                digest = hashlib.sha256(data).hexdigest()[:16]
                summary.spooled += write_durably(settings.imap_spool_dir, f"{uidvalidity}-{uid}-{digest}.eml", data)
                if _holds_report(data):
                    target = config.processed_folder
            if not config.read_only:
                box.move(str(uid), target)
                if target == config.processed_folder:
                    summary.moved_processed += 1
                else:
                    summary.moved_quarantine += 1
            state["last_uid"] = uid
            _save_state(state_path, state)
    return summary
