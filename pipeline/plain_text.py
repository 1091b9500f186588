"""Text from reports, shown where it could act: on a terminal, in a mail header, in a log line.

Report fields are written by strangers. A control character (an escape sequence, CR/LF, a bell)
or a bidirectional override is shown as its Python escape (`\\x1b`, `\\r\\n`, `\\u202e`), so it
can neither drive the terminal, start a new mail header, nor reorder what a reader sees; and text
handed to rich is a `Text`, never parsed for markup (`[/b]` in a file name crashed
`tlsrpt status`)."""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls, DEL, and the Unicode line separators and bidi controls ("Trojan Source").
_ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(value: object) -> str:
    """`value` as one line of inert text: every control character written as its escape."""
    return _ACTIVE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


def text(value: object) -> Text:
    """For rich (tables, console.print): inert, and never read as markup."""
    return Text(visible(value))
