"""write_corpus(): walk domains x days x reporters, build each report, write it in the asked forms.

The walk is domain-major (one Domain object alive at a time) and every report is written as soon
as it is built, so memory stays flat for a million reports. With `reports=N` a cheap counting pass
first sizes the corpus (adding domains if needed), then an even stride keeps exactly N slots.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

from . import incidents
from .envelope import eml, gzip_bytes
from .reporters import BY_SLUG, POSTFIX, REACH, REPORTERS, SLUGS, plan_day, plan_rng
from .reports import build, streams
from .world import Day, RESULT_TYPES, build_domain, coverage, make_days
from .writer import MboxWriter, Tally, write_atomic

FORMATS = ("files", "eml", "mbox")
DEFAULT_START = date(2026, 1, 1)  # fixed, so output never depends on today
PROGRESS_EVERY = 1000


@dataclass
class CorpusSummary:
    out_dir: str
    seed: int
    reports: int  # distinct reports (a report written as file and mail counts once)
    files: dict[str, int]  # per format: files / eml written, mbox messages appended
    both_forms: int  # reports written as a .json.gz and as a message
    policy_domains: int  # our domains example-0001.test ...
    host_policy_domains: int  # MX hosts used as policy domain (DANE host TLSRPT)
    reporters: list[str]  # organization-name values that appear
    start: str  # first day (ISO), inclusive
    end: str  # last day (ISO), inclusive
    days: int
    successful_sessions: int  # sum of every policy summary, as stated
    failed_sessions: int
    successful_sessions_dedup: int  # max over policy types per report and policy domain
    failed_sessions_dedup: int
    failed_by_result_type: dict[str, int] = field(default_factory=dict)  # from failure-details
    failed_by_result_type_dedup: dict[str, int] = field(default_factory=dict)
    reports_by_reporter: dict[str, int] = field(default_factory=dict)
    policies_by_type: dict[str, int] = field(default_factory=dict)
    summary_detail_mismatch_reports: int = 0  # reports where sum(details) != stated failures

    def to_dict(self) -> dict:
        """Everything but out_dir, so ground_truth.json is identical wherever the corpus lands."""
        d = asdict(self)
        del d["out_dir"]
        return d


def _count_domain(seed: int, idx: int, day_list: list[Day], cov: dict) -> int:
    dom = build_domain(seed, idx, len(day_list), cov.get(idx), SLUGS, REACH)
    r = plan_rng(seed, dom)
    return sum(len(plan_day(r, dom, d, i)) for i, d in enumerate(day_list))


def _size_for(seed: int, domains: int, day_list: list[Day], target: int) -> tuple[int, int]:
    """(domains, natural report count) so that the natural count reaches `target`.

    Days stay as asked (they set the calendar); domains grow, which is how real installs scale.
    A domain's reports depend only on its index (coverage incidents only touch domains 0-2), so
    growing n just adds the new domains' counts."""
    n = domains
    cov = coverage(seed, n, len(day_list))
    total = sum(_count_domain(seed, i, day_list, cov) for i in range(n))
    while total < target:
        new_n = n + max(1, math.ceil((target - total) / max(total / n, 0.5) * 1.02))
        if n < 3:  # the coverage plan still changes with n: recount from scratch
            cov = coverage(seed, new_n, len(day_list))
            total = sum(_count_domain(seed, i, day_list, cov) for i in range(new_n))
        else:
            total += sum(_count_domain(seed, i, day_list, cov) for i in range(n, new_n))
        n = new_n
    return n, total


