"""The loopback servers a posture check talks to: an HTTPS policy host (a certificate per SNI
name, an answer per Host header) and SMTP servers with and without STARTTLS (aiosmtpd)."""

from __future__ import annotations

import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.services import free_port


def server_context(pem: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pem)
    return context


class PolicyHost(ThreadingHTTPServer):
    """`answers`: host name -> (status, headers, body); `certs`: SNI name -> PEM (else `default_pem`)."""

    daemon_threads = True

    def __init__(self, default_pem: str, certs: dict[str, str], answers: dict[str, tuple[int, dict, bytes]]) -> None:
        self.answers = answers
        self.contexts = {name: server_context(pem) for name, pem in certs.items()}
        self.context = server_context(default_pem)
        self.context.sni_callback = self._pick
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def _pick(self, sslobj, name, _context):
        if name in self.contexts:
            sslobj.context = self.contexts[name]

    def finish_request(self, request, client_address):
        # The handshake runs in the connection's own thread: a silent client stalls only itself.
        request.settimeout(10)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # a client refusing our certificate is what some tests want
        _Handler(tls, client_address, self)

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        status, headers, body = self.server.answers.get(host, (404, {"Content-Type": "text/plain"}, b"unknown host"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if callable(body):  # a trickle: the body is a generator written piece by piece
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for piece in body():
                self.wfile.write(piece)
                self.wfile.flush()
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def trickle():
    for _ in range(1000):
        time.sleep(0.05)
        yield b"x"


class _Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


def smtp_server(pem: str | None) -> Controller:
    """An SMTP server on 127.0.0.1 offering STARTTLS with `pem`, or no STARTTLS when None."""
    controller = Controller(_Accept(), hostname="127.0.0.1", port=free_port(),
                            tls_context=server_context(pem) if pem else None, require_starttls=False)
    controller.start()
    return controller
