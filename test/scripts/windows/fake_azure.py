#!/usr/bin/env python3
"""Fake Azure IMDS (managed identity token) and Key Vault (get secret) on loopback for the Pester tests.

It answers in the shapes of the real services (shared/reference/cloud-apis.md section 7 and the
GetSecret example) and rejects what they reject:
  IMDS   GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...
         400 bad_request_102 without the exact header `Metadata: true`, 400 on a request that carries
         X-Forwarded-For, 400 invalid_request on an unknown api-version, 400 invalid_resource on an
         unknown resource.
  IMDS   GET /metadata/attested/document?api-version=2018-10-01&nonce=<10 digits>
         this VM's attested document {"encoding": "pkcs7", "signature": ...} (the signature stands for
         this VM and the nonce: opaque to the VM, kiln's broker verifies the real PKCS#7); 400 without
         `Metadata: true`, with X-Forwarded-For, on an api-version before 2018-10-01 or unknown, or a
         nonce that is not 10 digits.
  Key Vault GET /secrets/{name}[/{version}]?api-version=7.4|7.5|7.6|2025-07-01
         401 with a bearer challenge without a token or with a token IMDS did not issue for
         https://vault.azure.net, 400 BadParameter on a missing or unknown api-version,
         404 SecretNotFound for an unknown secret.
  Broker POST /api/registrations  {"instance": "<computer name>", "attestedDocument": "..."}, kiln's
         registration broker: 401 without a token IMDS issued for the broker audience
         (BROKER_AUDIENCE), 400 on a body that is not {"instance": "..."} or has no attested
         document, 403 for a document IMDS did not give; 200 {"token": ...}; faults answer
         {"error": "..."}, 429 with Retry-After.
Test control (not part of either real API, under /_fake/):
  POST /_fake/secrets   {"name": ..., "value": ...}           add or replace a secret
  POST /_fake/broker    {"token": ..., "retry_after": "7"}   what the broker hands out / its Retry-After
  POST /_fake/faults    {"service": "imds"|"attested"|"keyvault"|"broker", "statuses": [500, 429]}
                        the next requests to that service answer these statuses, in order
  POST /_fake/reset     forget faults and the request log (secrets stay)
  GET  /_fake/requests  what was asked: service, path, query, status, whether auth headers were right
Usage: fake_azure.py --port-file FILE [--max-seconds N]. Binds 127.0.0.1 on a free port, writes the
port to FILE, and exits by itself after N seconds (default 900) in case nobody stops it.
"""
import argparse
import base64
import json
import os
import secrets
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IMDS_PATH = "/metadata/identity/oauth2/token"
IMDS_API_VERSIONS = {"2018-02-01", "2019-08-01"}
ATTESTED_PATH = "/metadata/attested/document"
# IMDS serves the attested category from api-version 2018-10-01 on (a few of the versions).
ATTESTED_API_VERSIONS = {"2018-10-01", "2019-08-15", "2020-09-01", "2021-02-01", "2023-07-01", "2025-04-07"}
# App ID URIs IMDS accepts here; a token is only good for the resource it was issued for.
KNOWN_RESOURCES = {
    "https://vault.azure.net",
    "https://management.azure.com/",
    "499b84ac-1321-427f-aa17-267ca6975798",
    "api://kiln-registrations-test",
}
BROKER_AUDIENCE = "api://kiln-registrations-test"
KEYVAULT_RESOURCE = "https://vault.azure.net"
KEYVAULT_API_VERSIONS = {"7.4", "7.5", "7.6", "2025-07-01"}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = {}  # name -> (version, value)
        self.tokens = {}  # access token -> resource
        self.faults = {"imds": [], "attested": [], "keyvault": [], "broker": []}
        self.requests = []
        self.attested = set()  # attested document signatures IMDS gave
        self.broker = {"token": "", "retry_after": "1"}


STATE = State()


