#!/usr/bin/env python3
"""Fake IMDS, Key Vault and GitHub REST on loopback for the bootstrap.sh bats tests.

One process, two listeners on 127.0.0.1 (random free ports, written to <state>/ports):
  * plain HTTP: IMDS (/metadata/identity/oauth2/token and /metadata/attested/document), GitHub
    (runner registration tokens) and kiln's registration broker (POST /api/registrations)
  * HTTPS: Key Vault (/secrets/{name}), reached as https://{vault}.localhost:{port} (curl resolves
    *.localhost to loopback), with a certificate the tests make and hand to curl via CURL_CA_BUNDLE.

It rejects what the real services reject (missing Metadata header, missing api-version, wrong or
absent bearer token, wrong method or path) and injects faults from the JSON config:
  {"pat", "access_token", "registration_token", "vault", "secret_name", "kv_resource_host",
   "api_prefix", "imds_statuses": [429, ...], "kv_status": 403, "gh_status": 401,
   "registration_audience", "broker_token", "jit_config", "runner_name",
   "broker_statuses": [503, 429, 409, ...], "retry_after": "1", "attested_statuses": [429, ...]}
IMDS hands out access_token for the Key Vault resource and broker_token for registration_audience,
and this VM's attested document: {"encoding": "pkcs7", "signature"}, where the signature (opaque to
the VM; kiln's broker verifies the real PKCS#7) stands for this VM and the nonce. The broker wants
that token and a JSON {"instance": "<name>", "attestedDocument": "<signature>"} body with a document
IMDS gave this VM, and answers like kiln's broker (200 {"name", "encoded_jit_config"}, else
{"error": "..."}: 400 without a document, 403 for one IMDS did not give; 429 with Retry-After).
Every request is appended to <state>/requests.jsonl with its Authorization value reduced to
"ok" / "wrong" / "missing", so the recording never holds a secret.
Shapes follow shared/reference/examples/{github,keyvault} and cloud-apis.md section 7.
"""
import argparse
import base64
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-cloud"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep the test output quiet
        pass

    # --- plumbing -------------------------------------------------------------------------
    @property
    def cfg(self):
        return self.server.cfg

    def record(self, kind, auth, status, **extra):
        entry = {
            "kind": kind,
            "tls": self.server.tls,
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host", ""),
            "metadata": self.headers.get("Metadata"),
            "accept": self.headers.get("Accept"),
            "api_version_header": self.headers.get("X-GitHub-Api-Version"),
            "auth": auth,
            "status": status,
            "content_type": self.headers.get("Content-Type"),
            **extra,
        }
        with LOCK, open(os.path.join(self.server.state, "requests.jsonl"), "a") as f:
            f.write(json.dumps(entry) + "\n")

    def reply(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def bearer(self, expected):
        value = self.headers.get("Authorization")
        if value is None:
            return "missing"
        scheme, _, token = value.partition(" ")
        ok = scheme.lower() in ("bearer", "token") and token == expected
        return "ok" if ok else "wrong"

    def next_fault(self, key):
        with LOCK:
            queue = self.server.faults.setdefault(key, list(self.cfg.get(key) or []))
            return queue.pop(0) if queue else None

    # --- routing ----------------------------------------------------------------------------
    def do_GET(self):
        self.route()

    def do_POST(self):
        self.route()

    def do_DELETE(self):
        self.route()

    def route(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        if self.server.tls:
            if path.startswith("/secrets/"):
                return self.keyvault()
        elif path == "/metadata/identity/oauth2/token":
            return self.imds()
        elif path == "/metadata/attested/document":
            return self.attested()
        elif path.endswith("/actions/runners/registration-token"):
            return self.github()
        elif path == "/api/registrations":
            return self.broker()
        self.record("unknown", "n/a", 404)
        self.reply(404, {"message": "Not Found"})

    # --- IMDS -------------------------------------------------------------------------------
    def imds(self):
        query = parse_qs(urlsplit(self.path).query)
        if self.command != "GET":
            return self.imds_error(405, "invalid_request", "Method not allowed")
        if self.headers.get("Metadata") != "true":
            return self.imds_error(400, "invalid_request", "Required metadata header not specified")
        if self.headers.get("X-Forwarded-For"):
            return self.imds_error(400, "invalid_request", "Request was proxied")
        if query.get("api-version") != ["2018-02-01"]:
            return self.imds_error(400, "invalid_request", "Missing or unsupported api-version")
        resource = query.get("resource", [""])[0]
        audience = self.cfg.get("registration_audience")
        if audience and resource == audience:
            token = self.cfg["broker_token"]
        elif resource == self.server.expected_resource:
            token = self.cfg["access_token"]
        else:
            return self.imds_error(400, "invalid_resource", "AADSTS500011: resource not found")
        fault = self.next_fault("imds_statuses")
        if fault:
            return self.imds_error(fault, "throttled" if fault == 429 else "unavailable", "try later")
        self.record("imds", "n/a", 200, resource=resource)
        self.reply(200, {
            "access_token": token,
            "refresh_token": "",
            "expires_in": "3599",
            "expires_on": "1506484173",
            "not_before": "1506480273",
            "resource": resource,
            "token_type": "Bearer",
        })

    def imds_error(self, status, error, description):
        self.record("imds", "n/a", status)
        self.reply(status, {"error": error, "error_description": description})

    # IMDS serves the attested category from api-version 2018-10-01 on (a few of the versions).
    ATTESTED_API_VERSIONS = ("2018-10-01", "2019-08-15", "2020-09-01", "2021-02-01", "2023-07-01", "2025-04-07")

    def attested(self):
        query = parse_qs(urlsplit(self.path).query)
        nonce = query.get("nonce", [None])[0]
        if self.command != "GET":
            return self.attested_error(405, "Method not allowed", nonce)
        if self.headers.get("Metadata") != "true":
            return self.attested_error(400, "Bad request. Required metadata header not specified", nonce)
        if self.headers.get("X-Forwarded-For"):
            return self.attested_error(400, "Bad request. Request was proxied", nonce)
        if query.get("api-version", [""])[0] not in self.ATTESTED_API_VERSIONS:
            return self.attested_error(400, "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds", nonce)
        if nonce is not None and not (len(nonce) == 10 and nonce.isdigit()):
            return self.attested_error(400, "Bad request. nonce must be a 10-digit string", nonce)
        fault = self.next_fault("attested_statuses")
        if fault:
            return self.attested_error(fault, "Too many requests" if fault == 429 else "Internal server error", nonce)
        signature = base64.b64encode(f"attested:{self.cfg.get('vm_id', 'vm-1')}:{nonce}".encode()).decode()
        with LOCK:
            self.server.attested.add(signature)
        self.record("attested", "n/a", 200, nonce=nonce, api_version=query["api-version"][0])
        self.reply(200, {"encoding": "pkcs7", "signature": signature})

    def attested_error(self, status, message, nonce):
        self.record("attested", "n/a", status, nonce=nonce)
        self.reply(status, {"error": message})

    # --- Key Vault ----------------------------------------------------------------------------
    def keyvault(self):
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        vault_host = f"{self.cfg['vault']}.{self.cfg['kv_resource_host']}:{self.server.server_port}"
        auth = self.bearer(self.cfg["access_token"])
        if self.headers.get("Host", "").lower() != vault_host.lower():
            return self.kv_error(404, auth, "VaultNotFound", "No vault at this host")
        if self.command != "GET":
            return self.kv_error(405, auth, "BadParameter", "Method not allowed")
        if not query.get("api-version"):
            return self.kv_error(400, auth, "BadParameter", "The api-version query parameter is required")
        if auth != "ok":
            self.record("keyvault", auth, 401)
            return self.reply(401, {"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}}, {
                "WWW-Authenticate": 'Bearer authorization="https://login.microsoftonline.com/tenant", resource="https://vault.azure.net"'
            })
        if self.cfg.get("kv_status"):
            status = self.cfg["kv_status"]
            code = {403: "Forbidden"}.get(status, "InternalServerError")
            return self.kv_error(status, auth, code, "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'")
        name = parts.path[len("/secrets/"):].split("/")[0]
        if name != self.cfg["secret_name"]:
            return self.kv_error(404, auth, "SecretNotFound", f"A secret with (name/id) {name} was not found in this key vault.")
        self.record("keyvault", auth, 200)
        base = f"https://{vault_host}"
        self.reply(200, {
            "value": self.cfg["pat"],
            "id": f"{base}/secrets/{name}/4387e9f3d6e14c459867679a90fd0f79",
            "attributes": {"enabled": True, "created": 1493938410, "updated": 1493938410, "recoveryLevel": "Recoverable+Purgeable"},
        })

    def kv_error(self, status, auth, code, message):
        self.record("keyvault", auth, status)
        self.reply(status, {"error": {"code": code, "message": message}})

    # --- kiln's registration broker ---------------------------------------------------------
    def broker(self):
        auth = self.bearer(self.cfg.get("broker_token", ""))
        if self.command != "POST":
            return self.broker_error(405, auth, "method not allowed")
        if auth != "ok":
            return self.broker_error(401, auth, "no valid bearer token for the registration audience")
        try:
            body = json.loads(self.body or b"null")
        except ValueError:
            body = None
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json" or not isinstance(body, dict) or not isinstance(body.get("instance"), str):
            return self.broker_error(400, auth, 'body must be JSON {"instance": "<computer name>", "attestedDocument": "..."}')
        instance = body["instance"]
        document = body.get("attestedDocument")
        if not isinstance(document, str) or document == "":
            return self.broker_error(400, auth, 'field "attestedDocument": is required: the signature of IMDS\'s attested document', None, instance)
        with LOCK:
            attested = document in self.server.attested
        if not attested:
            return self.broker_error(403, auth, "the attested document is from another VM", None, instance, "foreign")
        fault = self.next_fault("broker_statuses")
        if fault:
            message = {401: "token rejected", 403: f"identity may not register instance {instance}",
                       409: f"instance {instance} already has a registration",
                       429: "too many registrations for this instance"}.get(fault, "broker unavailable")
            headers = {"Retry-After": str(self.cfg.get("retry_after", "1"))} if fault == 429 else None
            return self.broker_error(fault, auth, message, headers, instance)
        self.record("broker", auth, 200, instance=instance, attested="issued")
        self.reply(200, {"name": self.cfg.get("runner_name", instance), "encoded_jit_config": self.cfg["jit_config"]})

    def broker_error(self, status, auth, message, headers=None, instance=None, attested=None):
        self.record("broker", auth, status, instance=instance, attested=attested)
        self.reply(status, {"error": message}, headers)

    # --- GitHub -----------------------------------------------------------------------------
    def github(self):
        path = urlsplit(self.path).path
        prefix = self.cfg.get("api_prefix", "")
        auth = self.bearer(self.cfg["pat"])
        if not path.startswith(prefix + "/orgs/") and not path.startswith(prefix + "/repos/"):
            return self.gh_error(404, auth, "Not Found")
        rest = path[len(prefix):].split("/")
        valid = (rest[1] == "orgs" and len(rest) == 6) or (rest[1] == "repos" and len(rest) == 7)
        if not valid or self.command != "POST":
            return self.gh_error(404, auth, "Not Found")
        if auth != "ok":
            return self.gh_error(401, auth, "Bad credentials")
        if self.cfg.get("gh_status"):
            return self.gh_error(self.cfg["gh_status"], auth, "Resource not accessible by personal access token")
        self.record("github", auth, 201)
        self.reply(201, {"token": self.cfg["registration_token"], "expires_at": "2020-01-22T12:13:35.123-08:00"})

    def gh_error(self, status, auth, message):
        self.record("github", auth, status)
        self.reply(status, {"message": message, "documentation_url": "https://docs.github.com/rest", "status": str(status)})


def serve(server):
    server.serve_forever(poll_interval=0.1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)

    servers = []
    for tls in (False, True):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.cfg, server.tls, server.state, server.faults = cfg, tls, args.state, {}
        server.attested = set()
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(args.cert, args.key)
            server.socket = ctx.wrap_socket(server.socket, server_side=True)
        servers.append(server)
    http_port, tls_port = servers[0].server_port, servers[1].server_port
    # IMDS must be asked for the Key Vault resource of the configured DNS suffix.
    for server in servers:
        server.expected_resource = f"https://{cfg['kv_resource_host']}:{tls_port}"
    threads = [threading.Thread(target=serve, args=(s,), daemon=True) for s in servers]
    for t in threads:
        t.start()
    tmp = os.path.join(args.state, "ports.tmp")
    with open(tmp, "w") as f:
        f.write(f"{http_port} {tls_port}\n")
    os.rename(tmp, os.path.join(args.state, "ports"))
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
