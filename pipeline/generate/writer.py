"""Output side: atomic file writes, the mbox stream and the ground-truth tally.

Each file is written under a dot-prefixed temporary name in its final folder and then renamed
(os.replace is atomic within one file system), so a reader or a crash never sees half a report.
There is no fsync per file: it would cost ~100x the write and a crash only loses whole files.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from .envelope import mbox_from_line
from .reporters import Reporter


def write_atomic(folder: str, name: str, data: bytes) -> None:
    tmp = f"{folder}/.{name}.tmp"
    # O_TRUNC: a temporary left by a crashed run is simply overwritten.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, f"{folder}/{name}")


_FROM = re.compile(rb"^(>*From )", re.MULTILINE)


class MboxWriter:
    """Appends messages to one mbox (mboxrd escaping), renamed into place on close()."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.tmp = os.path.join(os.path.dirname(path), "." + os.path.basename(path) + ".tmp")
        self.fh = open(self.tmp, "wb", buffering=1 << 20)
        self.count = 0

    def add(self, rep: Reporter, sent: int, message: bytes) -> None:
        # mbox files are LF-only; escape body lines starting with "From " (and ">From ").
        body = _FROM.sub(rb">\1", message.replace(b"\r\n", b"\n"))
        head = mbox_from_line(rep, sent).encode("ascii")
        self.fh.write(head + b"\n" + body.rstrip(b"\n") + b"\n\n")
        self.count += 1

    def close(self) -> None:
        self.fh.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.fh.close()
        os.unlink(self.tmp)


class Tally:
    """Ground truth, recounted from the report dicts exactly as they were written.

    "stated" numbers add every policy's summary; "dedup" numbers take, per report and policy
    domain, the max over policy types (Microsoft sends sts and tlsa for the same sessions).
    By-type counts come from failure-details, never from summaries, which some senders leave
    out of step with their details."""

    def __init__(self) -> None:
        self.successful = self.failed = self.successful_dedup = self.failed_dedup = 0
        self.by_type: Counter[str] = Counter()
        self.by_type_dedup: Counter[str] = Counter()
        self.by_reporter: Counter[str] = Counter()
        self.by_policy_type: Counter[str] = Counter()
        self.mismatched_reports = 0
        self.host_policy_domains: set[str] = set()

    def add(self, slug: str, report: dict, header_domain: str, our_domain: str) -> None:
        self.by_reporter[slug] += 1
        if header_domain != our_domain:
            self.host_policy_domains.add(header_domain)
        policies = report["policies"]
        mismatch = False
        groups: dict[str, tuple[int, int, dict[str, int]]] = {}
        for p in policies:
            s = p["summary"]
            ok, bad = s["total-successful-session-count"], s["total-failure-session-count"]
            self.successful += ok
            self.failed += bad
            self.by_policy_type[p["policy"]["policy-type"]] += 1
            types: dict[str, int] = {}
            for fd in p.get("failure-details") or ():
                rt = fd["result-type"]
                types[rt] = types.get(rt, 0) + fd["failed-session-count"]
            for rt, n in types.items():
                self.by_type[rt] += n
            mismatch |= sum(types.values()) != bad
            key = p["policy"].get("policy-domain") or header_domain
            if key in groups:  # same sessions under another policy type: keep the max
                g_ok, g_bad, g_types = groups[key]
                merged = {t: max(n, g_types.get(t, 0)) for t, n in types.items()}
                types = {**g_types, **merged}
                ok, bad = max(ok, g_ok), max(bad, g_bad)
            groups[key] = (ok, bad, types)
        for ok, bad, types in groups.values():
            self.successful_dedup += ok
            self.failed_dedup += bad
            for rt, n in types.items():
                self.by_type_dedup[rt] += n
        self.mismatched_reports += mismatch
