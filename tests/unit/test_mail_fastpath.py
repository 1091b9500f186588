"""The fast MIME reading (mime_fast) must give read_mail exactly what the stdlib parser gives.

Every mail we have is read both ways, `mail._read_fast` against `mail._read_stdlib`: the kept
headers, every attachment (name, content type, bytes) and any refusal (code and detail) must be
equal. Where mime_fast declines a mail the stdlib reads it alone, so the tests also say which
mails must take the fast path: the generated ones of every reporter style, and the plain
crafted ones below; declining those would only cost speed, but a test should notice.
"""

from __future__ import annotations

import base64
import gzip
import random
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from pipeline.parse import mail, mime_fast
from pipeline.parse.rejection import Rejected
from pipeline.parse.sniff import sniff
from tests.fixtures import hostile

REPORT = gzip.compress(b'{"organization-name": "x", "report-id": "r1"}', mtime=0)
REPORT_B64 = base64.encodebytes(REPORT)


def _outcome(read) -> tuple:
    try:
        headers, attachments = read()
    except Rejected as exc:
        return ("refused", exc.code, exc.detail)
    return ("read", headers, attachments)


def _same(data: bytes) -> bool:
    """Whether mime_fast took the mail; asserts that both readings agree where it did."""
    fast = mime_fast.read(data)
    if fast is None:
        return False
    assert _outcome(lambda: mail._read_fast(fast)) == _outcome(lambda: mail._read_stdlib(data))
    return True


def _mail(body: bytes, content_type: bytes = b'multipart/report; report-type=tlsrpt; boundary="b1"',
          headers: bytes = b"", newline: bytes = b"\n") -> bytes:
    head = (b"From: Reporter <tlsrpt@reporter.example>\nSubject: Report Domain: example.com\n"
            b"Date: Fri, 03 Feb 2023 10:00:00 +0000\nMessage-ID: <m1@reporter.example>\n"
            b"TLS-Report-Domain: example.com\nTLS-Report-Submitter: reporter.example\n")
    data = head + headers + b"Content-Type: " + content_type + b"\n\n" + body
    return data.replace(b"\n", newline)


def _report_part(headers: bytes = b'Content-Type: application/tlsrpt+gzip; name="r.json.gz"\n'
                 b"Content-Transfer-Encoding: base64\n") -> bytes:
    return headers + b"\n" + REPORT_B64


TEXT = b"Content-Type: text/plain\n\nThe report is attached.\n"

ODD_FIELDS = (b"X-From: decoy@example.org\nFROM: Reporter <first@reporter.example>\nfrom: second@reporter.example\n"
              b"From-Alias: decoy@example.org\nX-Date: Sat, 04 Feb 2023 10:00:00 +0000\nDate:Fri, 03 Feb 2023 11:00:00 +0100\n"
              b"SUBJECT:\n folded only\nComment: a fold that names a field\n Message-ID: <decoy@example.org>\n"
              b"message-id:  <m1@reporter.example>  \nTls-Report-Domain:\t\tfirst.example\n"
              b"TLS-REPORT-DOMAIN: second.example\ntls-report-submitter: reporter.example\n"
              b"CONTENT-TYPE: multipart/report;\n report-type=tlsrpt;\n\tboundary=\"b1\"\n\n--b1\n"
              b"content-type: application/gzip\nContent-Disposition: attachment; filename=\"first.json.gz\"\n"
              b"CONTENT-DISPOSITION: attachment; filename=\"second.json.gz\"\nContent-Transfer-Encoding:  base64\n\n"
              + REPORT_B64 + b"--b1--\n")

