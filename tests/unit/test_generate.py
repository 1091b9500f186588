"""Tests for the deterministic corpus generator (pipeline/generate)."""

from __future__ import annotations

import email
import email.policy
import email.utils
import gzip
import hashlib
import json
import mailbox
import re
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from pipeline.generate import RESULT_TYPES, write_corpus
from pipeline.generate.writer import MboxWriter
from pipeline.generate.reporters import GOOGLE

TOP_KEYS = {"organization-name", "date-range", "contact-info", "report-id", "policies"}
NAME_RE = re.compile(r"^(?P<sender>[^!]+)!(?P<domain>[^!]+)!(?P<begin>\d+)!(?P<end>\d+)"
                     r"(?:!(?P<uid>[^!]+))?\.json\.gz$")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The default 3-domain, 30-day corpus in every format, written once for the module."""
    out = tmp_path_factory.mktemp("corpus")
    summary = write_corpus(out, seed=0, formats=("files", "eml", "mbox"))
    return out, summary


def _files(out: Path) -> list[Path]:
    return sorted((out / "files").rglob("*.json.gz"))


def _load(p: Path) -> dict:
    return json.loads(gzip.decompress(p.read_bytes()))


def _tree(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def test_deterministic_byte_identical(tmp_path, corpus):
    out, _ = corpus
    again = tmp_path / "again"
    write_corpus(again, seed=0, formats=("files", "eml", "mbox"))
    assert _tree(out) == _tree(again)
    other = tmp_path / "other"
    write_corpus(other, seed=1, days=3, formats=("files",))
    assert _tree(other) != {k: v for k, v in _tree(out).items() if k in _tree(other)}


def test_files_are_gzip_json_with_rfc_keys_and_names(corpus):
    out, summary = corpus
    files = _files(out)
    assert len(files) == summary.reports == summary.files["files"]
    for p in files:
        raw = p.read_bytes()
        assert raw[:2] == b"\x1f\x8b" and not raw[3] & 0x08  # gzip, no FNAME in the header
        rep = _load(p)
        assert TOP_KEYS <= rep.keys()
        m = NAME_RE.match(p.name)
        assert m, p.name
        begin, end = int(m["begin"]), int(m["end"])
        start = rep["date-range"]["start-datetime"].rstrip("Z")
        assert begin == int(datetime.fromisoformat(start).replace(tzinfo=timezone.utc).timestamp())
        assert end - begin in (86399, 86400)
        no_uid = p.parent.name in ("mailru", "stalwart")
        assert (m["uid"] is None) == no_uid and (end - begin == 86400) == no_uid
        for pol in rep["policies"]:
            s = pol["summary"]
            for k in ("total-successful-session-count", "total-failure-session-count"):
                assert isinstance(s[k], int) and s[k] >= 0
    assert not list(out.rglob(".*.tmp"))  # atomic writes leave no temporaries


def test_eml_messages_match_their_files(corpus):
    out, summary = corpus
    emls = sorted((out / "eml").rglob("*.eml"))
    assert len(emls) == summary.files["eml"] == summary.both_forms
    assert 0.1 * summary.reports < len(emls) < 0.3 * summary.reports  # ~20 % overlap
    seen = Counter()
    for p in emls:
        raw = p.read_bytes()
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        for h in ("From", "To", "Date", "Subject", "Message-ID", "TLS-Report-Domain",
                  "TLS-Report-Submitter"):
            assert msg[h], (p.name, h)
        assert msg.get_content_type() == "multipart/report"
        assert msg.get_param("report-type") == "tlsrpt"
        assert re.search(r"tlsrpt@example-\d{4}\.test", str(msg["To"]))
        assert str(msg["Subject"]).startswith("Report Domain: ")
        parts = [part for part in msg.walk() if not part.is_multipart()]
        att = [part for part in parts if part.get_content_type() == "application/tlsrpt+gzip"]
        assert len(att) == 1
        gz = att[0].get_payload(decode=True)
        twin = out / "files" / p.parent.name / att[0].get_filename()
        assert twin.exists() and twin.read_bytes() == gz
        assert json.loads(gzip.decompress(gz)) == _load(twin)
        texts = [part.get_content_type() for part in parts if part is not att[0]]
        assert texts == (["text/html"] if p.parent.name == "microsoft" else ["text/plain"])
        crlf = b"\r\n" in raw
        assert crlf == (p.parent.name in ("microsoft", "stalwart"))
        seen[p.parent.name] += 1
        seen["unclosed"] += not raw.rstrip().endswith(b"--")  # Mail.ru quirk 15 still parses
    assert set(seen) == {"google", "microsoft", "mailru", "stalwart", "postfix", "unclosed"}


def test_google_arrival_lag(corpus):
    out, _ = corpus
    for p in (out / "eml" / "google").glob("*.eml"):
        msg = email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        sent = email.utils.parsedate_to_datetime(str(msg["Date"])).timestamp()
        day_end = int(NAME_RE.match(p.name[:-4] + ".json.gz")["end"]) + 1
        assert 10 * 3600 <= sent - day_end <= 16 * 3600


def test_mbox_holds_the_same_messages(corpus):
    out, summary = corpus
    box = mailbox.mbox(out / "mbox" / "reports.mbox", create=False)
    msgs = list(box)
    assert len(msgs) == summary.files["mbox"] == summary.files["eml"]
    for m in msgs[:50]:
        assert m["TLS-Report-Domain"] and m.get_from()
        att = [p for p in m.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
        assert json.loads(gzip.decompress(att[0].get_payload(decode=True)))["report-id"]


def test_mbox_escapes_from_lines(tmp_path):
    w = MboxWriter(str(tmp_path / "x.mbox"))
    w.add(GOOGLE, 0, b"Subject: a\r\n\r\nFrom here\r\n>From there\r\n")
    w.close()
    data = (tmp_path / "x.mbox").read_bytes()
    assert data.startswith(b"From noreply-smtp-tls-reporting@google.com Thu Jan  1 00:00:00 1970\n")
    assert b"\n>From here\n>>From there\n" in data and b"\r" not in data


def test_every_result_type_appears(corpus):
    out, summary = corpus
    found = Counter()
    for p in _files(out):
        for pol in _load(p)["policies"]:
            for fd in pol.get("failure-details") or ():
                found[fd["result-type"]] += fd["failed-session-count"]
    assert set(found) == set(RESULT_TYPES)
    assert found == Counter(summary.failed_by_result_type)


def test_quirks_are_present(corpus):
    out, _ = corpus
    naive = double = null_contact = no_domain = empty_arrays = helo = mismatch = 0
    for p in _files(out):
        rep = _load(p)
        naive += not rep["date-range"]["start-datetime"].endswith("Z")
        null_contact += rep["contact-info"] is None
        for pol in rep["policies"]:
            policy = pol["policy"]
            ps = policy.get("policy-string") or []
            double += policy["policy-type"] == "tlsa" and len(ps) == 1 and ps[0].startswith('["')
            no_domain += "policy-domain" not in policy
            empty_arrays += policy.get("mx-host") == [] and ps == [] and \
                policy["policy-type"] == "no-policy-found"
            fds = pol.get("failure-details")
            helo += any("\r\n" in fd.get("receiving-mx-helo", "") for fd in fds or ())
            mismatch += sum(fd["failed-session-count"] for fd in fds or ()) != \
                pol["summary"]["total-failure-session-count"]
    assert naive and double and null_contact and no_domain and empty_arrays and helo and mismatch
    for p in (out / "files" / "microsoft").glob("*.json.gz"):  # double-encoding decodes cleanly
        for pol in _load(p)["policies"]:
            if pol["policy"]["policy-type"] == "tlsa":
                tlsa = json.loads(pol["policy"]["policy-string"][0])
                assert all(t.startswith("3 1 1 ") for t in tlsa)


def test_summary_equals_recount_and_ground_truth(corpus):
    out, summary = corpus
    ok = bad = 0
    by_reporter = Counter()
    for p in _files(out):
        rep = _load(p)
        by_reporter[rep["organization-name"]] += 1
        for pol in rep["policies"]:
            ok += pol["summary"]["total-successful-session-count"]
            bad += pol["summary"]["total-failure-session-count"]
    assert (ok, bad) == (summary.successful_sessions, summary.failed_sessions)
    assert summary.successful_sessions_dedup < ok  # Microsoft's sts + tlsa double counting
    assert by_reporter == Counter(summary.reports_by_reporter)
    assert json.loads((out / "ground_truth.json").read_text()) == summary.to_dict()
    assert summary.policy_domains == 3
    assert (summary.start, summary.end) == ("2026-01-01", "2026-01-30")
    assert bad < ok / 5  # mostly heartbeats


@pytest.mark.parametrize("n", [0, 37, 1000])
def test_reports_n_is_exact(tmp_path, n):
    s = write_corpus(tmp_path, days=7, reports=n, formats=("files",))
    assert s.reports == n == len(_files(tmp_path))
    if n == 1000:  # more than 3 domains x 7 days give: domains were added
        assert s.policy_domains > 3


def test_mail_only_gets_every_report_and_progress(tmp_path):
    calls = []
    s = write_corpus(tmp_path, days=40, domains=10, reports=2100, formats=("eml",),
                     progress=calls.append, start=date(2025, 3, 1))
    assert calls == [1000, 2000, 2100]
    assert s.files == {"eml": 2100} and len(list((tmp_path / "eml").rglob("*.eml"))) == 2100
    assert not (tmp_path / "files").exists() and s.start == "2025-03-01"


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        write_corpus(tmp_path, formats=("pdf",))
    with pytest.raises(ValueError):
        write_corpus(tmp_path, days=0)
