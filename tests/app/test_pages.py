"""Every dashboard page renders on a seeded warehouse and shows the fixture's numbers."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pipeline.settings import Settings
from pipeline.transform.sql_models import refresh_all
from tests.conftest import ingest_into

ROOT = Path(__file__).parents[2]
APP = str(ROOT / "app" / "streamlit_app.py")
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
PAGES = ["overview", "domain", "by_result", "by_source", "problems", "policies", "reports"]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    data_dir = tmp_path_factory.mktemp("dash")
    ingest_into(data_dir, [FIXTURES])
    refresh_all(Settings(data_dir=data_dir))
    return data_dir


def app_at(data_dir: Path, monkeypatch, page: str | None = None, **query) -> AppTest:
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(data_dir))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(f"app_pages/{page}.py").run()
    return at


def shown(cell: str) -> str:
    """The text a link cell displays (tables.show: the value after the URL's last '#')."""
    return cell.rsplit("#", 1)[-1]


def test_overview_numbers(seeded: Path, monkeypatch):
    # Fixtures: Google 120 ok + 4 failed, Microsoft 30 ok, both on 2026-03-01 for fixture.test.
    at = app_at(seeded, monkeypatch, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["TLS sessions"] == "154"
    assert metrics["Failed sessions"] == "4"
    assert metrics["Reporters"] == "2"
    assert metrics["Success rate"] == "97.40%"
    domains = next(t.value for t in at.dataframe if "policy_domain" in t.value.columns)
    assert [shown(cell) for cell in domains["policy_domain"]] == ["fixture.test"]
    assert list(domains["sessions"]) == [154]
    # The fixtures' day is long past: judged against the clock, the data is stale, and says so first.
    assert "Stale data: the newest report covers 2026-03-01" in at.error[0].value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(seeded: Path, monkeypatch, page: str):
    at = app_at(seeded, monkeypatch, page, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert not at.exception, at.exception


def test_by_result_lists_the_failure_with_its_meaning(seeded: Path, monkeypatch):
    at = app_at(seeded, monkeypatch, "by_result", **{"from": "2026-03-01", "to": "2026-03-01"})
    table = at.dataframe[0].value
    assert list(table["result_type"]) == ["certificate-expired"]
    assert list(table["failed_sessions"]) == [4]
    meanings = at.table[0].value  # what each listed result type means, and its usual fix
    assert "expired" in meanings["Meaning"].iloc[0] and "Renew" in meanings["Usual fix"].iloc[0]


def test_empty_warehouse_explains_what_to_do(tmp_path: Path, monkeypatch):
    at = app_at(tmp_path, monkeypatch)
    assert not at.exception
    assert "No reports yet" in at.info[0].value


def test_csv_export_neutralises_formulas():
    import polars as pl

    from app.export import to_csv

    frame = pl.DataFrame({"organization_name": ["=HYPERLINK(\"x\")", "Google Inc."], "flags": [["a", "b"], []]})
    text = to_csv(frame)
    assert "'=HYPERLINK" in text and "\nGoogle Inc.," in text and "a, b" in text


def test_by_source_per_mx_sums_per_host(seeded: Path, monkeypatch):
    at = app_at(seeded, monkeypatch, "by_source", **{"from": "2026-03-01", "to": "2026-03-01"})
    per_mx = at.dataframe[-1].value
    assert [shown(cell) for cell in per_mx["receiving_mx_hostname"]] == ["mx1.fixture.test"]
    assert "mx=mx1.fixture.test" in per_mx["receiving_mx_hostname"][0]  # it links to the reports naming it
    assert list(per_mx["failed"]) == [4]


def test_policies_and_reports_pages_show_the_fixture(seeded: Path, monkeypatch):
    policies = app_at(seeded, monkeypatch, "policies", **{"from": "2026-03-01", "to": "2026-03-01"}).dataframe[0].value
    assert sorted(policies["reporter"]) == ["google.com", "microsoft.com"]
    assert set(policies["sts_mode"]) == {"enforce"} and set(policies["sts_max_age"]) == {604800}
    at = app_at(seeded, monkeypatch, "reports", **{"from": "2026-03-01", "to": "2026-03-01"})
    reports = at.dataframe[0].value
    assert sorted(reports["organization_name"]) == ["Google Inc.", "Microsoft Corporation"]
    deliveries = at.dataframe[1].value
    assert sorted(deliveries["outcome"]) == ["loaded", "loaded"]
    next(box for box in at.selectbox if box.label == "Report").select(shown(reports["report_key"][0])).run()
    assert '"organization-name"' in at.code[0].value


def test_domain_filter_narrows_the_numbers(tmp_path: Path, monkeypatch):
    from pipeline.generate import write_corpus

    write_corpus(tmp_path / "corpus", domains=2, days=5, seed=3, formats=("files",))
    ingest_into(tmp_path / "data", [tmp_path / "corpus" / "files"])
    refresh_all(Settings(data_dir=tmp_path / "data"))
    everything = app_at(tmp_path / "data", monkeypatch)
    one = app_at(tmp_path / "data", monkeypatch, domain="example-0001.test")
    total = int(next(m.value for m in everything.metric if m.label == "TLS sessions").replace(",", ""))
    part = int(next(m.value for m in one.metric if m.label == "TLS sessions").replace(",", ""))
    assert 0 < part < total


def test_dkim_filter_keeps_only_verified_reports(seeded: Path, monkeypatch):
    # The fixtures are a plain file and an unsigned mail: nothing is DKIM-verified.
    at = app_at(seeded, monkeypatch, **{"from": "2026-03-01", "to": "2026-03-01", "trust": "dkim_verified"})
    assert not at.exception
    assert next(m.value for m in at.metric if m.label == "TLS sessions") == "0"
    everything = app_at(seeded, monkeypatch, **{"from": "2026-03-01", "to": "2026-03-01"})
    assert next(m.value for m in everything.metric if m.label == "TLS sessions") == "154"


def test_problems_page_shows_diagnosis_fix_and_evidence(scenarios: Path, monkeypatch):
    data_dir = scenarios
    at = app_at(data_dir, monkeypatch, "problems", **{"from": "2026-01-01", "to": "2026-03-31"})
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["1"]  # open problems only by default: the expired certificate
    expander = at.expander[0]
    assert "Expired MX certificate on mx2." in expander.label and "critical" in expander.label
    text = " ".join(md.value for md in expander.markdown)
    assert "expired TLS certificate on your MX" in text and "Renew the certificate" in text and "mx2." in text
    # An open problem is a ticket without a click: the evidence rows, each linking its reports.
    evidence = expander.dataframe[0].value
    assert len(evidence) >= 1 and all("key=" in cell for cell in evidence["reports"])
    ticket = expander.code[0].value  # "Copy as Markdown"
    assert ticket.startswith("## Expired MX certificate on mx2.") and "### What to do" in ticket
    assert not expander.toggle  # nothing hidden behind a switch
    at.radio[0].set_value("all").run()
    assert at.query_params["status"] == "all"
    labels = [e.label for e in at.expander]
    assert len(labels) == 2 and any("MTA-STS policy could not be fetched" in label for label in labels)
    # Open problems are shown whatever the days chosen: a window after them still lists the certificate.
    later = app_at(data_dir, monkeypatch, "problems", **{"from": "2026-01-02", "to": "2026-01-03"})
    assert [m.value for m in later.metric] == ["1"]


def _double_listing_reports(folder: Path) -> None:
    """Microsoft style: one report lists the same 5 failed sessions under an sts and a tlsa policy
    for one domain. Beside it a report whose summary counts 3 failures it details nowhere."""
    import json

    folder.mkdir()
    day = {"start-datetime": "2026-04-01T00:00:00Z", "end-datetime": "2026-04-01T23:59:59Z"}
    details = [{"result-type": "certificate-expired", "sending-mta-ip": "203.0.113.5",
                "receiving-mx-hostname": "mx1.double.test", "receiving-ip": "192.0.2.30", "failed-session-count": 5}]
    summary = {"total-successful-session-count": 95, "total-failure-session-count": 5}
    microsoft = {
        "organization-name": "Microsoft Corporation", "date-range": day,
        "contact-info": "tlsrpt-noreply@microsoft.com", "report-id": "133000000000000000+double.test",
        "policies": [
            {"policy": {"policy-type": "sts", "policy-domain": "double.test",
                        "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.double.test", "max_age: 604800"]},
             "summary": summary, "failure-details": details},
            {"policy": {"policy-type": "tlsa", "policy-domain": "double.test",
                        "policy-string": ["3 1 1 " + "ab" * 32]},
             "summary": summary, "failure-details": details},
        ],
    }
    terse = {
        "organization-name": "Terse Sender", "date-range": day, "contact-info": "tlsrpt@terse.example",
        "report-id": "terse-1",
        "policies": [{"policy": {"policy-type": "sts", "policy-domain": "double.test",
                                 "policy-string": ["version: STSv1", "mode: enforce", "mx: mx1.double.test",
                                                   "max_age: 604800"]},
                      "summary": {"total-successful-session-count": 10, "total-failure-session-count": 3}}],
    }
    (folder / "microsoft.json").write_text(json.dumps(microsoft))
    (folder / "terse.json").write_text(json.dumps(terse))


def test_every_page_counts_double_listed_sessions_once(tmp_path: Path, monkeypatch):
    _double_listing_reports(tmp_path / "reports")
    data_dir = tmp_path / "data"
    ingest_into(data_dir, [tmp_path / "reports"])
    refresh_all(Settings(data_dir=data_dir))
    window = {"from": "2026-04-01", "to": "2026-04-01"}
    overview = app_at(data_dir, monkeypatch, **window)
    metrics = {m.label: m.value for m in overview.metric}
    assert (metrics["TLS sessions"], metrics["Failed sessions"]) == ("113", "8")  # 100 + 13 sessions, 5 + 3 failed
    by_result = app_at(data_dir, monkeypatch, "by_result", **window).dataframe[0].value
    assert dict(zip(by_result["result_type"], by_result["failed_sessions"])) == {
        "certificate-expired": 5, "(no details given)": 3}
    by_source = app_at(data_dir, monkeypatch, "by_source", **window)
    reporters, per_mx = by_source.dataframe[0].value, by_source.dataframe[-1].value
    assert dict(zip(reporters["reporter"], reporters["failed"])) == {"microsoft.com": 5, "terse.example": 3}
    assert {shown(c): n for c, n in zip(per_mx["receiving_mx_hostname"], per_mx["failed"])} == {"mx1.double.test": 5, "(unknown)": 3}
    assert sum(by_source.dataframe[1].value["failed"]) == 5  # Microsoft's hosts, expanded
    domain = app_at(data_dir, monkeypatch, "domain", domain="double.test", **window)
    assert not domain.exception, domain.exception
    metrics = {m.label: m.value for m in domain.metric}
    assert (metrics["TLS sessions"], metrics["Failed sessions"]) == ("113", "8")
    hosts = next(t.value for t in domain.dataframe if "in_policy" in t.value.columns)
    assert {shown(cell): failed for cell, failed in zip(hosts["receiving_mx_hostname"], hosts["failed"])
            if shown(cell) == "mx1.double.test"} == {"mx1.double.test": 5}
