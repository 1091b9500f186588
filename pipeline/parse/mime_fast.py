"""The MIME tree of an ordinary report mail, read without the stdlib parser, or None.

A report mail is headers, then one multipart level holding a text part and the report (or the
report as the whole body). For such a mail this reads exactly what `email.message_from_bytes`
with `compat32` would give mail.read_mail (header values as stored, parts split where its
feedparser splits them, Content-Type / Content-Disposition parameters as `Message.get_param`
returns them) at a fraction of the cost: the feedparser walks the message a line at a time
through generators, and the parameter helpers quote and unquote every value twice.
Whatever it cannot read the same way for certain answers None, and the caller parses the mail
with the stdlib: non-ASCII bytes, line breaks other than LF and CRLF, a header line the
feedparser treats specially, nested multiparts and message/* parts, multipart/digest, RFC 2231
or backslash-escaped parameters, a missing start boundary, transfer encodings other than
base64, quoted-printable and the identity ones. tests/unit/test_mail_fastpath.py holds it to
the stdlib on every mail we have.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.parse import limits

# str.splitlines, which the feedparser's line reader uses, also breaks lines at \v, \f, \x1c-\x1e
# and a lone \r; str.split (the base64 decoder's blank removal) also drops \x1f. Lines here are
# cut at \n only, so any of these sends the mail to the stdlib.
_ODD_BREAKS = (b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")
# The feedparser's headerRE without its "From " and continuation alternatives (handled apart).
_HEADER_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]*:")
# The common case in one match: header fields (a name, its line, continuation lines), then the
# blank line. A field's value is then compat32's: the first line's blanks after the colon dropped,
# folds kept, the final line break dropped. Possessive (`*+`): each line is a field's first line, a
# fold or neither, so giving one back never lets the blank line match, and keeping no way back
# cuts a sixth of the match.
_HEADER_BLOCK = re.compile(r"(?:[\x21-\x39\x3b-\x7e]++:[^\n]*+\n(?:[ \t][^\n]*+\n)*+)*+\r?\n")
# Content transfer encodings whose payload get_payload(decode=True) returns as it stands.
_IDENTITY_ENCODINGS = ("", "7bit", "8bit", "binary")
_DECODED_ENCODINGS = ("base64", "quoted-printable")


class _Unsure(Exception):
    """The stdlib could read this differently: parse the mail with it instead."""


class Headers(dict):
    """Header values by lowercased name, the first of each name: what compat32's Message.get
    returns for it, a value as stored (folds kept, the final line break not). Only the
    FIELDS_READ are sure to be there."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        super().__init__({name.lower(): value for name, value in reversed(fields)})  # the first one wins


# Not frozen: a frozen dataclass sets each field through object.__setattr__ (see Envelope), and
# a mail makes three of these.
@dataclass(slots=True)
class Leaf:
    """A part that is not a multipart: what read_mail asks of it."""

    content_type: str  # Message.get_content_type()
    filename: str | None  # Message.get_filename()
    transfer_encoding: str  # the Content-Transfer-Encoding header stripped and lowercased
    payload: str  # Message.get_payload(): the body as sent, still encoded


@dataclass(slots=True)
class FastMail:
    headers: Headers  # the top-level headers
    leaves: list[Leaf]  # in document order
    is_single_part: bool  # the whole message is the one leaf


def read(data: bytes) -> FastMail | None:
    """The mail's headers and leaf parts, or None when only the stdlib parser can say."""
    if not data.isascii() or not _only_lf_or_crlf(data):
        return None
    text = data.decode("ascii")
    try:
        return _read(text)
    except _Unsure:
        return None


def _only_lf_or_crlf(data: bytes) -> bool:
    # One byte looked for at a time, each a memchr in C: a regex for the same test took 20-50 us
    # a mail, and bytes.translate, which copies the mail, 12 instructions a byte. `find`, not
    # `in`: bytes.__contains__ first tries its argument as an integer, and formats and drops a
    # TypeError for each bytes argument (~80 ns, more than the search).
    find = data.find
    for odd in _ODD_BREAKS:
        if find(odd) >= 0:
            return False
    return find(b"\r") < 0 or data.count(b"\r") == data.count(b"\r\n")


