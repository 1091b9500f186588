"""What each result type means for the domain owner, and the usual fix: read from the RFC 8460
vocabulary (pipeline.vocabulary) and the diagnosis catalogue (pipeline.causes), never kept here.

Reports come from the organisations that send mail TO your domain: a failure means a sender
could not deliver to your MX securely, never that your own outbound mail failed."""

from pipeline.causes import CAUSES, RESULT_TYPE_CAUSES
from pipeline.vocabulary import BY_NAME

_FIXES = {c.cause: c.fix for c in CAUSES}
_UNKNOWN = next(c for c in CAUSES if c.cause == "unknown_result_type")


def meaning(result_type: str) -> str:
    known = BY_NAME.get(result_type)
    return known.meaning if known else _UNKNOWN.diagnosis


def fix(result_type: str) -> str:
    return _FIXES.get(RESULT_TYPE_CAUSES.get(result_type, ""), _UNKNOWN.fix)
