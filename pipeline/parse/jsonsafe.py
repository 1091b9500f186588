"""Strict JSON decoding for untrusted report bytes.

Python's json module happily accepts NaN, duplicate keys (last wins), lone surrogates and
numbers of any length, and auto-detects UTF-16/32; every one of those is refused here with its
own reason code. Cheap checks on the raw text decide whether the
slower walks over the decoded object are needed at all, so a normal report pays almost nothing.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pipeline.parse import limits
from pipeline.parse.rejection import Rejected

_BOM = b"\xef\xbb\xbf"
_SURROGATE_ESCAPE = re.compile(r"\\[uU][dD][89a-fA-F]")
_NUL_ESCAPE = re.compile(r"\\u0000")


def _pairs_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise Rejected("duplicate_key", f"key {dup!r} appears twice in one object")
    return obj


def _bounded_int(literal: str) -> int:
    if len(literal) - literal.startswith("-") > limits.MAX_NUMBER_DIGITS:
        raise Rejected("number_too_long", f"number with {len(literal)} characters")
    return int(literal)


def _bounded_float(literal: str) -> float:
    if len(literal) > 40:
        raise Rejected("number_too_long", f"number with {len(literal)} characters")
    value = float(literal)
    if not math.isfinite(value):
        raise Rejected("non_json_number", f"{literal} is out of range")
    return value


def _reject_constant(name: str) -> None:
    raise Rejected("non_json_number", f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_pairs_without_duplicates,
    parse_int=_bounded_int,
    parse_float=_bounded_float,
    parse_constant=_reject_constant,
)


def _walk(value: Any):
    """Yield (depth, value) for every node, iteratively (deep input must not recurse)."""
    stack = [(1, value)]
    while stack:
        depth, node = stack.pop()
        yield depth, node
        if isinstance(node, dict):
            stack.extend((depth + 1, v) for v in node.values())
            stack.extend((depth + 1, k) for k in node.keys())
        elif isinstance(node, list):
            stack.extend((depth + 1, v) for v in node)


def _check_tree(obj: Any, text: str) -> None:
    brackets = text.count("{") + text.count("[")
    need_depth = brackets > limits.MAX_JSON_DEPTH
    need_strings = (
        len(text) > limits.MAX_STRING_CHARS
        or _SURROGATE_ESCAPE.search(text) is not None
        or _NUL_ESCAPE.search(text) is not None
    )
    if not (need_depth or need_strings):
        return
    for depth, node in _walk(obj):
        if depth > limits.MAX_JSON_DEPTH:
            raise Rejected("too_deep", f"nesting deeper than {limits.MAX_JSON_DEPTH}")
        if isinstance(node, str):
            if len(node) > limits.MAX_STRING_CHARS:
                raise Rejected("string_too_long", f"a string of {len(node)} characters")
            if "\x00" in node:
                raise Rejected("nul_in_string", "a string holds U+0000")
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise Rejected("lone_surrogate", "a string holds an unpaired surrogate") from None


def decode_report_json(data: bytes) -> tuple[Any, list[str]]:
    """Decode untrusted JSON bytes; return the object and the leniency flags it needed."""
    flags: list[str] = []
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
        flags.append("utf8_bom")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("invalid_utf8", f"byte {exc.start}: {exc.reason}") from None
    start = len(text) - len(text.lstrip())
    try:
        obj, end = _DECODER.raw_decode(text, start)
    except RecursionError:
        raise Rejected("too_deep", "JSON nests too deeply to decode") from None
    except json.JSONDecodeError as exc:
        raise Rejected("not_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if text[end:].strip():
        # mox ignores leftovers after the object; we do too, but say so.
        flags.append("trailing_data")
    _check_tree(obj, text)
    return obj, flags
