"""What each result type means for the domain owner, and the usual fix: read from the RFC 8460
vocabulary (pipeline.vocabulary) and the diagnosis catalogue (pipeline.detect.causes), never kept here.

Reports come from the organisations that send mail TO your domain: a failure means a sender
could not deliver to your MX securely, never that your own outbound mail failed."""

from pipeline.detect.causes import CAUSES, RESULT_TYPE_CAUSES
from pipeline.vocabulary import BY_NAME

_FIXES = {c.cause: c.fix for c in CAUSES}
_UNKNOWN = next(c for c in CAUSES if c.cause == "unknown_result_type")


# Not a result type: the marts' row for failures a report's summary counts that none of its
# details names (docs/marts.md, "counted once").
NO_DETAILS = "(no details given)"
_NO_DETAILS_MEANING = "Failed sessions the sender counted in its summary without saying why or where."
_NO_DETAILS_FIX = "Look at the other result types of the same sender and days."


def meaning(result_type: str) -> str:
    if result_type == NO_DETAILS:
        return _NO_DETAILS_MEANING
    known = BY_NAME.get(result_type)
    return known.meaning if known else _UNKNOWN.diagnosis


def fix(result_type: str) -> str:
    if result_type == NO_DETAILS:
        return _NO_DETAILS_FIX
    return _FIXES.get(RESULT_TYPE_CAUSES.get(result_type, ""), _UNKNOWN.fix)


def described(frame, column: str = "result_type"):
    """`frame` with the meaning and usual fix of each result type (once per distinct type)."""
    import polars as pl

    names = frame.get_column(column).unique().to_list()
    return frame.with_columns(
        pl.col(column).replace_strict({n: meaning(n) for n in names}, default=meaning("")).alias("meaning"),
        pl.col(column).replace_strict({n: fix(n) for n in names}, default=fix("")).alias("usual fix"),
    )
