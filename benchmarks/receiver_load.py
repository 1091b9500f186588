"""Load on `tlsrpt serve` over loopback: distinct gzip'd reports POSTed by N client threads for
D seconds (bounded, 127.0.0.1 only); prints requests/s, p50/p99 latency and checks zero loss
(every 201 has its spooled file). Not part of the test run.

    .venv/bin/python benchmarks/receiver_load.py [--clients 20] [--seconds 10]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.services import free_port, loopback_service  # noqa: E402

REPORT = json.loads((ROOT / "tests" / "fixtures" / "reports" / "google_report.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="receiver-load-"))
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(data_dir), "--port", str(port)]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        sequence = 0
        while time.monotonic() < stop:
            sequence += 1
            body = gzip.compress(json.dumps({**REPORT, "report-id": f"load-{number}-{sequence}"}).encode())
            started = time.perf_counter()
            connection.request("POST", "/tlsrpt", body=body, headers={"Content-Type": "application/tlsrpt+gzip"})
            response = connection.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

    with loopback_service(command, f"http://127.0.0.1:{port}/healthz", timeout=30):
        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
    spooled = len(list((data_dir / "spool" / "https").glob("*.report")))
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"{len(latencies)} requests in {elapsed:.1f} s = {len(latencies) / elapsed:,.0f}/s with {args.clients} clients;"
          f" p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; statuses {statuses};"
          f" spooled {spooled} (lost: {statuses.get(201, 0) - spooled})")


if __name__ == "__main__":
    main()
