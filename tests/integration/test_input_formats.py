"""Every supported input form loads, recognised by content: mbox, Maildir, zip, bare-report
mail, plain JSON under any name, gzip under any name, and a mislabelled +gzip attachment."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

from pipeline.generate import write_corpus
from tests.conftest import ingest_into, query
from tests.fixtures.builders import MAIL_HEADERS, REPORT_HEADERS, attachment, gz, mail, valid_report, zip_archive


def test_mbox_and_eml_forms_of_one_corpus_give_the_same_reports(tmp_path: Path):
    corpus = tmp_path / "corpus"
    summary = write_corpus(corpus, domains=2, days=10, seed=5, formats=("eml", "mbox"))
    from_mbox = ingest_into(tmp_path / "mbox", [corpus / "mbox"], workers=2)
    from_eml = ingest_into(tmp_path / "eml", [corpus / "eml"], workers=2)
    assert from_mbox.loaded == from_eml.loaded == summary.reports
    assert not from_mbox.quarantined and not from_eml.quarantined
    keys = "select report_key, organization_name, start_at from reports order by 1"
    assert query(tmp_path / "mbox", keys) == query(tmp_path / "eml", keys)
    channels = query(tmp_path / "mbox", "select distinct channel, origin like '%#%' from deliveries")
    assert channels == [("mbox", True)]  # one delivery per message, named path#n


def test_maildir_with_a_maildirplusplus_subfolder(tmp_path: Path):
    corpus = tmp_path / "corpus"
    write_corpus(corpus, domains=1, days=3, seed=2, formats=("eml",))
    messages = sorted((corpus / "eml").rglob("*.eml"))
    maildir = tmp_path / "Maildir"
    for folder in (maildir, maildir / ".TLS-Reports"):
        for sub in ("cur", "new", "tmp"):
            (folder / sub).mkdir(parents=True)
    half = len(messages) // 2
    for number, message in enumerate(messages):
        target = maildir if number < half else maildir / ".TLS-Reports"
        shutil.copy(message, target / ("new" if number % 2 else "cur") / f"{number}.host:2,S")
    (maildir / "tmp" / "being-delivered").write_bytes(b"partial")  # Maildir tmp/ is never read
    summary = ingest_into(tmp_path / "data", [maildir])
    assert summary.loaded == len(messages) and not summary.quarantined
    assert query(tmp_path / "data", "select distinct channel from deliveries") == [("maildir",)]


def test_containers_and_names_are_sniffed_not_trusted(tmp_path: Path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "report.txt").write_bytes(valid_report("plain-json-any-name"))
    (inbox / "noextension").write_bytes(gz(valid_report("gzip-any-name")))
    (inbox / "two.zip").write_bytes(zip_archive([
        ("a.json", valid_report("zip-entry-a")), ("b.json", valid_report("zip-entry-b")), ("README", b"hello"),
    ]))
    json_body = base64.encodebytes(valid_report("labelled-gzip-is-json")).decode()
    (inbox / "mislabelled.eml").write_bytes(mail("mislabelled", [attachment(b"", body=json_body)]))  # +gzip label
    bare = (MAIL_HEADERS + REPORT_HEADERS).format(name="bare") + "Content-Type: application/tlsrpt+json\n\n"
    (inbox / "bare-report.msg").write_bytes(bare.encode() + valid_report("bare-report-mail"))
    summary = ingest_into(tmp_path / "data", [inbox])
    assert not summary.quarantined, summary.quarantined
    flags = dict(query(tmp_path / "data", "select report_id, conformance_flags from reports"))
    assert set(flags) == {
        "plain-json-any-name", "gzip-any-name", "zip-entry-a", "zip-entry-b", "labelled-gzip-is-json", "bare-report-mail",
    }
    assert "gzip_labelled_json" in flags["labelled-gzip-is-json"]
    kinds = dict(query(tmp_path / "data", "select split_part(origin, '/', -1), any_value(raw_kind) from deliveries group by 1"))
    assert kinds == {"report.txt": "json", "noextension": "gzip", "two.zip": "zip", "mislabelled.eml": "mail", "bare-report.msg": "mail"}
    entries = query(tmp_path / "data", "select attachment_name, part_index from deliveries where origin like '%two.zip' order by 2")
    assert entries == [("a.json", 0), ("b.json", 1)]


def test_refusal_records_count_only_in_the_imap_spool(tmp_path: Path):
    """A refusal record (what the IMAP fetcher spools for a message it would not download) gives
    a quarantined delivery in the IMAP spool; the same bytes anywhere else are just a file, and
    a damaged record in the spool is a file too: nothing is trusted by its name."""
    from pipeline.ingest import ingest
    from pipeline.intake.sources import refusal_record
    from pipeline.settings import Settings

    record = refusal_record("imap://u@h:993/INBOX;UIDVALIDITY=7/;UID=3", "input_too_large", "a message of 9 bytes", "2026-01-02T03:04:05+00:00")
    spool, inbox = tmp_path / "spool", tmp_path / "inbox"
    for folder in (spool, inbox):
        folder.mkdir()
        (folder / "7-3.refused").write_bytes(record)
    (spool / "7-4.refused").write_bytes(b'{"origin": "imap://u@h:993/INBOX;UIDVALIDITY=7/;UID=4"}')  # no verdict
    (spool / "7-5.refused").write_bytes(record.replace(b"2026-01-02T03:04:05", b"yesterday"))  # a bad time
    settings = Settings(data_dir=tmp_path / "data", workers=1)
    summary = ingest([spool, inbox], settings, channels={spool: "imap"})
    assert summary.quarantined == {"input_too_large": 1, "not_a_tls_report": 3}
    rows = query(tmp_path / "data", "select channel, split_part(origin, '/', -1), reason_code, received_at is not null, "
                                    "raw_sha256 is null from deliveries order by 1, 2")
    assert rows == [
        ("file", "7-3.refused", "not_a_tls_report", True, False),
        ("imap", "7-4.refused", "not_a_tls_report", True, False),
        ("imap", "7-5.refused", "not_a_tls_report", True, False),
        ("imap", ";UID=3", "input_too_large", True, True),
    ]
