"""Deliver one rendered alert to one channel; raise SendError (one line) unless it was accepted.

Webhook signature (docs/alerts.md): `X-TLSRPT-Timestamp: <unix seconds>` and
`X-TLSRPT-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>." + raw body)>`. The
timestamp is inside the signed string, so a captured request cannot be replayed later with a
fresh timestamp; receivers reject timestamps more than 5 minutes away from their clock.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

from pipeline.alerts.config import Channel, redact

USER_AGENT = "tlsrpt-warehouse-alerts/1"


class SendError(RuntimeError):
    """A channel did not accept a message (it is retried on the next run)."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirected POST would lose its body or go elsewhere
        return None


def send_webhook(channel: Channel, secret: str, payload: dict, timeout: float) -> None:
    body = json.dumps(payload, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(channel.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-TLSRPT-Event": payload["event"],
        "X-TLSRPT-Event-Id": payload["event_id"],
        "X-TLSRPT-Timestamp": timestamp,
        "X-TLSRPT-Signature": sign(secret, timestamp, body),
    })
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise SendError(f"{redact(channel.url)} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SendError(f"cannot reach {redact(channel.url)}: {reason}") from None
    if not 200 <= status < 300:
        raise SendError(f"{redact(channel.url)} answered HTTP {status}")


def mail_message(channel: Channel, subject: str, text: str, event_id: str) -> EmailMessage:
    # Python's folding puts a line break right after "Subject:" for a long "[TLS-RPT ...]" subject,
    # which some clients show as a leading space; headers up to RFC 5322's 998 are not folded.
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    # The same id on a retried message, so a mailbox or a filter can drop the copy.
    message["Message-ID"] = f"<{event_id}@tlsrpt-warehouse.invalid>"
    message["X-TLSRPT-Event-Id"] = event_id
    message.set_content(text)
    return message


def send_mail(channel: Channel, password: str, message: EmailMessage, timeout: float) -> list[str]:
    """Send over STARTTLS (certificate and host name checked); returns refused recipients."""
    context = ssl.create_default_context(cafile=channel.cafile or None)  # cafile: only that CA is trusted
    try:
        with smtplib.SMTP(channel.host, channel.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if channel.starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if channel.username:
                smtp.login(channel.username, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPNotSupportedError:
        raise SendError(f"{channel.host}:{channel.port} does not offer STARTTLS; nothing was sent") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise SendError(f"{channel.host}:{channel.port} refused the login for {channel.username} ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused:
        raise SendError(f"{channel.host}:{channel.port} refused every recipient ({', '.join(channel.to)})") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise SendError(f"{channel.host}:{channel.port} answered {exc.smtp_code} {text}") from None
    except ssl.SSLError as exc:
        raise SendError(f"TLS with {channel.host}:{channel.port} failed: {exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"cannot send through {channel.host}:{channel.port}: {exc}") from None
    return sorted(refused)


def send_apprise(channel: Channel, subject: str, text: str) -> None:
    import apprise  # imported when used: it is slow to import and only needed here

    notifier = apprise.Apprise()
    for url in channel.urls:
        if not notifier.add(url):
            raise SendError(f"apprise cannot use {redact(url)}")
    if not notifier.notify(title=subject, body=text, body_format=apprise.NotifyFormat.TEXT):
        raise SendError(f"apprise could not deliver to {', '.join(redact(u) for u in channel.urls)}")
