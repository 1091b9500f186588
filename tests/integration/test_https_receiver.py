"""`tlsrpt serve` on 127.0.0.1: real POSTs over HTTP, the answers RFC 8460 senders act on, and
the spooled reports landing with channel https on the next run."""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.ingest import ingest
from pipeline.settings import Settings
from tests.conftest import query
from tests.fixtures.builders import valid_report
from tests.fixtures.hostile import POST_CASES, Post
from tests.services import free_port, loopback_service, stop_process

FIXTURE = Path(__file__).parents[1] / "fixtures" / "reports" / "google_report.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("receiver")
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(data_dir), "--port", str(port),
               "--allow-domain", "fixture.test", "--allow-domain", "example.com", "--max-body", "200000", "--body-deadline", "2"]
    with loopback_service(command, f"http://127.0.0.1:{port}/healthz", timeout=30):
        yield port, data_dir


def post(port: int, body: bytes, content_type: str = "application/tlsrpt+gzip", headers: dict | None = None) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", "/tlsrpt", body=body, headers={"Content-Type": content_type, **(headers or {})})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_report_is_stored_once_and_answered_201_then_200(server):
    port, data_dir = server
    body = gzip.compress(FIXTURE.read_bytes())
    assert post(port, body)[0] == 201
    assert post(port, body)[0] == 200  # the same bytes again: already have it
    assert len(list((data_dir / "spool" / "https").glob("*.report"))) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"", "application/tlsrpt+json", 400),
        (b"<feedback></feedback>", "application/json", 400),  # a DMARC report is not ours to take
        (b"{}", "text/html", 415),
        (b"x" * 300_000, "application/tlsrpt+json", 413),  # over --max-body, refused before reading
    ],
)
def test_refusals(server, body: bytes, content_type: str, status: int):
    port, _ = server
    assert post(port, body, content_type)[0] == status


def test_lenient_types_are_sniffed_and_json_is_accepted(server):
    port, _ = server
    assert post(port, valid_report("https-generic-json"), "application/json")[0] == 201  # example.com is allowed


def test_policy_domain_not_served_here_is_403(server):
    port, _ = server
    report = json.loads(FIXTURE.read_text())
    report["report-id"] = "other-domain"
    report["policies"][0]["policy"]["policy-domain"] = "someone-else.test"
    status, answer = post(port, json.dumps(report).encode(), "application/tlsrpt+json")
    assert status == 403 and "someone-else.test" in answer["message"]


@pytest.mark.parametrize("case", POST_CASES, ids=[c.name for c in POST_CASES])
def test_hostile_post_gets_its_status(server, case: Post):
    """Issue 15: a zip bomb is 413 like a gzip bomb; every policy domain must be allowed (one
    allowed domain carried a foreign one in with 201); date-times at the calendar's edges are a
    clear 400, not a 500 with a traceback."""
    port, _ = server
    status, answer = post(port, case.build(), case.content_type)
    assert status == case.status, answer
    assert answer["message"].startswith(("not accepted: ", "policy domain(s) ['someone-else.test']", "the body"))


def test_trickling_client_is_cut_off(server):
    port, _ = server
    # The server's answer is the event: 408 once its 2 s body deadline passed (the socket's own
    # timeout only keeps a server that never answers from hanging the test).
    with socket.create_connection(("127.0.0.1", port), timeout=60) as raw:
        raw.sendall(b"POST /tlsrpt HTTP/1.1\r\nHost: x\r\nContent-Type: application/tlsrpt+json\r\nContent-Length: 1000\r\n\r\n{")
        reply = raw.recv(200)
    assert reply.startswith(b"HTTP/1.1 408")


def test_spooled_reports_land_with_channel_https(server, tmp_path: Path):
    port, data_dir = server
    body = gzip.compress(json.dumps({**json.loads(FIXTURE.read_text()), "report-id": "via-https"}).encode())
    assert post(port, body)[0] == 201
    spool = Settings(data_dir=data_dir).spool_dir
    warehouse = tmp_path / "data"
    # What the ingest asset does with the drop folders: the spool's inputs arrive as channel https.
    ingest([spool], Settings(data_dir=warehouse, workers=1), channels={spool: "https"})
    assert ("via-https", "https") in query(warehouse, "select report_id, channel from reports")


def test_tls_directly_with_cert_and_key(tmp_path: Path):
    """`--cert/--key`: the receiver speaks TLS itself (a throw-away self-signed cert for 127.0.0.1)."""
    import shutil
    import ssl

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    port = free_port()
    command = [sys.executable, "-m", "pipeline", "serve", "--data-dir", str(tmp_path / "data"), "--port", str(port),
               "--cert", str(cert), "--key", str(key)]
    context = ssl.create_default_context(cafile=str(cert))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=context)
                connection.request("POST", "/tlsrpt", body=gzip.compress(FIXTURE.read_bytes()),
                                   headers={"Content-Type": "application/tlsrpt+gzip"})
                assert connection.getresponse().status == 201
                connection.close()
                break
            except (ConnectionRefusedError, ssl.SSLError, OSError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        stop_process(process)


def test_gzip_bombs_are_refused_as_too_large(server):
    from pipeline.parse import limits
    from tests.fixtures.builders import gzip_bomb

    port, _ = server
    small_bomb = gzip.compress(b"{" + b" " * (limits.MAX_INFLATED_BYTES + 1))  # ~20 KB posted, 20 MB inflated
    assert len(small_bomb) < 200_000
    status, answer = post(port, small_bomb)
    assert status == 413 and "gzip_too_large" in answer["message"]
    assert post(port, gzip_bomb())[0] == 413  # 1 MB posted (1 GiB inflated): over --max-body already


def test_bounded_load_loses_nothing(server):
    """Count-limited load on loopback: every request is answered 201 and has its report spooled."""
    import threading

    port, data_dir = server
    spool = data_dir / "spool" / "https"
    before = len(list(spool.glob("*.report")))
    statuses: list[int] = []
    lock = threading.Lock()
    report = json.loads(FIXTURE.read_text())

    def client(number: int) -> None:
        for sequence in range(30):  # 8 clients x 30 = 240 requests at most
            body = gzip.compress(json.dumps({**report, "report-id": f"load-{number}-{sequence}"}).encode())
            status, _ = post(port, body)
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # each request has its own client timeout; pytest's timeout bounds the rest
    assert statuses.count(201) == len(statuses) == 240
    assert len(list(spool.glob("*.report"))) - before == 240
