"""Report fields inside Streamlit markdown (st.markdown, expander labels): shown as written.

Streamlit renders markdown with GitHub's extensions: links and images (an image in a report
field made the browser fetch the sender's URL), URLs and e-mail addresses turned into links,
`:red[...]` directives, `:emoji:` shortcodes and `$math$`. `literal()` backslash-escapes the
characters that open an inline construct anywhere (CommonMark lets any punctuation be escaped)
and the block markers that count at the start of a line (a value has no line breaks left, so
only its own start can be one); and it puts an invisible word joiner (U+2060) after `:` and `@`
and inside `www.`, which stops the rewrites Streamlit applies to the parsed text afterwards
(autolinked URLs and e-mail addresses, emoji: they match unbroken runs only). Control characters
are written as escapes, as on the terminal. Tables (st.dataframe) and st.text read no markdown.
"""

from __future__ import annotations

import re

from pipeline.plain_text import visible

_INLINE = re.compile(r"([\\`*_\[\]<>&~$|])")
_BLOCK_START = re.compile(r"^(\s*)([-+=#>]|\d+[.)])")
_JOINER = "\u2060"


def literal(value: object) -> str:
    """Markdown source that shows `value` as plain text."""
    text = _INLINE.sub(r"\\\1", visible(value))
    text = _BLOCK_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    text = text.replace(":", ":" + _JOINER).replace("@", "@" + _JOINER)
    return re.sub(r"(?i)(www)\.", "\\1" + _JOINER + ".", text)


def listed(values: list | tuple, limit: int = 8) -> str:
    """Up to `limit` values as literal text, comma-separated."""
    shown = ", ".join(literal(v) for v in values[:limit])
    return shown + (" ..." if len(values) > limit else "")
