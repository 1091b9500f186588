"""IMAP intake against a real Dovecot on loopback: incremental, moves only after landing,
quarantines what holds no report, read-only changes nothing, a re-run fetches nothing new."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from imap_tools import MailBoxUnencrypted

from pipeline.generate import write_corpus
from pipeline.ingest import ingest
from pipeline.intake.imap_fetch import ImapConfig, fetch
from pipeline.settings import Settings
from tests import imap_server
from tests.conftest import query


@pytest.fixture(scope="module")
def dovecot():
    server = imap_server.start()
    yield server
    imap_server.stop(server)


@pytest.fixture(scope="module")
def messages(tmp_path_factory) -> list[bytes]:
    corpus = tmp_path_factory.mktemp("mails")
    write_corpus(corpus, domains=1, days=3, seed=5, formats=("eml",))
    return [p.read_bytes() for p in sorted((corpus / "eml").rglob("*.eml"))]


def _mailbox(dovecot, folder: str) -> list[str]:
    with MailBoxUnencrypted("127.0.0.1", dovecot.imap_port).login(imap_server.USER, imap_server.PASSWORD, initial_folder=None) as box:
        if not box.folder.exists(folder):
            return []
        box.folder.set(folder)
        return box.uids()


def _append(dovecot, payloads: list[bytes], folder: str = "INBOX") -> None:
    with MailBoxUnencrypted("127.0.0.1", dovecot.imap_port).login(imap_server.USER, imap_server.PASSWORD, initial_folder=None) as box:
        if not box.folder.exists(folder):
            box.folder.create(folder)
        for payload in payloads:
            box.append(payload, folder)


def config(dovecot, **changes) -> ImapConfig:
    base = dict(host="127.0.0.1", user=imap_server.USER, password=imap_server.PASSWORD, port=dovecot.imaps_port,
                security="tls", ca_file=str(dovecot.ca_file))
    return ImapConfig(**{**base, **changes})


def test_fetch_lands_moves_and_is_incremental(dovecot, messages, tmp_path: Path):
    junk = b"From: a@b.example\r\nTo: c@d.example\r\nSubject: lunch\r\n\r\nSee you at noon.\r\n"
    _append(dovecot, [*messages[:3], junk])
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    first = fetch(config(dovecot), settings)
    assert (first.fetched, first.spooled, first.moved_processed, first.moved_quarantine) == (4, 4, 3, 1)
    assert _mailbox(dovecot, "INBOX") == []
    assert len(_mailbox(dovecot, "Processed")) == 3 and len(_mailbox(dovecot, "Quarantine")) == 1
    again = fetch(config(dovecot), settings)
    assert again.fetched == 0  # nothing new: UIDs are remembered per UIDVALIDITY
    _append(dovecot, messages[3:5])
    later = fetch(config(dovecot, port=dovecot.imap_port, security="starttls"), settings)
    assert later.fetched == 2 and later.moved_processed == 2
    spool = settings.imap_spool_dir
    summary = ingest([spool], settings, channels={spool: "imap"})
    assert summary.loaded == 5 and summary.quarantined == {"not_a_tls_report": 1}
    assert query(settings.data_dir, "select distinct channel from reports") == [("imap",)]


def test_read_only_changes_nothing_on_the_server(dovecot, messages, tmp_path: Path):
    _append(dovecot, messages[5:7])
    before = _mailbox(dovecot, "INBOX")
    summary = fetch(config(dovecot, read_only=True), Settings(data_dir=tmp_path / "data", workers=1))
    assert summary.fetched == len(before) and summary.spooled == len(before)
    assert _mailbox(dovecot, "INBOX") == before  # still there, nothing moved


def test_too_large_message_is_moved_aside_unread(dovecot, messages, tmp_path: Path):
    for uid in _mailbox(dovecot, "INBOX"):  # start from an empty INBOX
        with MailBoxUnencrypted("127.0.0.1", dovecot.imap_port).login(imap_server.USER, imap_server.PASSWORD) as box:
            box.delete(uid)
    _append(dovecot, [messages[0]])
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    summary = fetch(config(dovecot, max_message_bytes=100), settings)
    assert summary.too_large and summary.spooled == 0 and summary.moved_quarantine == 1
    # Never downloaded, yet not without a trace: its refusal record becomes a quarantined delivery.
    spool = settings.imap_spool_dir
    loaded = ingest([spool], settings, channels={spool: "imap"})
    assert loaded.inputs == 1 and loaded.quarantined == {"input_too_large": 1}
    [(channel, origin, outcome, detail, sha, received)] = query(
        settings.data_dir, "select channel, origin, outcome, detail, raw_sha256, received_at from deliveries")
    uid = summary.too_large[0]
    assert channel == "imap" and outcome == "quarantined" and sha is None and received is not None
    assert origin.startswith(f"imap://{quote(imap_server.USER)}@127.0.0.1:")  # RFC 5092: the user's "@" escaped and origin.endswith(f";UID={uid}")
    size = int(re.search(r"a message of (\d+) bytes", detail).group(1))  # as the server counts (CRLF lines)
    assert size >= len(messages[0]) and "cap 100" in detail and "'Quarantine'" in detail
    # Replaying the landing zone alone gives the same row.
    shutil.rmtree(settings.data_dir / "lake")
    replayed = ingest([], settings, replay_only=True)
    assert replayed.quarantined == {"input_too_large": 1}
    assert query(settings.data_dir, "select channel, origin, outcome, detail, raw_sha256, received_at from deliveries") == [
        (channel, origin, outcome, detail, sha, received)]


def test_wrong_password_is_a_clear_error(dovecot, tmp_path: Path):
    from imap_tools import MailboxLoginError

    with pytest.raises(MailboxLoginError):
        fetch(config(dovecot, password="wrong"), Settings(data_dir=tmp_path / "data", workers=1))


def test_cli_fetch_imap_then_load(dovecot, messages, tmp_path: Path):
    import os
    import subprocess
    import sys

    _append(dovecot, [messages[7]])
    data_dir = tmp_path / "data"
    env = {**os.environ, "TLSRPT_IMAP_PASSWORD": imap_server.PASSWORD}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "fetch-imap", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(dovecot.imaps_port), "--user", imap_server.USER, "--ca-file", str(dovecot.ca_file)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "with reports" in result.stdout
    assert query(data_dir, "select count(*) from reports where channel = 'imap'")[0][0] >= 1
    refused = subprocess.run(
        [sys.executable, "-m", "pipeline", "fetch-imap", "--data-dir", str(data_dir), "--host", "127.0.0.1",
         "--port", str(dovecot.imaps_port), "--user", imap_server.USER, "--ca-file", str(dovecot.ca_file)],
        capture_output=True, text=True, env={**os.environ, "TLSRPT_IMAP_PASSWORD": "wrong"}, timeout=60,
    )
    assert refused.returncode == 2 and "login refused" in refused.stderr and "Traceback" not in refused.stderr


def _empty_inbox(dovecot) -> None:
    with MailBoxUnencrypted("127.0.0.1", dovecot.imap_port).login(imap_server.USER, imap_server.PASSWORD) as box:
        uids = box.uids()
        if uids:
            box.delete(uids)


@pytest.mark.timeout(300)
def test_thousand_messages_a_poisoned_one_and_a_killed_fetcher(dovecot, tmp_path: Path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.fixtures.builders import mime_nested_rfc822

    _empty_inbox(dovecot)
    corpus = tmp_path / "corpus"
    write_corpus(corpus, domains=10, days=60, seed=21, formats=("eml",))
    mails = [p.read_bytes() for p in sorted((corpus / "eml").rglob("*.eml"))][:999]
    poison = mime_nested_rfc822(2_000)  # a MIME structure that breaks naive parsers
    batch = mails[:500] + [poison] + mails[500:]
    assert len(batch) == 1_000
    _append(dovecot, batch)
    data_dir = tmp_path / "data"
    command = [sys.executable, "-m", "pipeline", "fetch-imap", "--data-dir", str(data_dir), "--host", "127.0.0.1",
               "--port", str(dovecot.imaps_port), "--user", imap_server.USER, "--ca-file", str(dovecot.ca_file)]
    env = {**os.environ, "TLSRPT_IMAP_PASSWORD": imap_server.PASSWORD}
    spool = data_dir / "spool" / "imap"
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if spool.is_dir() and len(list(spool.glob("*.eml"))) >= 300:
            break
        time.sleep(0.02)
    assert process.poll() is None, "the fetcher finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # mid-run: some messages landed, some moved, some neither
    process.wait()
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert finished.returncode == 0, finished.stderr
    assert _mailbox(dovecot, "INBOX") == []
    moved = len(_mailbox(dovecot, "Processed")) + len(_mailbox(dovecot, "Quarantine"))
    assert moved >= 1_000  # every message handled (earlier tests left some there too)
    distinct = query(data_dir, "select count(*) from reports")[0][0]
    assert distinct == 999  # every report once, none lost, none doubled by the kill
    poisoned = query(data_dir, "select reason_code from deliveries where outcome = 'quarantined' and channel = 'imap'")
    assert poisoned == [("mime_too_deep",)]


def test_uidvalidity_change_refetches_without_duplicates(dovecot, messages, tmp_path: Path):
    _empty_inbox(dovecot)
    _append(dovecot, messages[:2], "Recreated")
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    assert fetch(config(dovecot, folder="Recreated", read_only=True), settings).fetched == 2
    with MailBoxUnencrypted("127.0.0.1", dovecot.imap_port).login(imap_server.USER, imap_server.PASSWORD, initial_folder=None) as box:
        box.folder.delete("Recreated")  # a mailbox migrated or rebuilt: new UIDVALIDITY
    _append(dovecot, messages[:3], "Recreated")
    again = fetch(config(dovecot, folder="Recreated", read_only=True), settings)
    assert again.fetched == 3  # the UIDs are new again, so all are read...
    spool = settings.imap_spool_dir
    summary = ingest([spool], settings, channels={spool: "imap"})
    assert summary.loaded == 3 and summary.duplicates == 2  # ...and the warehouse holds each report once
