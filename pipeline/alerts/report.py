"""How `tlsrpt alerts` prints a pass: one line per channel and event, then a summary."""

from __future__ import annotations

from rich.console import Console

from pipeline.alerts.render import subject
from pipeline.alerts.run import AlertsRun
from pipeline.plain_text import text


def _line(out: Console, line: str) -> None:
    # Channel names and problem titles are not markup, and titles carry report fields.
    out.print(text(line), soft_wrap=True)


def print_run(run: AlertsRun, out: Console) -> None:
    if run.reason:
        _line(out, f"no alerts: {run.reason}")
        return
    assert run.decision is not None and run.config is not None
    kinds = {c.name: c.kind for c in run.config.channels}
    if run.dry_run:
        _line(out, f"dry run on snapshot {run.snapshot if run.snapshot is not None else '?'}: nothing is sent, no state changes")
        for event in run.decision.events:
            _line(out, f"would send  {kinds[event.channel]:<8} {event.channel:<24} {event.event:<9} "
                       f"{subject(event)}  ({event.reason})")
    else:
        for outcome in run.outcomes:
            event = outcome.event
            mark = "sent  " if outcome.ok else "FAILED"
            extra = f"  [{outcome.error}]" if outcome.error else (f"  [{outcome.note}]" if outcome.note else "")
            _line(out, f"{mark}  {kinds[event.channel]:<8} {event.channel:<24} {event.event:<9} {subject(event)}{extra}")
    for held in run.decision.held:
        _line(out, f"held back  {held.channel:<24} worsened  {held.problem.title} ({held.reason}; "
                   f"suppressed until {held.until:%Y-%m-%d %H:%M} UTC)")
    for change in run.decision.changes:  # a late report moved a first day: history, not a message
        _line(out, f"{'would note' if run.dry_run else 'noted'}  {change.problem.title}: {change.change}")
    count = len(run.decision.events)
    if run.dry_run:
        _line(out, f"{count} message(s) would be sent")
    else:
        _line(out, f"{len(run.sent)} sent, {len(run.failed)} failed (retried next run)")
