"""Compression and mail envelopes in each reporter's style.

Messages are assembled as text rather than with email.message: it is several times faster, and
the real quirks (folded Subjects, unquoted report-type, a missing closing boundary, HTML-only
bodies, CRLF storage) are exactly what a generic serializer would "fix". Messages are not DKIM
signed: a fake signature would only fail verification, and the warehouse records the verdict.
"""

from __future__ import annotations

import base64
import struct
import time
import zlib
from datetime import datetime, timedelta, timezone

from .reporters import BY_SLUG, Reporter
from .reports import Built


def gzip_bytes(rep: Reporter, data: bytes, mtime: int) -> bytes:
    """gzip with the reporter's header bytes, no FNAME, fixed mtime: byte-for-byte reproducible.

    A 4 KB deflate window and memLevel 4 cut zlib's per-stream setup cost (most of the time for a
    1 KB report) while remaining ordinary gzip for any reader."""
    c = zlib.compressobj(rep.gz_level, zlib.DEFLATED, -12, 4)
    body = c.compress(data) + c.flush()
    head = b"\x1f\x8b\x08\x00" + struct.pack("<I", mtime) + bytes((rep.gz_xfl, rep.gz_os))
    return head + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def _utc_offset_hours(slug: str, ts: int) -> int:
    # Rough DST by month is enough here: the point is local zones in Date:, not tz accuracy.
    month = time.gmtime(ts).tm_mon
    summer = 4 <= month <= 10
    return {"google": -7 if summer else -8, "mailru": 3, "postfix": 2 if summer else 1}.get(slug, 0)


_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _date(slug: str, ts: int) -> str:
    # English names by hand: strftime's %a/%b follow the process locale, which would break
    # byte-identical output.
    hours = _utc_offset_hours(slug, ts)
    d = datetime.fromtimestamp(ts, timezone(timedelta(hours=hours)))
    day = str(d.day) if slug == "microsoft" else f"{d.day:02d}"  # Microsoft: "Fri, 3 Feb 2023"
    off = f"{'-' if hours < 0 else '+'}{abs(hours):02d}00"
    return f"{_WD[d.weekday()]}, {day} {_MON[d.month - 1]} {d.year} {d:%H:%M:%S} {off}"


def mbox_from_line(rep: Reporter, ts: int) -> str:
    """The mbox separator: envelope sender and asctime() in UTC."""
    t = time.gmtime(ts)
    return (f"From {rep.mail_from} {_WD[t.tm_wday]} {_MON[t.tm_mon - 1]} {t.tm_mday:2d} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} {t.tm_year}")


def _headers(rep: Reporter, b: Built, to_domain: str, boundary: str) -> list[str]:
    r, d, rid, s = b.rng, b.header_domain, b.report_id, rep.submitter
    date = _date(rep.slug, b.sent)
    rt = 'report-type="tlsrpt"' if rep.report_type_quoted else "report-type=tlsrpt"
    if rep.slug == "google":
        sid = rid.split("_")[0].replace("-", ".").replace(":", ".")
        sid = f"<{sid}+{d}@google.com>"  # differs from the JSON report-id
        return ["MIME-Version: 1.0", f"Date: {date}", f"TLS-Report-Domain: {d}",
                f"TLS-Report-Submitter: {s}",
                f"Message-ID: <{b.sent:08x}.{r.getrandbits(32):08x}.{r.getrandbits(20):05x}."
                f"{r.getrandbits(16):04x}tls@google.com>",
                f"Subject: Report Domain: {d} Submitter: {s} Report-ID: {sid}",
                f"From: {rep.mail_from}", f"To: tlsrpt@{to_domain}",
                f'Content-Type: multipart/report; boundary="{boundary}"; {rt}']
    if rep.slug == "microsoft":  # folded Subject, bare Report-ID, Message-ID in *our* domain
        to = f"tlsrpt@{to_domain}"
        return [f"From: <{rep.mail_from}>", f'To: "{to}" <{to}>', f"Date: {date}",
                f"Subject: Report Domain: {d} Submitter: {s} Report-ID:", f" {rid}",
                f"TLS-Report-Domain: {d}", f"TLS-Report-Submitter: {s}", "MIME-Version: 1.0",
                f"Message-ID: <{rid}@{to_domain}>", "Content-Type: multipart/report;",
                f'\tboundary="{boundary}"; {rt}']
    if rep.slug == "mailru":  # Subject folded over four lines
        sid = f"<{rid}>"
        return [f"From: {rep.mail_from}", f"To: tlsrpt@{to_domain}", "Subject: Report",
                f" Domain: {d}", f" Submitter: {s}", f" Report-ID: {sid}", f"Date: {date}",
                f"Message-Id: <{r.getrandbits(64):016x}@mail.ru>", f"TLS-Report-Domain: {d}",
                f"TLS-Report-Submitter: {s}", "MIME-Version: 1.0",
                f'Content-Type: multipart/report; boundary={boundary}; {rt}']
    if rep.slug == "stalwart":
        mid = f"<{r.getrandbits(64):x}.{b.generated}@{s}>"
        return [f'From: "Report Subsystem" <{rep.mail_from}>', f'To: <tlsrpt@{to_domain}>',
                f"Subject: Report Domain: {d} Submitter: {s} Report-ID: <{rid}@{s}>",
                f"Date: {date}", f"Message-ID: {mid}", f"TLS-Report-Domain: {d}",
                f"TLS-Report-Submitter: {s}", "MIME-Version: 1.0",
                f'Content-Type: multipart/report; {rt};', f'\tboundary="{boundary}"']
    # Postfix / sys4 tlsrpt-reportd (Python email package)
    return [f'Content-Type: multipart/report; {rt};', f' boundary="{boundary}"',
            "MIME-Version: 1.0", f"From: {rep.mail_from}", f"To: tlsrpt@{to_domain}",
            f"Subject: Report Domain: {d} Submitter: {s} Report-ID: <{rid}@{s}>",
            f"Date: {date}", f"Message-ID: <{b.generated}.{r.getrandbits(40)}@{s}>",
            f"TLS-Report-Domain: {d}", f"TLS-Report-Submitter: {s}"]


