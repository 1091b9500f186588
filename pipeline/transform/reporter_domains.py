"""Who sent a report: its contact domain (else its organisation name) cut to the registrable
domain by the Public Suffix List, so `tlsrpt.gmx.de` and `gmx.de` are one reporter while
`example.co.uk` is not cut to `co.uk`.

The list is the snapshot bundled with the `publicsuffixlist` package: nothing is downloaded
at run time, and an upgrade of the package changes the fingerprint of the models that use it.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import version

from publicsuffixlist import PublicSuffixList

LIST_VERSION = version("publicsuffixlist")


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # parses the bundled list once per process (~50 ms)


def registrable_domain(name: str) -> str:
    """`mail.web.de` -> `web.de`; a name that is no domain ("google inc.") or is itself a public
    suffix stays as it is."""
    host = name.strip().rstrip(".").lower()
    if not host or " " in host:
        return name
    return _suffixes().privatesuffix(host) or name
