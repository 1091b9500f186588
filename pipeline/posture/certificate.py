"""What a presented certificate says: names, issuer, expiry, and whether it names a host."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID


def describe(der: bytes, now: dt.datetime | None = None) -> dict:
    cert = x509.load_der_x509_certificate(der)
    try:
        names = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    common = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    not_after = cert.not_valid_after_utc
    now = now or dt.datetime.now(dt.timezone.utc)
    return {
        # RFC 6125 6.4.4: the CN counts only when there is no DNS subjectAltName.
        "names": [n.lower() for n in (names or common)],
        "issuer": cert.issuer.rfc4514_string(),
        "not_after": not_after.isoformat(),
        "days_to_expiry": (not_after - now).days,
        "expired": not_after < now or cert.not_valid_before_utc > now,
    }


def name_matches(host: str, names: list[str]) -> bool:
    """RFC 6125: exact, or a "*" as the whole left-most label covering exactly one label."""
    host = host.lower().rstrip(".")
    for name in names:
        name = name.rstrip(".")
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False
