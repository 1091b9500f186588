"""How `tlsrpt alerts` prints a pass: one line per channel and event, then a summary."""

from __future__ import annotations

from rich.console import Console

from pipeline.alerts.render import subject
from pipeline.alerts.run import AlertsRun


def print_run(run: AlertsRun, out: Console) -> None:
    if run.reason:
        out.print(f"no alerts: {run.reason}", highlight=False)
        return
    assert run.decision is not None and run.config is not None
    kinds = {c.name: c.kind for c in run.config.channels}
    if run.dry_run:
        out.print(f"dry run on {run.snapshot.name if run.snapshot else '?'}: nothing is sent, no state changes",
                  highlight=False, soft_wrap=True)
        for event in run.decision.events:
            out.print(f"would send  {kinds[event.channel]:<8} {event.channel:<24} {event.event:<9} "
                      f"{subject(event)}  ({event.reason})", highlight=False, soft_wrap=True)
    else:
        for outcome in run.outcomes:
            event = outcome.event
            mark = "sent  " if outcome.ok else "FAILED"
            extra = f"  [{outcome.error}]" if outcome.error else (f"  [{outcome.note}]" if outcome.note else "")
            out.print(f"{mark}  {kinds[event.channel]:<8} {event.channel:<24} {event.event:<9} {subject(event)}{extra}",
                      highlight=False, soft_wrap=True)
    for held in run.decision.held:
        out.print(f"held back  {held.channel:<24} worsened  {held.problem.title} ({held.reason}; "
                  f"suppressed until {held.until:%Y-%m-%d %H:%M} UTC)", highlight=False, soft_wrap=True)
    count = len(run.decision.events)
    if run.dry_run:
        out.print(f"{count} message(s) would be sent", highlight=False)
    else:
        out.print(f"{len(run.sent)} sent, {len(run.failed)} failed (retried next run)", highlight=False)
