"""Named, documented detection thresholds, and where a user overrides them.

The defaults below are what docs/detection.md explains and the scenario evaluation scores. A
user changes any of them in `<data_dir>/detection.toml` (or the file named by
TLSRPT_DETECTION_CONFIG):

    [thresholds]
    min_failed_sessions = 20
    z_threshold = 5

The SQL models read them from the table `config.thresholds` (one typed column per threshold),
written in the same transaction as each build, so every anomaly row can show the threshold it was
held to; `config.detection_thresholds` lists them for people, one described row each.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

from pipeline.settings import Settings


class Threshold(NamedTuple):
    name: str
    default: float
    description: str

    @property
    def kind(self) -> type:
        """int for counts of days and sessions (written with integer defaults), else float."""
        return int if isinstance(self.default, int) else float


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("baseline_days", 28,
              "Trailing window (days) the failure-rate and success-rate baselines are computed over."),
    Threshold("min_baseline_days", 7,
              "Days of data a series needs in its window before a spike can be judged against it."),
    Threshold("min_failed_sessions", 5,
              "Minimum-volume guard: fewer failed sessions than this in a day is never an anomaly."),
    Threshold("min_failed_sessions_most_failing", 3,
              "Low-volume exception to the guard: this many failed sessions count when they are at "
              "least most_failing_rate of the domain's sessions (3 of 3 fetches failing is a problem)."),
    Threshold("most_failing_rate", 0.5,
              "Share of a domain's sessions failing that makes the low-volume exception apply."),
    Threshold("min_failure_rate", 0.01,
              "A day's failures must be at least this share of the domain's sessions."),
    Threshold("min_rate_increase", 0.01,
              "The failure rate must exceed its baseline by at least this much (absolute)."),
    Threshold("z_threshold", 4.0,
              "Robust score (rate minus baseline, over 1.4826 x MAD) a spike must reach."),
    Threshold("rate_noise_floor", 0.005,
              "Lower bound of the scale in the robust score, so a flat baseline does not make every "
              "tiny change infinite."),
    Threshold("min_rate_drop", 0.05,
              "A reporter's success rate must fall at least this much below its baseline (absolute)."),
    Threshold("mx_concentration", 0.8,
              "Share of a day's failures on one MX (or IP) for 'one MX fails while others stay healthy'."),
    Threshold("stripped_network_share", 0.9,
              "Share of a STARTTLS problem's failed sessions from one sending network (while other "
              "reporters of the domain saw TLS) that makes it a downgrade on that path."),
    Threshold("min_domain_success_rate", 0.3,
              "The domain's other paths must still carry at least this share of sessions successfully "
              "for an MX to count as failing alone."),
    Threshold("resolve_after_days", 3,
              "Days with data and without the anomaly after which a problem counts as resolved; a "
              "recurrence within this gap continues the same problem."),
    Threshold("silence_min_report_days", 10,
              "Days with reports a reporter needs (per domain) before its cadence is learned."),
    Threshold("silence_learning_days", 60,
              "Window (days) over which a reporter's usual gap between reports is learned. A reporter "
              "that reported on every day of it (a daily sender like Google) is allowed no gap beyond "
              "late delivery: two missing days in a row are silence."),
    Threshold("silence_chance", 1e-5,
              "A sender that reports on a share p of days leaves a gap of g days by chance with "
              "probability (1-p)^g; a gap is silence only when that chance is below this. Irregular "
              "senders (traffic days only) get room in proportion to their irregularity."),
    Threshold("silence_late_grace_days", 1,
              "Extra days allowed beyond the usual gap for late delivery. 'Today' is the newest report "
              "day of any reporter, so this covers the differences between reporters' delivery lags "
              "(Google mails its reports 10-16 h after the day ends, Microsoft about 20 h after)."),
    Threshold("intake_archive_days", 30,
              "Intake freshness (no report at all for longer than all reporters together ever paused, "
              "judged against the clock) is checked only while the newest report is at most this many "
              "days old: older data is an archive (an import, the demo), not a feed that stopped."),
    Threshold("stale_policy_days", 3,
              "Days after another sender first applied a newer MTA-STS policy before a sender still "
              "applying the old one is flagged."),
    Threshold("critical_failure_rate", 0.25,
              "Peak share of a domain's sessions failing that makes a problem critical."),
)

DEFAULTS: dict[str, float] = {t.name: t.default for t in THRESHOLDS}
KINDS: dict[str, type] = {t.name: t.kind for t in THRESHOLDS}


class DetectionConfigError(ValueError):
    """A detection config file that cannot be used; the message names the file and the key."""


def config_path(data_dir: Path) -> Path:
    return Settings(data_dir=data_dir).detection_config_path


def load_thresholds(data_dir: Path) -> dict[str, float]:
    """Defaults, overridden by `[thresholds]` in the detection config file when it exists."""
    path = config_path(data_dir)
    values = dict(DEFAULTS)
    if not path.is_file():
        if Settings(data_dir=data_dir).detection_config is not None:
            raise DetectionConfigError(f"{path}: TLSRPT_DETECTION_CONFIG names a file that does not exist")
        return values
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DetectionConfigError(f"{path}: {exc}") from exc
    for name, value in data.get("thresholds", {}).items():
        if name not in DEFAULTS:
            raise DetectionConfigError(f"{path}: unknown threshold {name!r} (known: {', '.join(DEFAULTS)})")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise DetectionConfigError(f"{path}: threshold {name!r} must be a number >= 0, got {value!r}")
        if KINDS[name] is int and value != int(value):
            raise DetectionConfigError(f"{path}: threshold {name!r} counts days or sessions: a whole number, got {value!r}")
        values[name] = value
    return values


def markdown() -> str:
    """The thresholds table of docs/detection.md (a test keeps the page equal to this)."""
    rows = ["| threshold | default | meaning |", "|---|---|---|"]
    rows += [f"| `{t.name}` | {t.default:g} | {t.description} |" for t in THRESHOLDS]
    return "\n".join(rows)
