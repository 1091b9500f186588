"""Reporter names are cut to their registrable domain by the Public Suffix List."""

from __future__ import annotations

import pytest

from pipeline.transform.reporter_domains import registrable_domain


@pytest.mark.parametrize(("name", "expected"), [
    ("tlsrpt.gmx.de", "gmx.de"), ("mail.web.de", "web.de"), ("corp.mail.ru", "mail.ru"),
    ("google.com", "google.com"), ("mx.egressif.io", "egressif.io"), ("smtp.example.co.uk", "example.co.uk"),
    ("x.mail.yahoo.co.jp", "yahoo.co.jp"), ("Tlsrpt.GMX.de.", "gmx.de"), ("mx.relay.example", "relay.example"),
])
def test_registrable_domain(name: str, expected: str):
    assert registrable_domain(name) == expected


@pytest.mark.parametrize("name", ["google inc.", "co.uk", "localhost", ""])
def test_names_without_a_registrable_domain_stay_as_they_are(name: str):
    assert registrable_domain(name) == name

