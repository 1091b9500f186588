"""One way to show a table: plain labels with their meaning as a tooltip, rates as percentages,
counts with thousands separators, days as days and times in UTC; full width, no index."""

from __future__ import annotations

import polars as pl
import streamlit as st

from pipeline.vocabulary import POLICY_TYPES

# Column name -> (label, tooltip). Names not listed keep a readable form of their own name.
LABELS: dict[str, tuple[str, str]] = {
    "policy_domain": ("Domain", "The policy domain the report is about (one of yours)."),
    "reporter": ("Reporter", "The organisation that sent the report (its domain): it sends mail to you."),
    "organization": ("Organisation", "The reporter's name as written in its reports."),
    "organization_name": ("Organisation", "The reporter's name as written in its reports."),
    "result_type": ("Result type", "The RFC 8460 failure type the reporter gave."),
    "result_group": ("Group", "Which part failed: STS policy, DANE/TLSA, STARTTLS or certificate."),
    "failed_sessions": ("Failed sessions", "TLS sessions to your MX hosts that failed."),
    "failed": ("Failed sessions", "TLS sessions to your MX hosts that failed."),
    "sessions": ("Sessions", "TLS sessions reported (each policy type counted once)."),
    "success_rate": ("Success rate", "Successful sessions / all sessions."),
    "reporters": ("Reporters", "How many organisations reported it."),
    "first_day": ("First day", "First report day (UTC)."),
    "last_day": ("Last day", "Last report day (UTC)."),
    "first_seen": ("First seen", "First report day with it (UTC)."),
    "last_seen": ("Last seen", "Last report day with it (UTC)."),
    "receiving_mx_hostname": ("MX host", "Your MX host the sender connected to."),
    "receiving_mx": ("MX host", "Your MX host the sender connected to."),
    "receiving_ip": ("MX address", "The address of your MX the sender connected to."),
    "sending_mta_ip": ("Sending IP", "The sender's outgoing mail server."),
    "sending_mta_network": ("Sending network", "The sender's network (/24 or /48)."),
    "reasons": ("Reason codes", "failure-reason-code values as the sender wrote them."),
    "meaning": ("Meaning", "What the result type means for you."),
    "usual fix": ("Usual fix", "What usually repairs it."),
    "why": ("Meaning", "What the result type means for you."),
    "policy_type": ("Policy", "The policy the sender applied (sts: MTA-STS, tlsa: DANE): " + ", ".join(POLICY_TYPES) + "."),
    "sts_mode": ("STS mode", "enforce, testing or none."),
    "sts_max_age": ("Max age (s)", "How long senders may cache the policy."),
    "sts_mx": ("Policy MX lines", "The mx: lines of the policy the sender applied."),
    "tlsa_records": ("TLSA records", "How many TLSA records the sender saw."),
    "is_latest_for_reporter": ("Latest", "Whether this is the newest policy version this reporter applied."),
    "report_key": ("Report key", "This warehouse's key for the report: organisation + report-id."),
    "report_id": ("Report-id", "The report-id the sender gave."),
    "report_date": ("Day", "Report day (UTC start of its range)."),
    "received_at": ("Received (UTC)", "When it arrived: the mail's Date:, or the file's time."),
    "ingested_at": ("Ingested (UTC)", "When this warehouse loaded it."),
    "channel": ("Channel", "How it came: file, mail (IMAP) or HTTPS."),
    "trust": ("Trust", "dkim_verified, dkim_failed, unsigned_mail or unauthenticated."),
    "dkim_result": ("DKIM", "The DKIM verdict on arrival."),
    "conformance_flags": ("Conformance flags", "Where the report departs from RFC 8460."),
    "outcome": ("Outcome", "loaded, duplicate (the same report again) or quarantined."),
    "reason_code": ("Reason", "Why an input was quarantined."),
    "attachment_name": ("Attachment", "The file name of the input."),
    "sessions_affected": ("Sessions affected", "Failed sessions in the problem's days."),
    "affected_reporters": ("Reporters", "The organisations whose reports show it."),
    "detector": ("Detector", "Which rule flagged the day (docs/detection.md)."),
    "observed": ("Observed", "The value on that day."),
    "baseline": ("Baseline", "The usual value before it."),
    "score": ("Score", "How far the day is from its baseline."),
    "threshold": ("Threshold", "The score that flags a day."),
    "total_sessions": ("Sessions", "All sessions of that day and scope."),
    "evidence_report_keys": ("Reports", "The reports the day rests on."),
    "last_report_day": ("Last report day", "The newest day it reported (UTC)."),
    "last_received_at": ("Last arrival (UTC)", "When its newest report arrived."),
    "usual_gap_days": ("Usual gap (days)", "Its usual number of days between two reports."),
    "report_days": ("Days reported", "Days with at least one report in the window."),
    "in_policy": ("In policy", "Named on an mx: line of the domain's MTA-STS policy."),
    "causes": ("Causes", "The result types reported for it."),
    "dane_sessions": ("DANE sessions", "Sessions in DANE reports filed under this MX host."),
    "dane_success_rate": ("DANE success rate", "Success rate of those DANE reports."),
    "policy_applied": ("Policy applied", "The policy type and mode this reporter applied last."),
    "days_behind": ("Days since", "Days from its last report day to today (UTC)."),
    "overdue": ("Overdue", "No report for longer than its usual gap plus the delivery delay."),
    "open_problems": ("Open problems", "Problems open now, whatever the days chosen."),
    "dane_mx_hosts": ("DANE reports for MX", "Its MX hosts under which senders filed DANE reports (not added to its sessions)."),
    "days_since_arrival": ("Days since", "Days from its last arrival to now."),
    "last_arrival": ("Last arrival (UTC)", "When this warehouse last received an input on it."),
}
WIDE = {"detail", "title", "meaning", "usual fix", "why", "origin", "causes", "dane_mx_hosts"}  # long text: the widest column, full text on hover
# Identifiers and short codes: narrow (the full value shows on hover), so the columns that matter fit.
NARROW = {"report_key", "raw_sha256", "channel", "dkim_result", "part_index", "outcome", "in_policy", "overdue"}
PERCENT = {"success_rate", "failure_rate", "peak_failure_rate", "share", "dane_success_rate"}