# name: (mail, whether mime_fast must take it)
CRAFTED = {
    "plain": (_mail(b"--b1\n" + TEXT + b"--b1\n" + _report_part() + b"--b1--\n"), True),
    "CRLF": (_mail(b"--b1\n" + TEXT + b"--b1\n" + _report_part() + b"--b1--\n", newline=b"\r\n"), True),
    "no closing boundary": (_mail(b"--b1\n" + TEXT + b"--b1\n" + _report_part()), True),
    "preamble and epilogue": (_mail(b"preamble\n--b1\n" + _report_part() + b"--b1--\nepilogue\n--b1\n"), True),
    "boundary lines in a row": (_mail(b"--b1\n--b1\n" + _report_part() + b"--b1\n--b1--\nafter\n"), True),
    "blanks after boundary lines": (_mail(b"--b1 \t\n" + _report_part() + b"--b1--  \n"), True),
    "a line that only starts like the boundary": (_mail(b"--b1\nContent-Type: text/plain\n\n--b1x\n--b1\n"
                                                         + _report_part() + b"--b1--\n"), True),
    "unquoted boundary, folded": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                        content_type=b"multipart/mixed;\n\tboundary=b1"), True),
    "boundary in angle brackets": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                         content_type=b"multipart/mixed; boundary=<b1>"), True),
    "quoted semicolon in a parameter": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                              content_type=b'multipart/mixed; x="a;b"; boundary=b1'), True),
    "uppercase type and parameter": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                           content_type=b"Multipart/Mixed; BOUNDARY=b1"), True),
    **{f"boundary {name}": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", content_type=content_type), True)
       for name, content_type in (
        ("among parameters", b'multipart/report; report-type=tlsrpt;\n\tboundary="b1"; x=y z'),
        ("unquoted among quoted parameters", b'multipart/report; a="x y" ; boundary=b1 ; report-type="tlsrpt"'),
        ("given twice: the first counts", b'multipart/mixed; boundary=b1; boundary="b2"'),
        ("in capitals before a plain one", b'multipart/mixed; BOUNDARY=b1; boundary="b2"'),
        ("in quotes and angle brackets", b'multipart/mixed; boundary="<b1>"'),
        ("with a trailing blank", b'multipart/mixed; boundary="b1 "'),
    )},
    "a part without headers": (_mail(b"--b1\n\n" + REPORT_B64 + b"--b1\n" + _report_part() + b"--b1--\n"), True),
    "a part with headers only": (_mail(b"--b1\nContent-Type: application/json\n--b1\n" + _report_part()
                                       + b"--b1--\n"), True),
    "a part whose body starts without a blank line": (_mail(b"--b1\nContent-Type: application/json\n"
                                                             b"{not a header\n--b1--\n"), True),
    "disposition before name": (_mail(b"--b1\n" + _report_part(
        b'Content-Type: application/gzip; name="a.gz"\nContent-Disposition: attachment;\n filename="b.json.gz"\n'
        b"Content-Transfer-Encoding: base64\n") + b"--b1--\n"), True),
    **{f"disposition {name}": (_mail(b"--b1\n" + _report_part(
        b"Content-Type: application/gzip\nContent-Disposition: " + disposition + b"\nContent-Transfer-Encoding: base64\n")
        + b"--b1--\n", newline=newline), True) for name, disposition, newline in (
        ("plain, folded", b'attachment;\n\tfilename="r.json.gz"', b"\n"),
        ("plain, folded, CRLF", b'attachment;\n\tfilename="r.json.gz"', b"\r\n"),
        ("without a blank", b'attachment;filename="r.json.gz"', b"\n"),
        ("name in angle brackets", b'attachment; filename="<r.json.gz>"', b"\n"),
        ("name padded", b'attachment; filename="  r.json.gz "', b"\n"),
        ("name empty", b'attachment; filename=""', b"\n"),
        ("name folded", b'attachment; filename="r\n .json.gz"', b"\n"),
        ("name with a semicolon", b'attachment; filename="a;b.json.gz"', b"\n"),
        ("type in capitals", b'Attachment; FILENAME="r.json.gz"', b"\n"),
        ("a parameter after the name", b'attachment; filename="r.json.gz"; size=300', b"\n"),
        ("a blank after the name", b'attachment; filename="r.json.gz" ', b"\n"),
        ("unquoted name", b"attachment; filename=r.json.gz", b"\n"),
    )},
    "name without quotes and padded": (_mail(b"--b1\n" + _report_part(
        b"Content-Type: application/octet-stream; name =  r.json.gz  \nContent-Transfer-Encoding: base64\n")
        + b"--b1--\n"), True),
    "invalid base64": (_mail(b"--b1\n" + _report_part()[:-20] + b"!!!!\n--b1--\n"), True),
    "quoted-printable JSON": (_mail(b"--b1\nContent-Type: application/json\nContent-Transfer-Encoding: "
                                    b"quoted-printable\n\n{\"report-id\":=20\"x=3D\"}=\n\n--b1--\n"), True),
    "7bit JSON as the whole message": (_mail(b'{"report-id": "x"}\n', content_type=b"application/json",
                                             headers=b"Content-Transfer-Encoding: 7bit \n"), True),
    "text/plain as the whole message": (_mail(b'{"report-id": "x"}\n', content_type=b"text/plain"), True),
    "no Content-Type at all": (b"Subject: hello\n\n{}\n", True),
    "headers only": (b"Subject: hello\nTLS-Report-Domain: example.com\n", True),
    "encoded-word subject": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                   headers=b"Subject: =?utf-8?q?R=C3=A9port?=\n"), True),
    "garbage date": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", headers=b"Date: someday\n"), True),
    "repeated headers: the first counts": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                                 headers=b"TLS-Report-Domain: second.example\n"), True),
    "a body line where a header was expected": (b"Subject: x\nnot a header line\n\nrest\n", True),
    # The fields read are searched for in the block (mime_fast.FIELDS_READ): any case, at a line
    # start, the name whole, the first one, folds and CRs as compat32 keeps them.
    **{f"fields read {name}": (ODD_FIELDS.replace(b"\n", newline), True)
       for name, newline in (("in odd case, repeated, among look-alikes", b"\n"), ("... with CRLF", b"\r\n"))},
    # declined: the stdlib reads these alone
    "non-ASCII": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", headers="Subject: Rapport é\n".encode()), False),
    "lone CR": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", headers=b"X-Odd: a\rb\n"), False),
    "form feed": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", headers=b"X-Odd: a\x0cb\n"), False),
    "nested multipart": (_mail(b'--b1\nContent-Type: multipart/mixed; boundary="b2"\n\n--b2\n' + _report_part()
                               + b"--b2--\n--b1--\n"), False),
    "message/rfc822 part": (_mail(b"--b1\nContent-Type: message/rfc822\n\nSubject: x\n\nx\n--b1--\n"), False),
    "digest": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", content_type=b"multipart/digest; boundary=b1"), False),
    "RFC 2231 boundary": (_mail(b"--b1\n" + _report_part() + b"--b1--\n",
                                content_type=b"multipart/mixed; boundary*=us-ascii''b1"), False),
    "RFC 2231 file name": (_mail(b"--b1\n" + _report_part(
        b"Content-Type: application/gzip\nContent-Disposition: attachment; filename*=utf-8''r%C3%A9.gz\n"
        b"Content-Transfer-Encoding: base64\n") + b"--b1--\n"), False),
    "escaped quote in a parameter": (_mail(b"--b1\n" + _report_part(
        b'Content-Type: application/gzip; name="a\\"b.gz"\nContent-Transfer-Encoding: base64\n') + b"--b1--\n"),
        False),
    "no boundary parameter": (_mail(b"--b1\n" + _report_part() + b"--b1--\n", content_type=b"multipart/mixed"), False),
    "no start boundary": (_mail(b"text\n--b1--\n"), False),
    "uuencode": (_mail(b"--b1\nContent-Type: application/gzip\nContent-Transfer-Encoding: x-uuencode\n\nx\n"
                       b"--b1--\n"), False),
    "continuation first": (b" folded\nSubject: x\n\nbody\n", False),
    "a From_ line among the headers": (b"Subject: x\nFrom someone\n\nbody\n", False),
    "too many parts": (_mail(b"--b1\n\nx\n" * (mime_fast.limits.MAX_MIME_PARTS + 1) + b"--b1--\n"), False),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_mails_read_as_the_stdlib_reads_them(name: str):
    data, fast = CRAFTED[name]
    assert _same(data) is fast