def _read(text: str) -> FastMail:
    headers, body = _headers(text, 0, len(text))
    content_type = _content_type(headers)
    maintype = content_type.partition("/")[0]
    if maintype == "message":
        raise _Unsure  # message/rfc822 and delivery-status are parsed as sub-messages
    if maintype != "multipart":
        return FastMail(headers, [_leaf(headers, content_type, text[body:])], True)
    if content_type == "multipart/digest":
        raise _Unsure  # its parts default to message/rfc822
    boundary = _boundary(headers)
    if boundary is None:
        raise _Unsure  # the stdlib keeps the body as text (NoBoundaryInMultipartDefect)
    regions = _part_regions(text, body, "--" + boundary)
    if len(regions) > limits.MAX_MIME_PARTS:
        raise _Unsure  # read_mail refuses it the stdlib way
    return FastMail(headers, [_part(text, start, end) for start, end in regions], False)


def _part(text: str, start: int, end: int) -> Leaf:
    block = _HEADER_BLOCK.match(text, start, end)
    if block is None:
        headers, body = _headers_line_by_line(text, start, end)
        content_type, filename, encoding = _part_head(headers)
    else:
        body = block.end()
        head = text[start:body]
        # A block that names a file is one mail's own (the report's name is unique): remembering
        # it would only cost hashing it and pushing a reused block out of the cache.
        content_type, filename, encoding = _part_head(_matched_headers(head, 0, len(head))) if "name" in head \
            else _cached_part_head(head)
    # RFC 2046: the line break before a boundary line belongs to the boundary (found before
    # cutting, so that the payload is copied once)
    if text.endswith("\r\n", body, end):
        end -= 2
    elif text.endswith("\n", body, end):
        end -= 1
    return Leaf(content_type, filename, encoding, text[body:end])


@lru_cache(maxsize=1024)
def _cached_part_head(block: str) -> tuple[str, str | None, str]:
    """_part_head of a header block that _HEADER_BLOCK matched: a reporter's text part has the
    same block in every mail."""
    return _part_head(_matched_headers(block, 0, len(block)))


def _part_head(headers: Headers) -> tuple[str, str | None, str]:
    """A part's content type, file name and transfer encoding."""
    content_type = _content_type(headers)
    if content_type.partition("/")[0] in ("multipart", "message"):
        raise _Unsure  # nested structure: the stdlib path walks it
    return content_type, _filename(headers), _transfer_encoding(headers)


def _leaf(headers: Headers, content_type: str, payload: str) -> Leaf:
    return Leaf(content_type, _filename(headers), _transfer_encoding(headers), payload)


def _transfer_encoding(headers: Headers) -> str:
    encoding = (headers.get("content-transfer-encoding") or "").strip().lower()
    if encoding not in _IDENTITY_ENCODINGS and encoding not in _DECODED_ENCODINGS:
        raise _Unsure
    return encoding


def _headers(text: str, pos: int, end: int) -> tuple[Headers, int]:
    """The header lines from `pos` as the feedparser stores them, and where the body starts."""
    block = _HEADER_BLOCK.match(text, pos, end)
    if block is None:
        return _headers_line_by_line(text, pos, end)
    return _matched_headers(text, pos, block.end()), block.end()


# The fields that read_mail and this module ask a header block for. In a block that _HEADER_BLOCK
# matched, one search in C finds these alone (a name at a line start, any case, then its colon);
# splitting every field in Python to keep a few cost a third more (4.1 against 3.2 us for a
# report mail's top block). The value is compat32's: the first line's blanks after the colon
# dropped, folds kept, the final line break not (and its CR, below).
FIELDS_READ = ("content-type", "content-transfer-encoding", "content-disposition", "date", "subject",
               "message-id", "from", "tls-report-domain", "tls-report-submitter")
_FIELD_READ = re.compile(r"\n(" + "|".join(FIELDS_READ) + r"):[ \t]*+([^\n]*+(?:\n[ \t][^\n]*+)*+)", re.I | re.ASCII)


def _matched_headers(text: str, pos: int, body: int) -> Headers:
    """The FIELDS_READ of text[pos:body], which _HEADER_BLOCK matched: every line is a field's
    first line (a name, a colon) or a fold (it starts with a blank), then comes the blank line,
    so a line break followed by a name and a colon starts a field, and the field runs to the
    next line break not followed by a blank."""
    block = "\n" + text[pos:body]  # the first field's line starts after a line break too
    headers = Headers.__new__(Headers)
    if "\r" in block:  # CRLF: the value keeps no CR at its end, as rstrip("\r\n") gives
        for name, value in reversed(_FIELD_READ.findall(block)):  # the first one wins
            headers[name.lower()] = value.rstrip("\r\n")
    else:
        for name, value in reversed(_FIELD_READ.findall(block)):
            headers[name.lower()] = value
    return headers


