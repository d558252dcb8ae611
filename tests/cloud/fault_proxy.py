"""aerie test bed STAND-IN for a failing OpenStack API (tests/support/cloud.rs).

fault_proxy.py ADDR PORT UPSTREAM_PORT FAIL

Listens on ADDR:PORT and forwards every request to the real API on
ADDR:UPSTREAM_PORT, except that a request whose path contains FAIL is answered
500 with a body in nova's fault format, as an API whose database or a worker
broke would answer. The real services never fail on demand; this is the one
injected part, and the test that uses it says so.
"""
import http.client
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ADDR, PORT, UPSTREAM, FAIL = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class Proxy(BaseHTTPRequestHandler):
    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if FAIL in self.path:
            data = json.dumps({"computeFault": {
                "code": 500,
                "message": "Unexpected API Error. (aerie test bed fault proxy)"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        up = http.client.HTTPConnection(ADDR, UPSTREAM, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        up.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    def log_message(self, fmt, *args):
        sys.stderr.write("fault-proxy: " + (fmt % args) + "\n")


ThreadingHTTPServer((ADDR, PORT), Proxy).serve_forever()
