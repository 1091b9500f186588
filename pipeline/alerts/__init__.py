"""Alerts on detected problems (`detect.problems`): webhooks, e-mail and Apprise, per domain.

config.py reads alerts.toml (toml_table.py: checked reads), problems.py the last passed build (a pinned lake snapshot), decide.py (pure) turns problems
and the state into opened / worsened / resolved events, state.py keeps what each channel was
told, render.py words a message, send.py delivers it, run.py ties one pass together (used by
`tlsrpt alerts` and the Dagster `alert_sensor`), report.py prints a pass. See docs/alerts.md.
"""