def _headers_line_by_line(text: str, pos: int, end: int) -> tuple[Headers, int]:
    """_headers for what _HEADER_BLOCK does not match: the body starts after the blank line, or
    at the first line that is no header line (then it is the body's), or there is none."""
    fields: list[tuple[str, str]] = []
    lines: list[str] = []  # the source lines of the header being read
    while pos < end:
        newline = text.find("\n", pos, end)
        stop = end if newline < 0 else newline + 1
        line = text[pos:stop]
        if line[0] in " \t":
            if not lines:
                raise _Unsure  # a continuation with nothing to continue: a defect, dropped
            lines.append(line)
        elif line[0] in "\r\n":
            pos = stop
            break
        elif line.startswith("From "):
            raise _Unsure  # an mbox From_ line among the headers
        else:
            name = _HEADER_NAME.match(line)
            if name is None:
                break  # no header: the body starts here
            if name.end() == 1:
                raise _Unsure  # an empty header name: a defect, dropped
            if lines:
                fields.append(_stored(lines))
            lines = [line]
        pos = stop
    if lines:
        fields.append(_stored(lines))
    return Headers(fields), pos


def _stored(lines: list[str]) -> tuple[str, str]:
    """compat32's header_source_parse: the value keeps its folds, not its final line break."""
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    return name, value.rstrip("\r\n")


def _is_boundary_line(text: str, start: int, stop: int, separator: str) -> bool | None:
    """None if text[start:stop] is no boundary line; else whether it closes the multipart.
    The feedparser's test: separator, maybe `--`, blanks, a line break, nothing else."""
    rest = text[start + len(separator):stop].rstrip("\n")
    if rest.endswith("\r"):
        rest = rest[:-1]
    closes = rest.startswith("--")
    if closes:
        rest = rest[2:]
    return closes if not rest.strip(" \t") else None


def _part_regions(text: str, body: int, separator: str) -> list[tuple[int, int]]:
    """(start, end) of each part of a one-level multipart, as the feedparser cuts them: parts
    run between boundary lines, consecutive boundary lines open one part, and the last part runs
    to the end when the closing boundary is missing."""
    boundaries: list[tuple[int, int, bool]] = []  # start, stop, closes
    # the lines a report mail has, told apart without the general test
    opening, closing = separator + "\n", separator + "--\n"
    found = text.find(separator, body)
    while found >= 0:
        newline = text.find("\n", found)
        stop = len(text) if newline < 0 else newline + 1
        if found == body or text[found - 1] == "\n":
            line = text[found:stop]
            closes = False if line == opening else True if line == closing \
                else _is_boundary_line(text, found, stop, separator)
            if closes is not None:
                boundaries.append((found, stop, closes))
        found = text.find(separator, stop)
    if not boundaries or boundaries[0][2]:
        raise _Unsure  # no start boundary: the stdlib keeps the body as text
    regions = []
    index = 0
    while True:
        start = boundaries[index][1]
        index += 1
        while index < len(boundaries) and boundaries[index][0] == start:
            start = boundaries[index][1]  # the feedparser skips boundary lines in a row
            index += 1
        end = boundaries[index][0] if index < len(boundaries) else len(text)
        regions.append((start, end))
        if index == len(boundaries) or boundaries[index][2]:
            return regions


def _content_type(headers: Headers) -> str:
    value = headers.get("content-type")
    if value is None:
        return "text/plain"  # the default type outside multipart/digest
    content_type = value.partition(";")[0].strip().lower()
    return content_type if content_type.count("/") == 1 else "text/plain"


# A multipart's usual Content-Type: the type, then `name=value` parameters with lowercase names and
# values without backslashes, `*`, `;` or quotes but around them, one of them the boundary (not
# blank either unless quoted), none named so before it. The parameter parse below gives the
# boundary's value for it (each piece is one parameter, nothing escaped or RFC 2231-encoded, the
# first `boundary` wins), which one match reads at a third of the cost.
_PLAIN_VALUE = r'(?:"[^;"\\*]*"[ \t\r\n]*|[^;"\\*]*)'
_PLAIN_BOUNDARY = re.compile(r'[^;"\\*=]*(?:;[ \t\r\n]*(?!boundary=)[a-z-]+=' + _PLAIN_VALUE + ')*'
                             r';[ \t\r\n]*boundary=("[^;"\\*]*"|[^;"\\*\s]+)[ \t\r\n]*'
                             r'(?:;[ \t\r\n]*[a-z-]+=' + _PLAIN_VALUE + ')*', re.ASCII)