def test_generated_mails_of_every_reporter_style(tmp_path: Path):
    write_corpus(tmp_path, domains=2, days=3, seed=5, formats=("eml",))
    mails = sorted(tmp_path.rglob("*.eml"))
    styles = {p.read_bytes().split(b"From: ", 1)[1].split(b"\n", 1)[0] for p in mails}
    assert len(styles) >= 5  # Google, Microsoft, Mail.ru, Stalwart, Postfix
    for path in mails:
        assert _same(path.read_bytes()), path.name


def test_real_mails(real_corpus: Path):
    mails = sorted(real_corpus.rglob("*.eml"))
    assert len(mails) >= 10
    taken = sum(_same(path.read_bytes()) for path in mails)
    assert taken >= len(mails) // 2  # most real report mails are as plain as the generated ones


def test_hostile_fixtures():
    """Every hostile case that is a mail, bombs included: the same headers, attachments and refusals."""
    mails = taken = 0
    for case in hostile.CASES:
        if case.build is None:
            continue
        data = case.build()
        if sniff(data) not in ("mail", "mbox"):
            continue
        if sniff(data) == "mbox":
            data = data.split(b"\n", 1)[1]  # as extract() hands it on
        mails += 1
        taken += _same(data)
    assert mails >= 10
    assert taken >= mails // 2  # the plain ones: odd names, bad base64, a DMARC mail, an ordinary mail


def test_a_quoted_semicolon_is_found_as_by_counting_quotes_per_piece():
    """_param_pairs cuts a parameter list again when a `;` is inside quotes: a piece before the
    last with an odd number of unescaped quotes (the feedparser's test). The shortcut for values
    without backslashes must answer the same on every arrangement of quotes and semicolons."""
    rng = random.Random(8460)
    values = ["".join(rng.choice('a;"= ') for _ in range(rng.randint(0, 12))) for _ in range(20_000)]
    values += ['a;"b;c";d', '"";"', ';"', '"a;', 'a"b"c;d', '"a";"b;"', 'x="a;b"; boundary=b1']
    for value in values:
        pieces = value.split(";")
        by_piece = any((piece.count('"') - piece.count('\\"')) % 2 for piece in pieces[:-1])
        assert mime_fast._quoted_semicolon(value, pieces) == by_piece, value
    escaped = 'x="a\\";b"; boundary=b1'  # the escaped quote does not end the quotes: the `;` is inside
    assert mime_fast._quoted_semicolon(escaped, escaped.split(";"))
