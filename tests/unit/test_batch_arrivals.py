"""store.batch._arrivals: each arrival carries its own input's DKIM verdict, read from the
worker's JSON text (a batch's equal texts are read once and share one dict)."""

from __future__ import annotations

from datetime import datetime, timezone

import orjson
import pyarrow as pa

from pipeline.store.batch import _arrivals

UNSIGNED = orjson.dumps({"result": "none", "domain": None, "aligned": None, "key_tlsrpt": None, "detail": None}).decode()
PASSED = orjson.dumps({"result": "pass", "domain": "reporter.example", "aligned": True, "key_tlsrpt": True,
                       "detail": None}).decode()


def test_each_arrival_gets_its_own_verdict():
    verdicts = [UNSIGNED, None, PASSED, UNSIGNED, None, PASSED, UNSIGNED]
    count = len(verdicts)
    inputs = pa.table({
        "sha256": [f"{n:064x}" for n in range(count)], "size": [10] * count, "kind": ["mail"] * count,
        "channel": ["mbox"] * count, "origin": ["box"] * count, "received_at_text": ["2026-01-01T00:00:00+00:00"] * count,
        "dkim_json": verdicts,
    })
    parts = pa.table({"seq": pa.array([], pa.int64()), "reason_code": pa.array([], pa.string()),
                      "detail": pa.array([], pa.string())})
    arrivals = _arrivals(inputs, parts, datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert [arrival["dkim"] for arrival in arrivals] == [orjson.loads(v) if v else None for v in verdicts]
    # what the pack header holds: the same bytes as each verdict serialised on its own
    assert orjson.dumps(arrivals) == orjson.dumps([dict(a, dkim=orjson.loads(v) if v else None)
                                                   for a, v in zip(arrivals, verdicts)])