def _boundary(rep: Reporter, r) -> str:
    slug = rep.slug
    if slug == "google":
        return f"000000000000{r.getrandbits(64):016x}"
    if slug == "microsoft":
        h = f"{r.getrandbits(128):032x}"
        return f"_{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}_"
    if slug == "mailru":  # Go mime/multipart: 30 random bytes in hex
        return f"{r.getrandbits(240):060x}"
    if slug == "stalwart":
        return f"{r.getrandbits(64):x}_{r.getrandbits(32):x}_{r.getrandbits(16):x}"
    return f"==============={r.getrandbits(62):019d}=="  # Python's email package


_HTML = ('<html>\n<head>\n'
         '<meta http-equiv=3D"Content-Type" content=3D"text/html; charset=3Dus-ascii"=\n>\n'
         '</head>\n<body>\n<div>This is an aggregate TLS report from microsoft.com</div>\n'
         '</body>\n</html>\n')  # already quoted-printable: "=3D" is "=", "=\n" a soft break


def _text_part(rep: Reporter, b: Built) -> list[str]:
    if rep.slug == "microsoft":  # text/html only since 2024
        return ['Content-Type: text/html; charset="us-ascii"',
                "Content-Transfer-Encoding: quoted-printable", "", *_HTML.splitlines()]
    if rep.slug == "google":
        return ['Content-Type: text/plain; charset="UTF-8"; format=flowed; delsp=yes', "",
                f"This is an aggregate TLS report from {rep.submitter}"]
    return ['Content-Type: text/plain; charset="us-ascii"', "Content-Transfer-Encoding: 7bit", "",
            f"This is an aggregate TLS report from {rep.submitter} for {b.header_domain}.",
            "The report is attached as a gzip-compressed JSON file (RFC 8460)."]


def eml(b: Built, gz: bytes, to_domain: str) -> bytes:
    """The complete message for one report, in the reporter's style and line endings."""
    rep = BY_SLUG[b.slug]
    r = b.rng
    boundary = _boundary(rep, r)
    fn = b.filename
    if rep.slug == "microsoft":  # name only in Content-Disposition, plus a folded description
        att = ["Content-Type: application/tlsrpt+gzip", "Content-Description:", f" {fn}",
               "Content-Disposition: attachment;", f'\tfilename="{fn}"']
    else:
        att = ["Content-Type: application/tlsrpt+gzip; ", f'\tname="{fn}"',
               "Content-Disposition: attachment; ", f'\tfilename="{fn}"']
    att.append("Content-Transfer-Encoding: base64")
    lines = _headers(rep, b, to_domain, boundary)
    lines += ["", f"--{boundary}", *_text_part(rep, b), "", f"--{boundary}", *att, ""]
    lines.append(base64.encodebytes(gz).decode("ascii").rstrip("\n"))  # 76-column lines
    if not (rep.slug == "mailru" and r.random() < 0.25):  # Mail.ru: no closing boundary (quirk 15)
        lines.append(f"--{boundary}--")
    text = "\n".join(lines) + "\n"
    if rep.crlf:
        text = text.replace("\n", "\r\n")
    return text.encode("ascii")
