"""What each result type means for the domain owner, and the usual fix (DOMAIN.md section 3).

Reports come from the organisations that send mail TO your domain: a failure means a sender
could not deliver to your MX securely, never that your own outbound mail failed."""

RESULT_TYPES: dict[str, tuple[str, str]] = {
    "sts-policy-fetch-error": ("Senders saw your _mta-sts record but could not download the policy file.",
                               "Make mta-sts.<domain> resolve and answer 200 at /.well-known/mta-sts.txt, without redirects."),
    "sts-policy-invalid": ("The policy file was fetched but is not a valid MTA-STS policy.",
                           "Fix its syntax (version, mode, mx, max_age), serve text/plain, then bump the _mta-sts id."),
    "sts-webpki-invalid": ("The HTTPS certificate of mta-sts.<domain> failed validation.",
                           "Serve a publicly trusted certificate for mta-sts.<domain> with its full chain; automate renewal."),
    "tlsa-invalid": ("Your MX certificate or key matched none of its TLSA records.",
                     "Publish TLSA records for the current and the next key before any rollover."),
    "dnssec-invalid": ("Senders got bogus DNSSEC answers looking up your TLSA records.",
                       "Repair DNSSEC signing (expired signatures, DS/DNSKEY mismatch)."),
    "dane-required": ("A sender requires DANE but found no validated TLSA record for your MX.",
                      "Publish TLSA records in a signed zone for every MX."),
    "starttls-not-supported": ("Your MX did not offer STARTTLS (or something in the path removed it).",
                               "Enable STARTTLS on every MX and node; look for firewalls inspecting SMTP."),
    "certificate-host-mismatch": ("Your MX certificate does not cover the name senders connected to.",
                                  "Put every MX hostname in the certificate; keep MX records and the policy's mx: lines in step."),
    "certificate-expired": ("Your MX certificate had expired.",
                            "Renew it, automate renewal, reload the MTA, and check every MX."),
    "certificate-not-trusted": ("Your MX certificate chain does not reach a trusted root.",
                                "Use a public CA and serve the full chain (intermediates included)."),
    "validation-failure": ("Another validation problem; the reason code says which.",
                           "Read the failure reason codes on the sources page."),
}


def meaning(result_type: str) -> str:
    return RESULT_TYPES.get(result_type, ("Not in the RFC 8460 registry: kept as the sender wrote it.", ""))[0]


def fix(result_type: str) -> str:
    return RESULT_TYPES.get(result_type, ("", "Check the sender's documentation for this result type."))[1]


def described(frame, column: str = "result_type"):
    """`frame` with the meaning and usual fix of each result type, vectorised (polars replace)."""
    import polars as pl

    meanings = {name: text for name, (text, _) in RESULT_TYPES.items()}
    fixes = {name: text for name, (_, text) in RESULT_TYPES.items()}
    return frame.with_columns(
        pl.col(column).replace_strict(meanings, default=meaning("")).alias("meaning"),
        pl.col(column).replace_strict(fixes, default=fix("")).alias("usual fix"),
    )
