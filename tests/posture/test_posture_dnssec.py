"""The TLSA check with a real validating resolver: NSD serves the signed zone, unbound validates
it, so the AD bit is the validator's own verdict (not a flag we set)."""

from __future__ import annotations

import shutil

import pytest

from pipeline.posture.starttls import probe_mx
from pipeline.posture.tlsa import check_tlsa
from tests import dns_server
from tests.posture import dnssec, fixtures

MX = "mx.good.example.test"


@pytest.fixture(scope="module")
def validator(pki):
    keys = dnssec.new_keys_dir()
    nsd = dns_server.start({}, fixtures.zone_lines(pki["valid.cert"]), sign=dnssec.signer(keys))
    try:
        port, service = dnssec.start_validator(keys, nsd.port)
        with service:
            yield dnssec.Validator(port)
    finally:
        dns_server.stop(nsd)
        shutil.rmtree(keys, ignore_errors=True)


def test_validated_tlsa_match_is_ok(validator, probe_config):
    config = probe_config("valid", dns_server=validator.server, dns_timeout=5)
    result = check_tlsa("good.example.test", MX, probe_mx(MX, config).der, config.resolver())
    assert (result.verdict, result.reason) == ("ok", "match"), result.detail
    assert result.facts["authenticated"] is True


def test_validated_tlsa_mismatch_fails(validator, probe_config):
    config = probe_config("valid", dns_server=validator.server, dns_timeout=5)
    mx = "mx.badtlsa.example.test"
    result = check_tlsa("badtlsa.example.test", mx, probe_mx(mx, config).der, config.resolver())
    assert (result.verdict, result.reason, result.facts["authenticated"]) == ("fail", "tlsa_mismatch", True)
