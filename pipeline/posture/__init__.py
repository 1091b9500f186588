"""MTA-STS and TLS-RPT posture: what a domain publishes now (DNS records, the MTA-STS policy
file, its MX hosts' STARTTLS certificates, TLSA records), checked from the outside.

Each check returns a plain `CheckResult`; a timeout, an unreachable host or a hostile answer is
a result too, never an exception. No dagster, streamlit or app imports here: the CLI, the asset
and the tests call these functions directly (docs/posture.md).
"""
