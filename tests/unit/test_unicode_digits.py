"""Numbers in report data are ASCII digits: `"¹".isdigit()` is true but `int("¹")` fails, and
`\\d` matches fullwidth digits. Such a value is flagged or refused, never an internal error."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest

from pipeline.parse import fastpath, frames
from pipeline.parse.policy_text import parse_sts, parse_tlsa
from pipeline.parse.rejection import Rejected
from pipeline.intake.sources import InputRef
from pipeline.parse.timeparse import parse_datetime
from pipeline.parse.worker import process_input
from tests.unit.test_rows import NAME, REPORT


@pytest.mark.parametrize("text", ["3 1 ¹ " + "ab" * 32, "³ 1 1 " + "ab" * 32, "3 ١ 1 " + "ab" * 32])
def test_tlsa_record_with_a_unicode_digit_is_flagged_invalid(text: str):
    flags: set[str] = set()
    assert parse_tlsa([text], flags) == []
    assert flags == {"tlsa_record_invalid"}


@pytest.mark.parametrize("value", ["²", "８６４００", "٨٦٤٠٠"])
def test_sts_max_age_with_unicode_digits_is_flagged_invalid(value: str):
    flags: set[str] = set()
    assert parse_sts(["mode: enforce", f"max_age: {value}"], flags) == ("enforce", None, [])
    assert flags == {"sts_max_age_invalid"}


def test_datetime_with_fullwidth_digits_is_not_rfc_3339():
    with pytest.raises(Rejected) as caught:
        parse_datetime("２０２４-05-01T00:00:00+00:00", "start-datetime", set())
    assert caught.value.code == "bad_datetime"


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "full path"])
def test_report_with_unicode_digits_in_its_policies_is_loaded_and_flagged(
    fast: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(fastpath, "ENABLED", fast)
    report = copy.deepcopy(REPORT)
    report["policies"][1]["policy"]["policy-string"][3] = "max_age: ²"
    report["policies"].append({
        "policy": {"policy-type": "tlsa", "policy-domain": "third.example", "policy-string": ["3 1 ¹ " + "ab" * 32]},
        "summary": {"total-successful-session-count": 5, "total-failure-session-count": 0},
    })
    path = tmp_path / NAME
    path.write_bytes(gzip.compress(json.dumps(report).encode()))
    (part,) = process_input(InputRef(str(path), "file", str(path))).parts
    assert part.reason_code is None, part.detail
    report_row, policy_rows, _ = part.rows
    assert {"sts_max_age_invalid", "tlsa_record_invalid"} <= set(frames.named("reports", report_row)["conformance_flags"])
    sts, tlsa = (frames.named("policies", row) for row in policy_rows[1:])
    assert (sts["sts_max_age"], sts["policy_strings"][3]) == (None, "max_age: ²")
    assert (tlsa["tlsa_records"], tlsa["policy_strings"]) == ([], ["3 1 ¹ " + "ab" * 32])
