"""Renaming a mail's boundary before parsing (mail._parse) must never change what is parsed.

Each message here is parsed twice, by `mail._parse` and by the stdlib parser on the bytes as
sent; the trees must agree part by part (type, file name, decoded payload), headers included.
The crafted cases are the ones where a careless renaming would go wrong.
"""

from __future__ import annotations

import email
import email.policy
from email.message import Message
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from pipeline.parse import mail

REPORT_PART = (
    b"Content-Type: application/tlsrpt+gzip\n"
    b'Content-Disposition: attachment; filename="r.json.gz"\n'
    b"Content-Transfer-Encoding: base64\n\nH4sIAAAAAAAA/6uuBQBDv6ajAgAAAA==\n"
)


def _tree(msg: Message, boundary: str | None = None) -> list:
    """The parse as read_mail sees it; `boundary`: the one the message was sent with, put back
    where the renaming changed it (the top-level Content-Type's parameter, read by no one)."""
    fixed = mail._FIXED_BOUNDARY.decode()
    headers = sorted((name, value.replace(fixed, boundary) if boundary else value) for name, value in msg.items())
    parts = [(p.get_content_type(), p.get_filename(), None if p.is_multipart() else p.get_payload(decode=True))
             for p in msg.walk()]
    return [headers, parts]


def _same_parse(data: bytes) -> bool:
    as_sent = _as_sent(data)
    return _tree(mail._parse(data), as_sent.get_boundary()) == _tree(as_sent)


def _as_sent(data: bytes) -> Message:
    return email.message_from_bytes(data, policy=email.policy.compat32)


def _multipart(boundary: bytes, header_value: bytes | None = None, body: bytes | None = None, newline: bytes = b"\n") -> bytes:
    value = header_value if header_value is not None else b'multipart/report; report-type=tlsrpt;\n\tboundary="' + boundary + b'"'
    text = body if body is not None else (
        b"preamble\n--" + boundary + b"\nContent-Type: text/plain\n\nHello.\n--" + boundary + b"\n" + REPORT_PART
        + b"--" + boundary + b"--\nepilogue\n"
    )
    message = b"From: a@b.example\nSubject: report\nMIME-Version: 1.0\nContent-Type: " + value + b"\n\n" + text
    return message.replace(b"\n", newline)


CASES = {
    "quoted, on a folded line": (_multipart(b"_4ea91e0f-0114_"), True),
    "unquoted": (_multipart(b"simple", header_value=b"multipart/mixed; boundary=simple"), True),
    "CRLF lines": (_multipart(b"crlf-boundary", newline=b"\r\n"), True),
    "blanks after the boundary lines": (_multipart(b"bb", body=(
        b"--bb  \nContent-Type: text/plain\n\nx\n--bb\t\n" + REPORT_PART + b"--bb-- \n")), True),
    # the boundary also occurs where it is not a boundary line: no renaming
    "boundary inside a part's text": (_multipart(b"abc", body=(
        b"--abc\nContent-Type: text/plain\n\nsee abc here\n--abc\n" + REPORT_PART + b"--abc--\n")), False),
    "a line that only starts like a boundary": (_multipart(b"abc", body=(
        b"--abc\nContent-Type: text/plain\n\n--abcdef\n--abc\n" + REPORT_PART + b"--abc--\n")), False),
    "a nested multipart with the same boundary": (_multipart(b"same", body=(
        b"--same\nContent-Type: multipart/mixed; boundary=same\n\n--same\n" + REPORT_PART + b"--same--\n--same--\n")), False),
    "two boundary parameters": (_multipart(b"one", header_value=b"multipart/mixed; boundary=one; boundary=two"), None),
    "a quoted boundary with a space": (_multipart(b"has space"), False),
    "an RFC 2231 boundary": (_multipart(b"x", header_value=b"multipart/mixed; boundary*=us-ascii''x"), False),
    "the fixed boundary already there": (_multipart(b"b", body=(
        b"--b\nContent-Type: text/plain\n\n" + mail._FIXED_BOUNDARY + b"\n--b\n" + REPORT_PART + b"--b--\n")), False),
    "a boundary in angle brackets": (_multipart(b"ab", header_value=b"multipart/mixed; boundary=<ab>"), False),
    "no boundary at all": (b"From: a@b.example\nContent-Type: application/json\n\n{}\n", False),
    "headers only": (b"Content-Type: multipart/mixed; boundary=q", False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_crafted_messages_parse_as_sent(name: str):
    data, renamed = CASES[name]
    if renamed is not None:
        assert (mail._with_fixed_boundary(data) is not None) is renamed
    assert _same_parse(data)


def test_renaming_takes_the_stdlib_parse_out_of_the_common_case():
    """The point of it: after renaming, a report mail's boundary pattern is the cached one."""
    parsed = mail._parse(CASES["quoted, on a folded line"][0])
    assert parsed.get_boundary() == mail._FIXED_BOUNDARY.decode()


def test_generated_mails_parse_as_sent(tmp_path: Path):
    write_corpus(tmp_path, domains=2, days=3, seed=11, formats=("eml",))
    mails = [p.read_bytes() for p in sorted(tmp_path.rglob("*.eml"))]
    assert mails
    assert all(mail._with_fixed_boundary(m) is not None for m in mails)  # every reporter style renames
    for data in mails:
        assert _same_parse(data)


def test_real_mails_parse_as_sent(real_corpus: Path):
    mails = [p.read_bytes() for p in sorted(real_corpus.rglob("*.eml"))]
    assert len(mails) >= 10
    for data in mails:
        assert _same_parse(data)


def test_hostile_mime_is_refused_as_before():
    """Bombs are counted in the raw bytes before any parse; depth is still caught after."""
    from tests.fixtures.hostile import mime_nested_multipart

    with pytest.raises(mail.Rejected) as refused:
        mail.read_mail(mime_nested_multipart(30))
    assert refused.value.code == "mime_too_deep"


def test_a_large_mail_is_parsed_as_sent():
    padding = b"x" * 76 + b"\n"
    data = _multipart(b"big", body=(
        b"--big\nContent-Type: text/plain\n\n" + padding * (mail._RENAME_MAX_BYTES // len(padding) + 1)
        + b"--big\n" + REPORT_PART + b"--big--\n"))
    assert mail._with_fixed_boundary(data) is None
    assert _same_parse(data)