def label(name: str) -> str:
    return LABELS.get(name, (name.replace("_", " ").capitalize(), ""))[0]


def config_for(frame: pl.DataFrame) -> dict:
    config: dict = {}
    for name, kind in frame.schema.items():
        text, tip = LABELS.get(name, (label(name), None))
        tip = tip or None
        if name in PERCENT:
            config[name] = st.column_config.NumberColumn(text, help=tip, format="percent")
        elif kind == pl.Date:
            config[name] = st.column_config.DateColumn(text, help=tip, format="YYYY-MM-DD")
        elif isinstance(kind, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(text, help=tip, format="YYYY-MM-DD HH:mm", timezone="UTC")
        elif kind.is_integer():
            config[name] = st.column_config.NumberColumn(text, help=tip, format="localized")
        elif isinstance(kind, pl.List):
            config[name] = st.column_config.ListColumn(text, help=tip)
        else:
            config[name] = st.column_config.Column(text, help=tip, width="large" if name in WIDE else "small" if name in NARROW else None)
    return config


def show(frame: pl.DataFrame, *, links: dict[str, str] | None = None, height: int | str = "auto") -> None:
    """`links`: column -> a column of in-app URLs shown in its place (the text stays the label).
    A `total_rows` column (the count before a LIMIT) becomes a caption when rows were left out."""
    if "total_rows" in frame.columns:
        total = frame["total_rows"][0] if frame.height else 0
        frame = frame.drop("total_rows")
        if total > frame.height:
            st.caption(f"The first {frame.height:,} of {total:,} rows, in the order shown; narrow the filters to see the rest.")
    # DuckDB sums are DECIMAL(38, 0): whole numbers, shown (and formatted) as such.
    frame = frame.with_columns(pl.col(name).cast(pl.Int64) for name, kind in frame.schema.items()
                               if isinstance(kind, pl.Decimal) and kind.scale == 0)
    config = config_for(frame)
    for name, url_column in (links or {}).items():
        text, tip = LABELS.get(name, (label(name), ""))
        # The cell holds the URL; the regex shows the value after the last "#" as its text.
        frame = frame.with_columns((pl.col(url_column) + "#" + pl.col(name).cast(pl.String)).alias(name))
        config[name] = st.column_config.LinkColumn(text, help=tip or None, display_text=r"#(.*)$",
                                                   width="small" if name in NARROW else None)
        config[url_column] = None
    st.dataframe(frame, width="stretch", hide_index=True, column_config=config, height=height)
