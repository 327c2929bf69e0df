#!/usr/bin/env python3
"""Serves a folder on 127.0.0.1 (random port, written to <state>/port) as vendor release endpoints
for the image build's resolver tests: the GitHub REST API and release downloads, nodejs.org/dist,
Microsoft's key, IMDS. Usage: release_server.py ROOT STATE

GET /a/b?x=y answers the file ROOT/a/b (the query is ignored), 404 when there is none. Like the real
services it refuses what they refuse: a request under /api/ (GitHub's API) without a User-Agent
gets GitHub's 403, a request under /metadata/ (IMDS) without "Metadata: true" gets IMDS's 400.
Every request is appended to <state>/requests.jsonl: path with query, User-Agent, Accept,
X-GitHub-Api-Version, Metadata header and the status answered.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

root, state = os.path.realpath(sys.argv[1]), sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output quiet
        pass

    def answer(self, status, data, content_type="application/octet-stream"):
        with open(os.path.join(state, "requests.jsonl"), "a") as f:
            f.write(json.dumps({
                "path": self.path,
                "user_agent": self.headers.get("User-Agent"),
                "accept": self.headers.get("Accept"),
                "api_version": self.headers.get("X-GitHub-Api-Version"),
                "metadata": self.headers.get("Metadata"),
                "status": status,
            }) + "\n")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        if path.startswith("/api/") and not self.headers.get("User-Agent"):
            body = {"message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header."}
            return self.answer(403, json.dumps(body).encode(), "application/json")
        if path.startswith("/metadata/") and self.headers.get("Metadata") != "true":
            body = {"error": "Bad request. Required metadata header not specified"}
            return self.answer(400, json.dumps(body).encode(), "application/json")
        file = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not file.startswith(root + os.sep) or not os.path.isfile(file):
            return self.answer(404, b'{"message": "Not Found"}', "application/json")
        with open(file, "rb") as f:
            data = f.read()
        kind = "application/json" if data[:1] in (b"{", b"[") else "application/octet-stream"
        self.answer(200, data, kind)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(state, "port.tmp"), "w") as f:
    f.write(str(server.server_port))
os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
server.serve_forever()
