"""The same report by mail (IMAP spool) and by HTTPS is one report with two deliveries."""

from __future__ import annotations

import gzip
from pathlib import Path

from pipeline.ingest import ingest_drop_folders
from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract
from pipeline.settings import Settings
from tests.conftest import query

FIXTURES = Path(__file__).parents[1] / "fixtures" / "reports"


def test_mail_and_https_copies_dedupe(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, workers=1)
    settings.spool_dir.mkdir(parents=True)
    settings.imap_spool_dir.mkdir(parents=True)
    mail = (FIXTURES / "mailed_report.eml").read_bytes()
    (settings.imap_spool_dir / "1-1-x.eml").write_bytes(mail)
    # The same report's JSON, posted: different bytes, same organisation and report-id.
    payload = next(o.parsed.payload for o in extract(mail, Envelope())[1] if o.parsed)
    (settings.spool_dir / "posted.report").write_bytes(gzip.compress(payload))
    summary, moved = ingest_drop_folders(settings)
    assert (summary.loaded, summary.duplicates, moved) == (1, 1, 2)
    rows = query(tmp_path, "select channel, outcome, reason_code from deliveries order by outcome desc, channel")
    assert rows == [("https", "loaded", None), ("imap", "duplicate", "same_report")] or rows == [
        ("imap", "loaded", None), ("https", "duplicate", "same_report")]
