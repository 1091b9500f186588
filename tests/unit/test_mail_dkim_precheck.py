"""Which mails the DKIM verifier is asked about: `has_signature_line` must answer exactly what the
multiline, case-insensitive search `^DKIM-Signature:` did before it (a mail it misses would be
recorded unsigned, a signed one verified or not), on crafted edges and on every mail we have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.generate import write_corpus
from pipeline.intake.dkim_check import has_signature_line

_ANY_LINE = re.compile(rb"^DKIM-Signature:", re.I | re.M)

HEAD = b"From: a@b.example\nSubject: report\nDate: Fri, 03 Feb 2023 10:00:00 +0000\n"
SIGNATURE = b"DKIM-Signature: v=1; a=rsa-sha256; d=b.example; s=s1;\n\tbh=x; b=y\n"

CASES = {
    "unsigned": (HEAD + b"\nbody\n", False),
    "signed, first header": (SIGNATURE + HEAD + b"\nbody\n", True),
    "signed, a later header": (HEAD + SIGNATURE + b"\nbody\n", True),
    "the name in another case": (HEAD + b"dkim-SIGNATURE: v=1\n\nbody\n", True),
    "mixed case, first line": (b"dKiM-sIgNaTuRe: v=1\n" + HEAD + b"\nbody\n", True),
    "folded over lines": (HEAD + b"DKIM-Signature:\n v=1; d=b.example\n\nbody\n", True),
    "CRLF line breaks": ((HEAD + SIGNATURE + b"\nbody\n").replace(b"\n", b"\r\n"), True),
    "a body line": (HEAD + b"\nquoted:\nDKIM-Signature: v=1\n", True),
    "a body line, lower case, last": (HEAD + b"\nquoted:\ndkim-signature:", True),
    "no blank line": (HEAD + b"X-Other: 1\nDkim-Signature: v=1\n", True),
    "inside a line": (HEAD + b"X-Copied: DKIM-Signature: v=1\n\nsays DKIM-Signature: here\n", False),
    "a continuation line": (HEAD + b"X-Copied:\n DKIM-Signature: v=1\n\nbody\n", False),
    "a prefixed name": (HEAD + b"X-DKIM-Signature: v=1\nARC-Message-Signature: i=1\n\nbody\n", False),
    "a blank before the colon": (HEAD + b"DKIM-Signature : v=1\n\nbody\n", False),
    "no colon": (HEAD + b"DKIM-Signature v=1\n\nDKIM-Signatures: 2\n", False),
    "after a lone CR": (HEAD + b"X: 1\rDKIM-Signature: v=1\n\nbody\n", False),
    "cut short": (HEAD + b"\nDKIM-Signature", False),
    "d lines that are no signature": (HEAD + b"\nd\ndkim\nDKIM-\nd\nDKIM-Signature:", True),
    "a non-ASCII K": (HEAD + "DKIM-Signature:".replace("K", "\u212a").encode() + b" v=1\n\nbody\n", False),
    "empty": (b"", False),
    "mbox From_ line first": (b"From a@b Fri Jan  2 20:22:17 2026\n" + SIGNATURE + HEAD + b"\nbody\n", True),
}


@pytest.mark.parametrize("name", CASES)
def test_crafted_mails(name: str):
    message, signed = CASES[name]
    assert (_ANY_LINE.search(message) is not None) == signed  # the case says what it means to
    assert has_signature_line(message) == signed


def test_generated_and_real_mails(tmp_path: Path, real_corpus: Path):
    write_corpus(tmp_path, domains=2, days=3, seed=5, formats=("eml",))
    mails = [path.read_bytes() for path in sorted(tmp_path.rglob("*.eml"))]
    real = [path.read_bytes() for path in sorted(real_corpus.rglob("*")) if path.is_file() and path.suffix in (".eml", ".elm")]
    assert sum(_ANY_LINE.search(m) is not None for m in real) >= 5  # the real corpus has signed mails
    for message in mails + real:
        assert has_signature_line(message) == (_ANY_LINE.search(message) is not None)