class Handler(BaseHTTPRequestHandler):
    server_version = "kiln-fake-azure/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output quiet
        pass

    # --- plumbing ---
    def _send(self, status, body, headers=None):
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _record(self, service, status, **extra):
        with STATE.lock:
            STATE.requests.append(
                dict(service=service, method=self.command, path=self.parsed.path,
                     query=self.query, status=status, **extra))

    def _next_fault(self, service):
        with STATE.lock:
            queue = STATE.faults[service]
            return queue.pop(0) if queue else None

    def _read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        return json.loads(raw.decode("utf-8") or "{}")

    # --- routing ---
    def do_GET(self):
        self.parsed = urllib.parse.urlsplit(self.path)
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(self.parsed.query, keep_blank_values=True).items()}
        if self.parsed.path == IMDS_PATH:
            return self._imds()
        if self.parsed.path == ATTESTED_PATH:
            return self._attested()
        if self.parsed.path.startswith("/secrets/"):
            return self._keyvault()
        if self.parsed.path == "/_fake/requests":
            with STATE.lock:
                return self._send(200, list(STATE.requests))
        return self._send(404, {"error": {"code": "NotFound", "message": "no such path"}})

    def do_POST(self):
        self.parsed = urllib.parse.urlsplit(self.path)
        self.query = {}
        try:
            body = self._read_json()
        except ValueError:
            body = None
        if self.parsed.path == "/api/registrations":
            return self._broker(body)
        if body is None:
            return self._send(400, {"error": "bad json"})
        with STATE.lock:
            if self.parsed.path == "/_fake/secrets":
                STATE.secrets[body["name"]] = (secrets.token_hex(16), body["value"])
                return self._send(204, None)
            if self.parsed.path == "/_fake/faults":
                STATE.faults[body["service"]].extend(int(s) for s in body["statuses"])
                return self._send(204, None)
            if self.parsed.path == "/_fake/broker":
                STATE.broker.update(body)
                return self._send(204, None)
            if self.parsed.path == "/_fake/reset":
                STATE.faults = {"imds": [], "attested": [], "keyvault": [], "broker": []}
                STATE.requests = []
                return self._send(204, None)
        return self._send(404, {"error": "no such control path"})

    # --- IMDS ---
    def _imds(self):
        metadata_ok = self.headers.get("Metadata") == "true"
        if self.headers.get("X-Forwarded-For") is not None:
            self._record("imds", 400, metadata=metadata_ok)
            return self._send(400, {"error": "invalid_request", "error_description": "Request contains X-Forwarded-For header"})
        if not metadata_ok:
            self._record("imds", 400, metadata=False)
            return self._send(400, {"error": "bad_request_102", "error_description": "Required metadata header not specified"})
        fault = self._next_fault("imds")
        if fault is not None:
            self._record("imds", fault, metadata=True, fault=True)
            return self._send(fault, {"error": "unavailable" if fault >= 500 else "too_many_requests", "error_description": "injected fault"})
        if self.query.get("api-version") not in IMDS_API_VERSIONS:
            self._record("imds", 400, metadata=True)
            return self._send(400, {"error": "invalid_request", "error_description": "Invalid api-version"})
        resource = self.query.get("resource")
        if resource not in KNOWN_RESOURCES:
            self._record("imds", 400, metadata=True)
            return self._send(400, {"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal was not found"})
        token = "fake-imds-" + secrets.token_urlsafe(24)
        now = int(time.time())
        with STATE.lock:
            STATE.tokens[token] = resource
        self._record("imds", 200, metadata=True, resource=resource)
        return self._send(200, {
            "access_token": token,
            "refresh_token": "",
            "expires_in": "3599",
            "expires_on": str(now + 3599),
            "not_before": str(now),
            "resource": resource,
            "token_type": "Bearer",
        })

    def _attested(self):
        nonce = self.query.get("nonce")
        if self.headers.get("X-Forwarded-For") is not None:
            self._record("attested", 400, nonce=nonce)
            return self._send(400, {"error": "Bad request. Request contains X-Forwarded-For header"})
        if self.headers.get("Metadata") != "true":
            self._record("attested", 400, nonce=nonce, metadata=False)
            return self._send(400, {"error": "Bad request. Required metadata header not specified"})
        if self.query.get("api-version") not in ATTESTED_API_VERSIONS:
            self._record("attested", 400, nonce=nonce)
            return self._send(400, {"error": "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"})
        if nonce is not None and not (len(nonce) == 10 and nonce.isdigit()):
            self._record("attested", 400, nonce=nonce)
            return self._send(400, {"error": "Bad request. nonce must be a 10-digit string"})
        fault = self._next_fault("attested")
        if fault is not None:
            self._record("attested", fault, nonce=nonce, fault=True)
            return self._send(fault, {"error": "Too many requests" if fault == 429 else "Internal server error"})
        signature = base64.b64encode(("attested:this-vm:%s" % nonce).encode()).decode()
        with STATE.lock:
            STATE.attested.add(signature)
        self._record("attested", 200, nonce=nonce, metadata=True)
        return self._send(200, {"encoding": "pkcs7", "signature": signature})

    # --- kiln's registration broker ---
    def _broker(self, body):
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        instance = body.get("instance") if isinstance(body, dict) else None
        with STATE.lock:
            token_ok = token is not None and STATE.tokens.get(token) == BROKER_AUDIENCE
            handout, retry_after = STATE.broker["token"], STATE.broker["retry_after"]
        if not token_ok:
            self._record("broker", 401, bearer=False, instance=instance)
            return self._send(401, {"error": "no valid token for the registration audience"})
        if ctype != "application/json" or not isinstance(instance, str):
            self._record("broker", 400, bearer=True, instance=instance)
            return self._send(400, {"error": 'body must be JSON {"instance": "<computer name>", "attestedDocument": "..."}'})
        document = body.get("attestedDocument")
        if not isinstance(document, str) or document == "":
            self._record("broker", 400, bearer=True, instance=instance, attested="missing")
            return self._send(400, {"error": 'field "attestedDocument": is required: the signature of IMDS\'s attested document'})
        with STATE.lock:
            attested = document in STATE.attested
        if not attested:
            self._record("broker", 403, bearer=True, instance=instance, attested="foreign")
            return self._send(403, {"error": "the attested document is from another VM"})
        fault = self._next_fault("broker")
        if fault is not None:
            self._record("broker", fault, bearer=True, instance=instance, fault=True)
            message = {403: "identity may not register instance %s" % instance,
                       409: "instance %s already has a registration" % instance,
                       429: "too many registrations for this instance"}.get(fault, "broker unavailable")
            return self._send(fault, {"error": message}, {"Retry-After": retry_after} if fault == 429 else None)
        self._record("broker", 200, bearer=True, instance=instance, attested="issued")
        return self._send(200, {"token": handout})

    # --- Key Vault ---
    def _keyvault(self):
        challenge = {"WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000", resource="https://vault.azure.net"'}
        auth = self.headers.get("Authorization") or ""
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        with STATE.lock:
            token_ok = token is not None and STATE.tokens.get(token) == KEYVAULT_RESOURCE
        api_version = self.query.get("api-version")
        if not token_ok:
            self._record("keyvault", 401, bearer=False, api_version=api_version)
            return self._send(401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}, challenge)
        if api_version not in KEYVAULT_API_VERSIONS:
            self._record("keyvault", 400, bearer=True, api_version=api_version)
            return self._send(400, {"error": {"code": "BadParameter", "message": "The specified version (%s) is not recognized. Consider using the latest supported version." % api_version}})
        fault = self._next_fault("keyvault")
        if fault is not None:
            self._record("keyvault", fault, bearer=True, api_version=api_version, fault=True)
            code = {403: "Forbidden", 429: "Throttled"}.get(fault, "InternalServerError")
            body = {"error": {"code": code, "message": "injected fault"}}
            if fault == 403:
                body["error"]["innererror"] = {"code": "ForbiddenByRbac"}
            return self._send(fault, body)
        parts = self.parsed.path.split("/")  # ['', 'secrets', name, version?]
        name = urllib.parse.unquote(parts[2]) if len(parts) > 2 else ""
        version = urllib.parse.unquote(parts[3]) if len(parts) > 3 and parts[3] else None
        with STATE.lock:
            stored = STATE.secrets.get(name)
        if stored is None or (version is not None and version != stored[0]):
            self._record("keyvault", 404, bearer=True, api_version=api_version, secret=name)
            return self._send(404, {"error": {"code": "SecretNotFound", "message": "A secret with (name/id) %s was not found in this key vault." % name}})
        host = self.headers.get("Host") or "127.0.0.1"
        self._record("keyvault", 200, bearer=True, api_version=api_version, secret=name)
        return self._send(200, {
            "value": stored[1],
            "id": "http://%s/secrets/%s/%s" % (host, name, stored[0]),
            "attributes": {"enabled": True, "created": 1493938410, "updated": 1493938410, "recoveryLevel": "Recoverable+Purgeable"},
        })


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--max-seconds", type=int, default=900)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, args.port_file)  # the reader never sees a half-written port
    timer = threading.Timer(args.max_seconds, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
