"""Deterministic synthetic TLS-RPT (RFC 8460) corpus generator: `tlsrpt generate` calls it.

    write_corpus(out_dir, *, domains=None, days=None, seed=0, start=None,
                 formats=("files", "eml"), reports=None, progress=None, overlap=0.2,
                 scenarios=None)       # domains/days default to 3/30, with scenarios to 12/90

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
    incidents.json                   with scenarios only: the injected incidents (below)

Which reports go where: if "files" is asked, every report is a .json.gz; the mail forms ("eml",
"mbox") then get only a deterministic ~`overlap` share (20 % by default, chosen by a hash of the
file name), so the same report arrives twice and dedupe across forms is exercised. Without
"files", the mail forms get every report. "eml" and "mbox" always hold the same messages.

`reports=N` writes exactly N distinct reports: if domains x days x cadence gives fewer, domains
are added (days stay as asked); if more, an even stride over all slots drops the surplus. Such a
corpus is deterministic too, but not a subset of the corpus without `reports`.
`progress(n)` is called every 1000 reports and once at the end. Files appear atomically (a
dot-prefixed temporary name in the same folder, then os.replace); readers should skip dotfiles.

Scenarios (`scenarios=("cert-expiry", ...)`, "all", or "clean" for none; CLI `--scenario NAME`,
repeatable): labelled incidents for scoring anomaly detection. The world is the same (domains, MX,
policies, reporters and their cadences and quirks), but with no random and no coverage incidents;
defaults become 12 domains (or as many as the scenarios need) and 90 days; `reports` is refused.
The background's only failures are noise a detector must not flag: on reports of >= 200 sessions,
a quarter of the time 1 failed session (2 from 400 on), validation-failure or
starttls-not-supported from the reporter's own sending IPs, always < 0.5 %. Each scenario breaks its own domain
(chosen for what it needs, busy domains first), from a day after the first 40 % of the range:
    cert-expiry        one of the domain's 2 MX: certificate-expired for its 40-50 % of sessions,
                       from every reporter, until the end
    sts-host-down      mta-sts.<domain> down for 2 days: sts-policy-fetch-error (HTTP 503, timeouts)
                       for 92-100 % of the sessions of every sts policy, then recovery
    starttls-stripped  5-10 days of starttls-not-supported from Google's 192.0.2.0/24 senders only
                       (60-90 % of Google's sessions); every other reporter stays clean
    reporter-silent    Google (daily) sends no report at all, for any domain, from day X (last
                       quarter of the range) to the end
    mx-migration       a new MX (mx3.<domain>; a hosted name if the policy says *.<domain>) not
                       in the policy's mx: lines (policy strings unchanged): validation-failure
                       ("... not in MTA-STS policy") for its 25-40 % of the sts sessions, to the end
    dane-rollover      key rolled without new TLSA: tlsa-invalid on every MX under the tlsa policy of
                       the DANE reporters (Microsoft's tlsa leg, Postfix/sys4, Stalwart), 4-6 days
Ground truth: incidents.json (seed, start, end, days, clean_domains, incidents with first/last day,
causes, result types, MX hosts, reporter, sending network); scenarios.py and incidents.py.
"""

from .corpus import DEFAULT_START, FORMATS, CorpusSummary, write_corpus
from .world import RESULT_TYPES

__all__ = ["CorpusSummary", "DEFAULT_START", "FORMATS", "RESULT_TYPES", "write_corpus"]
