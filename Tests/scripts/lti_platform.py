#!/usr/bin/env python3
"""An LTI 1.3 platform (an LMS) for the tests, written against PyJWT and cryptography: code
Passback did not write signs every launch it verifies.

It serves on 127.0.0.1 (port 0: a free one; the first line it prints is "READY <port>"):
  GET  /jwks       its public keys (JWKS)
  GET  /auth       the OIDC authorization endpoint Passback redirects the browser to: answers
                   with a page that form-posts an id_token and the state to redirect_uri
  POST /next       how the next launch differs (JSON): "claims" to set (null removes one),
                   "key" ("current", or "stray": a key it never publishes), "alg", "kid",
                   "exp_in" (seconds from now, default 300), "iat_in" (default 0)
  POST /rotate     makes a new current key (kept with the old ones in the JWKS); answers its kid
  GET  /course     a course page with the tool's launch (?launch=URL) in an iframe
  GET  /last       the last id_token it signed, and the request that asked for it (JSON)
Its issuer is http://127.0.0.1:<port>. It ends when its standard input closes.
"""
import html
import os
import json
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
lock = threading.Lock()
keys = []  # (kid, private key), newest last
stray = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pending = {}
last = {}


def new_key():
    kid = "platform-key-%d" % (len(keys) + 1)
    keys.append((kid, rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    return kid


new_key()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, kind="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def issuer(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/jwks":
            with lock:
                published = []
                for kid, key in keys:
                    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
                    jwk.update({"kid": kid, "alg": "RS256", "use": "sig"})
                    published.append(jwk)
            self.answer(200, json.dumps({"keys": published}))
        elif url.path == "/auth":
            self.authorize(query)
        elif url.path == "/course":
            # A course page of the LMS: the tool in an iframe, launched as the course link does.
            page = """<!doctype html><html><head><title>Course 1</title></head><body><h1>Course 1</h1>
<iframe id="tool" src="%s" style="width:1200px;height:900px;border:0"></iframe></body></html>""" % html.escape(query["launch"])
            self.answer(200, page, "text/html; charset=utf-8")
        elif url.path == "/last":
            with lock:
                self.answer(200, json.dumps(last))
        else:
            self.answer(404, "{}")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/next":
            with lock:
                pending.clear()
                pending.update(json.loads(body or b"{}"))
            self.answer(200, "{}")
        elif self.path == "/rotate":
            with lock:
                kid = new_key()
            self.answer(200, json.dumps({"kid": kid}))
        else:
            self.answer(404, "{}")

    def authorize(self, query):
        for name, value in [("scope", "openid"), ("response_type", "id_token"), ("response_mode", "form_post"), ("prompt", "none")]:
            if query.get(name) != value:
                self.answer(400, "authorization request: %s must be %s, got %r" % (name, value, query.get(name)), "text/plain")
                return
        for name in ["client_id", "redirect_uri", "login_hint", "state", "nonce"]:
            if not query.get(name):
                self.answer(400, "authorization request: no %s" % name, "text/plain")
                return
        with lock:
            plan = dict(pending)
            kid, key = keys[-1]
        now = int(time.time())
        claims = {
            "iss": self.issuer(),
            "aud": query["client_id"],
            "sub": query["login_hint"],
            "iat": now + int(plan.get("iat_in", 0)),
            "exp": now + int(plan.get("exp_in", 300)),
            "nonce": query["nonce"],
            CLAIM + "deployment_id": "deployment-1",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "target_link_uri": query["redirect_uri"],
            CLAIM + "resource_link": {"id": "passback-link"},
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"],
            CLAIM + "context": {"id": "lti-course-1", "title": "Course 1"},
        }
        for name, value in plan.get("claims", {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        if plan.get("key") == "stray":
            key = stray
        headers = {"kid": plan.get("kid", kid)}
        alg = plan.get("alg", "RS256")
        token = jwt.encode(claims, None if alg == "none" else key, algorithm=alg, headers=headers)
        with lock:
            last.clear()
            last.update({"id_token": token, "request": query})
        page = """<!doctype html><html><body onload="document.forms[0].submit()">
<form method="post" action="%s"><input type="hidden" name="id_token" value="%s"><input type="hidden" name="state" value="%s"></form>
</body></html>""" % (html.escape(query["redirect_uri"]), html.escape(token), html.escape(query["state"]))
        self.answer(200, page, "text/html; charset=utf-8")


def exit_with_parent():
    # The test gives the emulator a pipe as stdin: when the test process ends, so does this one.
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print("READY %d" % server.server_address[1], flush=True)
server.serve_forever()
