"""The domain page, the folding of DANE reports filed under MX hosts, filters kept across pages,
and reports found by their key (issue 20)."""

from __future__ import annotations

from pathlib import Path


from tests.app.test_pages import app_at, shown
from tests.conftest import open_warehouse

FROM_TO = {"from": "2026-03-01", "to": "2026-03-31"}


def test_domain_page_answers_how_a_domain_is_doing(scenarios: Path, monkeypatch):
    at = app_at(scenarios, monkeypatch, "domain", domain="example-0006.test", **FROM_TO)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open problems"] == "1" and int(metrics["TLS sessions"].replace(",", "")) > 1000
    assert metrics["Success rate"].endswith("%") and "." in metrics["Success rate"]
    # The open problem is a ticket, open without a click.
    assert "Expired MX certificate on mx2." in at.expander[0].label
    assert "Renew the certificate" in " ".join(md.value for md in at.expander[0].markdown)
    hosts = next(t.value for t in at.dataframe if "in_policy" in t.value.columns)
    by_host = {shown(cell): failed for cell, failed in zip(hosts["receiving_mx_hostname"], hosts["failed"])}
    assert by_host["mx2.example-0006.test"] > 0 and by_host.get("mx1.example-0006.test", 0) == 0
    reporters = next(t.value for t in at.dataframe if "policy_applied" in t.value.columns)
    assert "google.com" in set(reporters["reporter"]) and reporters["last_report_day"].notna().all()


def test_dane_reports_under_an_mx_host_come_with_their_domain(scenarios: Path, monkeypatch):
    at = app_at(scenarios, monkeypatch, "domain", domain="example-0001.test", **FROM_TO)
    assert not at.exception, at.exception
    domains = next(box for box in at.multiselect if box.label == "Domains")
    assert "mx1.example-0001.test" not in domains.options and "example-0001.test" in domains.options
    hosts = next(t.value for t in at.dataframe if "in_policy" in t.value.columns)
    row = {shown(cell): n for cell, n in zip(hosts["receiving_mx_hostname"], hosts["dane_sessions"])}
    assert row["mx1.example-0001.test"] > 0  # its DANE reports' sessions, on the MX's own row
    overview = app_at(scenarios, monkeypatch, **FROM_TO)
    table = next(t.value for t in overview.dataframe if "dane_mx_hosts" in t.value.columns)
    assert "mx1.example-0001.test" not in {shown(cell) for cell in table["policy_domain"]}
    dane = dict(zip((shown(cell) for cell in table["policy_domain"]), table["dane_mx_hosts"]))
    assert dane["example-0001.test"] == "mx1.example-0001.test, mx2.example-0001.test"


def test_filters_survive_a_page_change(scenarios: Path, monkeypatch):
    at = app_at(scenarios, monkeypatch, domain="example-0006.test", **FROM_TO)
    at.query_params.clear()  # what the navigation does to the address
    at.switch_page("app_pages/by_result.py").run()
    assert not at.exception, at.exception
    assert at.query_params["domain"] == "example-0006.test" and at.query_params["from"] == "2026-03-01"
    assert next(box for box in at.multiselect if box.label == "Domains").value == ["example-0006.test"]


def test_a_report_key_finds_its_report_and_opens_it(scenarios: Path, monkeypatch):
    con = open_warehouse(scenarios)
    key, day = con.execute("select report_key, report_date from reports order by report_date limit 1").fetchone()
    con.close()
    # Searched by key, outside the days chosen: found, and its raw report opens pretty-printed.
    at = app_at(scenarios, monkeypatch, "reports", q=key, **FROM_TO)
    assert not at.exception, at.exception
    assert [shown(cell) for cell in at.dataframe[0].value["report_key"]] == [key] and str(day) < FROM_TO["from"]
    assert '\n  "organization-name"' in at.code[0].value
    by_keys = app_at(scenarios, monkeypatch, "reports", key=[key], **FROM_TO)
    assert [shown(cell) for cell in by_keys.dataframe[0].value["report_key"]] == [key]


def test_a_problem_link_opens_that_problem_whatever_the_days(scenarios: Path, monkeypatch):
    con = open_warehouse(scenarios)
    (problem_id,) = con.execute("select problem_id from detect.problems where status = 'resolved'").fetchone()
    con.close()
    at = app_at(scenarios, monkeypatch, "problems", problem=problem_id, **{"from": "2026-03-30", "to": "2026-03-31"})
    assert not at.exception, at.exception
    assert len(at.expander) == 1 and "MTA-STS policy could not be fetched" in at.expander[0].label
    assert at.expander[0].dataframe[0].value["reports"].str.contains("key=").all()  # its evidence, open


def test_the_domain_page_names_one_domain_in_the_address_and_the_sidebar(scenarios: Path, monkeypatch):
    at = app_at(scenarios, monkeypatch, "domain", **FROM_TO)
    assert not at.exception, at.exception
    assert at.query_params["domain"] == "example-0001.test"
    at.selectbox[0].select("example-0006.test").run()  # the page's own domain choice
    assert at.query_params["domain"] == "example-0006.test"
    assert next(box for box in at.multiselect if box.label == "Domains").value == ["example-0006.test"]


def test_open_problems_agree_with_tlsrpt_status_whatever_the_days(scenarios: Path, monkeypatch):
    con = open_warehouse(scenarios)
    (open_now,) = con.execute("select count(*) from detect.problems where status = 'open'").fetchone()  # what status lists
    con.close()
    early = app_at(scenarios, monkeypatch, **{"from": "2026-01-02", "to": "2026-01-03"})  # before any problem began
    assert next(m.value for m in early.metric if m.label == "Open problems") == str(open_now) == "1"
    assert any("Expired MX certificate on mx2.example-0006.test" in md.value for md in early.markdown)  # and ranked first


def test_a_capped_report_list_says_so_and_offers_the_full_set(scenarios: Path, monkeypatch):
    at = app_at(scenarios, monkeypatch, "reports", **{"from": "2026-01-01", "to": "2026-03-31"})
    assert not at.exception, at.exception
    con = open_warehouse(scenarios)
    (total,) = con.execute("select count(*) from reports").fetchone()
    con.close()
    assert total > 2000 and len(at.dataframe[0].value) == 2000
    assert f"newest 2,000 of {total:,} reports" in at.warning[0].value
    labels = [button.proto.label for button in at.get("download_button")]
    assert f"All {total:,} reports (CSV)" in labels
