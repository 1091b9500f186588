"""Deterministic synthetic TLS-RPT (RFC 8460) corpus generator: `tlsrpt generate` calls it.

    write_corpus(out_dir, *, domains=3, days=30, seed=0, start=None,
                 formats=("files", "eml"), reports=None, progress=None, overlap=0.2)

Same arguments, same bytes: every random choice comes from `random.Random` streams keyed by
(seed, purpose, domain); gzip headers carry a fixed mtime (0, or a report-derived time for the
Postfix/sys4 style) and no file name; `start` defaults to 2026-01-01, never today; dates and
names are formatted without locale or time zone lookups.

World: `domains` policy domains example-0001.test, example-0002.test, ... with 1-2 MX hosts
(`mx1.<domain>`, `mx2.<domain>`), an MTA-STS policy (enforce or testing) and, for some, DANE
(TLSA). example-0001.test always has DANE; example-0002.test (and ~10 % of the rest) publishes
MTA-STS only from a third of the range on, so reporters first say no-policy-found. Five reporter
styles: Google (daily), Microsoft (traffic days; sts + tlsa for the same sessions), Mail.ru, a
Stalwart-style relay and Postfix/sys4 (several reports a day). Traffic is log-normal across
domains and most reports are all-success heartbeats; incidents add failure-details with long
tails. One forced incident per RFC result type lands on the first three domains, so every corpus
shows all 11 types, and the first two domains hear from every reporter, so every corpus shows
every reporter's quirks.

Layout under out_dir:
    files/<reporter>/<sender>!<policy-domain>!<begin>!<end>[!<unique-id>].json.gz
    eml/<reporter>/<same stem>.eml   multipart/report message; attachment = the same gzip bytes
    mbox/reports.mbox                the same messages, mboxrd "From " separators, LF endings
    ground_truth.json                CorpusSummary as JSON (sessions, per result type, ...)

Which reports go where: if "files" is asked, every report is a .json.gz; the mail forms ("eml",
"mbox") then get only a deterministic ~`overlap` share (20 % by default, chosen by a hash of the
file name), so the same report arrives twice and dedupe across forms is exercised. Without
"files", the mail forms get every report. "eml" and "mbox" always hold the same messages.

`reports=N` writes exactly N distinct reports: if domains x days x cadence gives fewer, domains
are added (days stay as asked); if more, an even stride over all slots drops the surplus. Such a
corpus is deterministic too, but not a subset of the corpus without `reports`.
`progress(n)` is called every 1000 reports and once at the end. Files appear atomically (a
dot-prefixed temporary name in the same folder, then os.replace); readers should skip dotfiles.
"""

from .corpus import DEFAULT_START, FORMATS, CorpusSummary, write_corpus
from .world import RESULT_TYPES

__all__ = ["CorpusSummary", "DEFAULT_START", "FORMATS", "RESULT_TYPES", "write_corpus"]
