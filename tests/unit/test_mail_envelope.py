"""A mailed report's envelope: each field from its own header (extract builds it by position)."""

from __future__ import annotations

import base64
import gzip
from datetime import datetime, timezone
from pathlib import Path

from pipeline.parse.envelope import Envelope
from pipeline.parse.extract import extract

REPORT = (Path(__file__).parents[1] / "fixtures" / "reports" / "google_report.json").read_bytes()


def test_every_envelope_field_comes_from_its_own_header():
    attachment = base64.encodebytes(gzip.compress(REPORT, mtime=0))
    data = (b"From: Reporter <sender@reporter.example>\nSubject: the subject\nDate: Fri, 03 Feb 2023 10:00:00 +0100\n"
            b"Message-ID: <id@reporter.example>\nTLS-Report-Domain: domain.example\nTLS-Report-Submitter: submitter.example\n"
            b'Content-Type: multipart/report; report-type=tlsrpt; boundary="b1"\n\n--b1\n'
            b'Content-Type: application/tlsrpt+gzip\nContent-Disposition: attachment; filename="report.json.gz"\n'
            b"Content-Transfer-Encoding: base64\n\n" + attachment + b"--b1--\n")
    kind, outcomes = extract(data, Envelope(channel="mbox", origin="box.mbox", received_at=None))
    assert kind == "mail" and outcomes[0].parsed is not None, outcomes
    assert outcomes[0].parsed.envelope == Envelope(
        channel="mbox", origin="box.mbox", received_at=datetime(2023, 2, 3, 9, 0, tzinfo=timezone.utc),
        report_domain="domain.example", submitter="submitter.example", message_id="<id@reporter.example>",
        subject="the subject", from_address="sender@reporter.example", attachment_name="report.json.gz",
        content_type="application/tlsrpt+gzip",
    )
