#!/usr/bin/env python3
"""Git's smart HTTP protocol (`git http-backend`) behind basic auth, for the local fleet's clone tests.

Usage: git-http-server.py ADDRESS PORT ROOT USER TOKEN_FILE
Every request must carry `Authorization: Basic base64(USER:<contents of TOKEN_FILE>)`, else 401 with a
WWW-Authenticate challenge (which is what makes git report "Authentication failed"). Repositories are
the bare repositories under ROOT. Standard library only.
"""
import base64
import hmac
import http.server
import os
import subprocess
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def authorised(self):
        expected = base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        presented = self.headers.get("Authorization", "")
        return presented.startswith("Basic ") and hmac.compare_digest(presented[6:].strip(), expected)

    def refuse(self):
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="berth test git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def backend(self):
        if not self.authorised():
            return self.refuse()
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        env = {
            "GIT_PROJECT_ROOT": ROOT, "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": path, "QUERY_STRING": query,
            "REQUEST_METHOD": self.command, "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": USER, "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        }
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        result = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        if not _:
            head, _, payload = result.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = backend
    do_POST = backend

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ADDRESS, PORT, ROOT, USER, TOKEN_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    with open(TOKEN_FILE) as f:
        TOKEN = f.read().strip()
    http.server.ThreadingHTTPServer((ADDRESS, PORT), Handler).serve_forever()
