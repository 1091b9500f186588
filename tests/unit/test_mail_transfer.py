"""A base64 body is decoded by a shortcut when its only blanks are line breaks; it must give what
dropping every blank and decoding strictly gives, and refuse what that refuses, with its words."""

from __future__ import annotations

import base64
import binascii

import pytest

from pipeline.parse import mail
from pipeline.parse.rejection import Rejected

BODY = base64.encodebytes(bytes(range(256)) * 3).decode()


def _by_split(raw: str) -> tuple:
    try:
        return ("decoded", base64.b64decode("".join(raw.split()), validate=True))
    except (binascii.Error, ValueError) as exc:
        return ("refused", "bad_transfer_encoding", f"invalid base64: {exc}")


def _decoded(raw: str) -> tuple:
    try:
        return ("decoded", mail._transfer_decoded("base64", raw))
    except Rejected as exc:
        return ("refused", exc.code, exc.detail)


@pytest.mark.parametrize("raw", [
    BODY,
    BODY.rstrip("\n"),
    BODY.replace("\n", "\r\n"),
    BODY.replace("\n", " \n"),  # blanks at line ends
    BODY.replace("\n", "\t\n", 1),
    "\n" + BODY + "\n\n",
    BODY.replace("\n", "\u00a0\n", 1),  # a blank that is not ASCII
    BODY.replace("\n", "\u2028", 1),
    BODY[:-2] + "=\n",  # padding cut short
    BODY + "QUJD\n",  # data after the padding
    BODY.replace("A", "*", 1),  # not in the alphabet
    BODY.replace("A", "\u00c4", 1),
    "",
    "\n",
    "====\n",
    "QUJD\n=\n",
])
def test_base64_reads_as_dropping_every_blank(raw):
    assert _decoded(raw) == _by_split(raw)
