"""One DNS question, answered as data or as a named failure (never an exception).

REFUSED, SERVFAIL and timeouts mean "could not tell, retry", never "no record"; only NXDOMAIN
and an empty answer mean the record is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.resolver


@dataclass(frozen=True)
class Answer:
    name: str
    records: list = field(default_factory=list)  # dnspython rdata objects
    absent: bool = False  # NXDOMAIN or no record of that type
    error: str = ""  # reason code when the question could not be answered
    detail: str = ""
    authenticated: bool = False  # the AD bit: the resolver validated the answer with DNSSEC

    @property
    def raw(self) -> str:
        return "\n".join(r.to_text() for r in self.records)


def ask(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> Answer:
    try:
        answer = resolver.resolve(name, rdtype)
    except dns.resolver.NXDOMAIN:
        return Answer(name, absent=True, detail=f"{name} does not exist (NXDOMAIN)")
    except dns.resolver.NoAnswer:
        return Answer(name, absent=True, detail=f"{name} has no {rdtype} record")
    except dns.resolver.NoNameservers as exc:
        return Answer(name, error="dns_server_failure", detail=f"no server answered {name} {rdtype} (SERVFAIL/REFUSED): {exc}"[:300])
    except dns.exception.Timeout:
        return Answer(name, error="dns_timeout", detail=f"{name} {rdtype}: no answer within {resolver.lifetime:g} s")
    except dns.exception.DNSException as exc:
        return Answer(name, error="dns_error", detail=f"{name} {rdtype}: {type(exc).__name__}: {exc}"[:300])
    return Answer(name, records=list(answer), authenticated=bool(answer.response.flags & dns.flags.AD))


def txt_strings(answer: Answer) -> list[str]:
    """Each TXT record as one string: its character-strings joined without separators (RFC 7208 3.3 style)."""
    return [b"".join(r.strings).decode("utf-8", "backslashreplace") for r in answer.records]
