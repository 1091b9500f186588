"""A kept header value is unfolded and its blanks made single spaces (mail._text); a value that is
already so is returned as it is by a shortcut, which must give what the split and join gives."""

from __future__ import annotations

import random

import pytest

from pipeline.parse import mail


def _joined(value: str) -> str | None:
    """mail._text before the shortcut, for a value without encoded words."""
    return " ".join(value.split()) or None


EDGES = [
    "", " ", "  ", "example.com", "Report Domain: example.com Submitter: google.com",
    " leading", "trailing ", "two  spaces", "a\n b", "a\r\n\tb", "tab\tinside", "a\x0bb", "a\x0cb",
    "a\x1cb", "a\x1fb", "a\x85b", "a\xa0b", "a\u2028b", "a\u3000b", "a\u200bb",  # U+200B is no blank
    "\x00", "caf\xe9", "<m1@reporter.example>",
]


@pytest.mark.parametrize("value", EDGES)
def test_edges(value: str):
    assert mail._text(value) == _joined(value)


def test_random_values():
    pieces = ["a", "Z", " ", "  ", "\t", "\n", "\n ", "\r\n\t", "\xa0", "\x1c", "\u2028", "-", "@", "\x85", "\u200b"]
    rng = random.Random(19)
    for _ in range(5000):
        value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert mail._text(value) == _joined(value), repr(value)
