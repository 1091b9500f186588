"""One alerts pass, shared by `tlsrpt alerts` and the Dagster sensor: read the config and the
current problems, decide, send, and move the state per channel only for accepted messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipeline.alerts import render, send
from pipeline.alerts.config import AlertsConfig, Channel, load_config, resolve_secrets
from pipeline.alerts.decide import Decision, Event, decide
from pipeline.alerts.problems import load_problems
from pipeline.alerts.state import (
    alerts_dir,
    alerts_lock,
    append_sent,
    load_state,
    save_state,
)
from pipeline.settings import Settings


@dataclass(frozen=True)
class Outcome:
    event: Event
    error: str = ""  # empty: the channel accepted the message
    note: str = ""  # e.g. recipients an SMTP server refused while accepting the others

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class AlertsRun:
    reason: str = ""  # why nothing was decided (no config, no snapshot, no table)
    snapshot: int | None = None  # the lake snapshot read
    config: AlertsConfig | None = None
    decision: Decision | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    dry_run: bool = False

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]


def deliver(channel: Channel, event: Event, secret: str, timeout: float, sent_at: datetime) -> str:
    """Send one event; raises send.SendError; returns a note for the summary."""
    if channel.kind == "webhook":
        send.send_webhook(channel, secret, render.payload(event, sent_at), timeout)
    elif channel.kind == "smtp":
        message = send.mail_message(channel, render.subject(event), render.body(event), event.event_id)
        refused = send.send_mail(channel, secret, message, timeout)
        if refused:
            return f"refused recipients: {', '.join(refused)}"
    else:
        send.send_apprise(channel, render.subject(event), render.body(event))
    return ""


def run_alerts(settings: Settings, config_path: Path | None = None, dry_run: bool = False,
               now: datetime | None = None) -> AlertsRun:
    """Raises AlertsConfigError for a bad config and AlertsBusy when another run holds the lock."""
    path = config_path or settings.alerts_config_path
    if not path.exists():
        return AlertsRun(reason=f"no alerts config at {path} (docs/alerts.md shows one)")
    config = load_config(path)
    secrets = {} if dry_run else resolve_secrets(config)
    loaded = load_problems(settings)
    if not loaded.ok:
        return AlertsRun(reason=loaded.reason, snapshot=loaded.snapshot, config=config, dry_run=dry_run)
    now = now or datetime.now(timezone.utc)
    if dry_run:  # reads the state, changes nothing: no lock needed (the state file is replaced atomically)
        decision = decide(loaded.problems, load_state(settings.data_dir), config, now)
        return AlertsRun(snapshot=loaded.snapshot, config=config, decision=decision, dry_run=True)
    channels = {c.name: c for c in config.channels}
    run = AlertsRun(snapshot=loaded.snapshot, config=config)
    with alerts_lock(settings.data_dir):
        for stray in alerts_dir(settings.data_dir).glob(".state-*.tmp"):
            stray.unlink(missing_ok=True)  # left by a crash mid-write; state.json itself is whole
        state = load_state(settings.data_dir)
        run.decision = decide(loaded.problems, state, config, now)
        down: dict[str, str] = {}
        for event in run.decision.events:
            if event.channel in down:  # one failure per channel and run: don't wait out N timeouts
                run.outcomes.append(Outcome(event, error=f"not tried after: {down[event.channel]}"))
                continue
            channel = channels[event.channel]
            sent_at = datetime.now(timezone.utc)
            try:
                note = deliver(channel, event, secrets.get(channel.name, ""), config.timeout_seconds, sent_at)
            except send.SendError as exc:
                down[event.channel] = str(exc)
                run.outcomes.append(Outcome(event, error=str(exc)))
                continue
            except (ValueError, TypeError) as exc:  # this problem's text, not the channel: the others still go
                run.outcomes.append(Outcome(event, error=f"could not build this message: {exc}"))
                continue
            state.record(channel.name, event.event, event.problem, sent_at)
            append_sent(settings.data_dir, {
                "sent_at": sent_at.isoformat(), "channel": channel.name, "event": event.event,
                "event_id": event.event_id, "problem_id": event.problem.problem_id,
                "severity": event.problem.severity, "title": event.problem.title, "reason": event.reason,
            })
            save_state(settings.data_dir, state)
            run.outcomes.append(Outcome(event, note=note))
        for change in run.decision.changes:
            state.note_change(change, now)
        state.prune({p.problem_id for p in loaded.problems}, now)
        save_state(settings.data_dir, state)
    return run
