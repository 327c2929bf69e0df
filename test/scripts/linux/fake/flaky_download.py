#!/usr/bin/env python3
"""Serves one file on 127.0.0.1 (random port, written to <state>/port) after failing N requests
with 503, to test the image build's download-with-retry helper. Usage: flaky_download.py FILE N STATE"""
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

path, failures, state = sys.argv[1], int(sys.argv[2]), sys.argv[3]
count = {"n": 0}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        count["n"] += 1
        with open(os.path.join(state, "hits"), "w") as f:
            f.write(str(count["n"]))
        if count["n"] <= failures:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(path, "rb") as f:
            data = f.read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(os.path.join(state, "port.tmp"), "w") as f:
    f.write(str(server.server_port))
os.rename(os.path.join(state, "port.tmp"), os.path.join(state, "port"))
server.serve_forever()
