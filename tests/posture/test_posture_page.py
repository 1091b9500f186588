"""The Posture page renders a domain's checks, readiness and history from the last passed build."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from streamlit.testing.v1 import AppTest

from pipeline.posture.result import CheckResult
from pipeline.settings import Settings
from pipeline.store.posture_history import record
from pipeline.transform.sql_models import refresh_all

APP = str(Path(__file__).parents[2] / "app" / "streamlit_app.py")


def test_posture_page_shows_the_checks(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    at = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    record(settings, [
        CheckResult("sts_txt", "d.test", "_mta-sts.d.test", "ok", "valid", "policy id 1", facts={"policy_id": "1"}, checked_at=at),
        CheckResult("mx_certificate", "d.test", "mx1.d.test", "fail", "certificate_expired", "expired on 2026-02-27",
                    facts={"days_to_expiry": -2}, checked_at=at),
    ])
    refresh_all(settings)
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("app_pages/posture.py").run()
    assert not app.exception
    assert app.selectbox(key="posture_domain").value == "d.test"
    shown = " ".join(frame.value.to_csv() for frame in app.dataframe)
    assert "certificate_expired" in shown and "mx1.d.test" in shown


def test_posture_page_without_checks_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("TLSRPT_DATA_DIR", str(tmp_path))
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    app.switch_page("app_pages/posture.py").run()
    assert not app.exception
    assert any("tlsrpt check" in info.value for info in app.info)