def _boundary(headers: Headers) -> str | None:
    plain = _PLAIN_BOUNDARY.fullmatch(headers["content-type"])  # a multipart's type is in its headers
    if plain is not None:  # unquoted twice, as below: once by _param, once here
        return _unquote(_unquote(plain.group(1))).rstrip()
    boundary = _param(headers, "content-type", "boundary")
    return None if boundary is None else _unquote(boundary).rstrip()


# The report part's usual Content-Disposition: `attachment; filename="<name>"`, the name without
# quotes or backslashes. Its name is what the parameter parse below gives (one pair besides the
# type, nothing escaped or RFC 2231-encoded, a `;` in the name quoted), read by one match at a
# fifth of the cost.
_PLAIN_ATTACHMENT = re.compile(r'attachment;[ \t\r\n]*filename="([^"\\]*)"')


def _filename(headers: Headers) -> str | None:
    disposition = headers.get("content-disposition") or ""
    plain = _PLAIN_ATTACHMENT.fullmatch(disposition)
    if plain is not None:
        return _unquote(plain.group(1)).strip()
    # Neither header mentions a name: no parameter can be one (the common text part). Parsing
    # them would only find the same.
    if "name" not in disposition.lower() and "name" not in (headers.get("content-type") or "").lower():
        return None
    name = _param(headers, "content-disposition", "filename")
    if name is None:
        name = _param(headers, "content-type", "name")
    return None if name is None else _unquote(name).strip()


def _param(headers: Headers, header_name: str, param: str) -> str | None:
    """Message.get_param(param, header=header_name) (a lowercased name) where that is plain: a
    value neither RFC 2231-encoded nor backslash-escaped comes back unquoted once (decode_params
    unquotes and requotes it, get_param unquotes it); get_boundary and get_filename unquote the
    result once more, as their callers here do."""
    value = headers.get(header_name)
    if value is None:
        return None
    found = None
    for index, (name, raw) in enumerate(_param_pairs(value)):
        if "\\" in raw or (index and "*" in name):
            raise _Unsure  # escapes, and RFC 2231 names that decode_params decodes or reorders
        if found is None and name.lower() == param:
            found = raw  # the first one, once every pair has been checked
    return None if found is None else _unquote(found)


def _param_pairs(value: str) -> list[tuple[str, str]]:
    """email.message._parseparam and the split in Message._get_params_preserve: `;`-separated
    pieces (a `;` inside quotes does not separate), each `name=value`."""
    pieces = value.split(";")
    if '"' in value and _quoted_semicolon(value, pieces):
        pieces = _quoted_pieces(value)
    pairs = []
    for piece in pieces:
        name, equals, raw = piece.partition("=")
        pairs.append((name.strip().lower(), raw.strip()) if equals else (piece.strip(), ""))
    return pairs


def _quoted_semicolon(value: str, pieces: list[str]) -> bool:
    """Whether a `;` of `value` is inside quotes (escaped quotes not counted): then a piece before
    the last holds an odd number of quotes. Without backslashes that is a `;` in a stretch between
    an odd-numbered quote and the next, found by C calls instead of a count per piece."""
    if "\\" not in value:
        return ";" in "".join(value.split('"')[1::2])
    return any((piece.count('"') - piece.count('\\"')) % 2 for piece in pieces[:-1])


def _quoted_pieces(value: str) -> list[str]:
    """_parseparam's cut: a `;` after an odd number of quotes (escaped ones not counted) is quoted."""
    pieces = []
    rest = ";" + value
    while rest[:1] == ";":
        rest = rest[1:]
        end = rest.find(";")
        while end > 0 and (rest.count('"', 0, end) - rest.count('\\"', 0, end)) % 2:
            end = rest.find(";", end + 1)
        if end < 0:
            end = len(rest)
        pieces.append(rest[:end])
        rest = rest[end:]
    return pieces


def _unquote(value: str) -> str:
    """email.utils.unquote for a value without backslashes."""
    if len(value) > 1 and (value[0], value[-1]) in (('"', '"'), ("<", ">")):
        return value[1:-1]
    return value