def write_corpus(out_dir: Path, *, domains: int | None = None, days: int | None = None,
                 seed: int = 0, start: date | None = None, formats: Sequence[str] = ("files", "eml"),
                 reports: int | None = None, progress: Callable[[int], None] | None = None,
                 overlap: float = 0.2, scenarios: Sequence[str] | None = None) -> CorpusSummary:
    """Write a deterministic synthetic TLS-RPT corpus under `out_dir` and return its ground truth.

    domains, days, start: the simulated world (start defaults to DEFAULT_START, 2026-01-01).
    formats: any of "files" (.json.gz), "eml", "mbox". With "files", every report is a file and
        the mail forms get only a deterministic `overlap` share (default 20 %) of the reports, so
        those arrive twice; without "files", the mail forms get every report.
    reports: write exactly this many reports (domains are added when needed).
    progress: called with the running count every 1000 reports and once at the end.
    scenarios: None = the ordinary corpus (3 domains, 30 days by default). A sequence (even empty,
        or "clean") = the calm background plus those labelled incidents, ground truth in
        incidents.json (12 domains or as many as needed, 90 days by default); see scenarios.py.
    The layout and the world are described in the package docstring (pipeline.generate)."""
    formats = tuple(dict.fromkeys(formats))
    if not formats or set(formats) - set(FORMATS):
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats!r}")
    wanted = None if scenarios is None else incidents.resolve(scenarios)
    if wanted is not None and reports is not None:
        raise ValueError("reports=N cannot be combined with scenarios")
    days = days if days is not None else 30 if wanted is None else 90
    if (domains is not None and domains < 1) or days < 1 or (reports is not None and reports < 0) \
            or not 0 <= overlap <= 1:
        raise ValueError("domains and days must be >= 1, reports >= 0, 0 <= overlap <= 1")
    start = start or DEFAULT_START
    day_list = make_days(start, days)
    n_domains, natural, n = domains or 3, None, reports or 0
    plan = silent = None
    if wanted is not None:
        n_domains, plan = incidents.plan(seed, domains, days, wanted)
        silent = plan.silent
    elif reports is not None:
        n_domains, natural = _size_for(seed, n_domains, day_list, reports)
    cov = coverage(seed, n_domains, days) if plan is None else {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    want_files, want_eml, want_mbox = ("files" in formats), ("eml" in formats), ("mbox" in formats)
    # Mail forms get every report unless files are also asked for; then only a stable ~overlap
    # share (picked by a hash of the file name) so dedupe across forms is exercised.
    cut = round(overlap * 10000) if want_files else 10000
    folders: dict[tuple[str, str], str] = {}

    def folder(kind: str, slug: str) -> str:
        key = (kind, slug)
        if key not in folders:
            (out / kind / slug).mkdir(parents=True, exist_ok=True)
            folders[key] = str(out / kind / slug)
        return folders[key]

    mbox = None
    if want_mbox:
        (out / "mbox").mkdir(exist_ok=True)
        mbox = MboxWriter(str(out / "mbox" / "reports.mbox"))
    tally = Tally()
    counts = {f: 0 for f in formats}
    written = both = slot_no = 0
    try:
        for idx in range(n_domains):
            dom = build_domain(seed, idx, days, cov.get(idx), SLUGS, REACH, plan is not None)
            if plan and idx in plan.by_domain:
                dom = replace(dom, scenario=plan.by_domain[idx])
            plan_r, (report_r, env_r), cache = plan_rng(seed, dom), streams(seed, dom), {}
            for di, day in enumerate(day_list):
                for slot in plan_day(plan_r, dom, day, di):
                    if silent and slot.slug == silent.reporter and di >= silent.first:
                        continue  # reporter-silent: planned (same draws), never sent
                    i, slot_no = slot_no, slot_no + 1
                    if natural is not None and (i + 1) * n // natural == i * n // natural:
                        continue  # even stride: keeps exactly `reports` of `natural` slots
                    b = build(report_r, env_r, dom, slot, day, cache)
                    rep = BY_SLUG[b.slug]
                    # Only sys4 (Python gzip) stamps a time; derived from the report, not the clock.
                    gz = gzip_bytes(rep, b.payload, b.generated if rep is POSTFIX else 0)
                    if want_files:
                        write_atomic(folder("files", b.slug), b.filename, gz)
                        counts["files"] += 1
                    if (want_eml or want_mbox) and zlib.crc32(b.filename.encode()) % 10000 < cut:
                        msg = eml(b, gz, dom.name)
                        if want_eml:
                            write_atomic(folder("eml", b.slug), b.filename[:-8] + ".eml", msg)
                            counts["eml"] += 1
                        if mbox:
                            mbox.add(rep, b.sent, msg)
                            counts["mbox"] += 1
                        both += want_files
                    tally.add(b.slug, b.report, b.header_domain, dom.name)
                    written += 1
                    if progress and written % PROGRESS_EVERY == 0:
                        progress(written)
    except BaseException:
        if mbox:
            mbox.abort()
        raise
    if mbox:
        mbox.close()
    if progress and written % PROGRESS_EVERY:
        progress(written)
    summary = CorpusSummary(
        out_dir=str(out), seed=seed, reports=written, files=counts, both_forms=both,
        policy_domains=n_domains, host_policy_domains=len(tally.host_policy_domains),
        reporters=[r.org for r in REPORTERS if tally.by_reporter[r.slug]],
        start=start.isoformat(), end=(start + timedelta(days=days - 1)).isoformat(), days=days,
        successful_sessions=tally.successful, failed_sessions=tally.failed,
        successful_sessions_dedup=tally.successful_dedup, failed_sessions_dedup=tally.failed_dedup,
        failed_by_result_type={t: tally.by_type[t] for t in RESULT_TYPES},
        failed_by_result_type_dedup={t: tally.by_type_dedup[t] for t in RESULT_TYPES},
        reports_by_reporter={r.org: tally.by_reporter[r.slug] for r in REPORTERS
                             if tally.by_reporter[r.slug]},
        policies_by_type=dict(sorted(tally.by_policy_type.items())),
        summary_detail_mismatch_reports=tally.mismatched_reports,
    )
    data = json.dumps(summary.to_dict(), indent=2, sort_keys=True).encode() + b"\n"
    write_atomic(str(out), "ground_truth.json", data)
    if plan is not None:
        truth = incidents.ground_truth(seed, day_list, n_domains, plan)
        write_atomic(str(out), "incidents.json", json.dumps(truth, indent=2).encode() + b"\n")
    return summary
