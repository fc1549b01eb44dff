#!/usr/bin/env python3
"""Verifies OAuth 1.0a signatures with oauthlib (RFC 5849), an implementation Passback did not write.

Reads a file of JSON lines, each {"method", "url", "authorization", "secret"}, and prints one
line per request: "ok" when oauthlib's HMAC-SHA1 or HMAC-SHA256 check (the method the header
names) accepts the signature with that consumer secret and no token, else "bad" and why.

    python3 Tests/scripts/oauth1_verify.py requests.jsonl
"""
import json
import sys
from urllib.parse import urlparse

from oauthlib.common import Request
from oauthlib.oauth1.rfc5849 import signature

for line in open(sys.argv[1], encoding="utf-8"):
    case = json.loads(line)
    headers = {"Authorization": case["authorization"]}
    try:
        query = urlparse(case["url"]).query
        every = dict(signature.collect_parameters(uri_query=query, headers=headers, exclude_oauth_signature=False))
        request = Request(case["url"], http_method=case["method"], headers=headers)
        # The signature is left out of what is signed.
        request.params = signature.collect_parameters(uri_query=query, headers=headers, exclude_oauth_signature=True)
        request.signature = every["oauth_signature"]
        method = every["oauth_signature_method"]
        verify = {"HMAC-SHA1": signature.verify_hmac_sha1, "HMAC-SHA256": signature.verify_hmac_sha256}[method]
        print("ok" if verify(request, case["secret"], None) else "bad: signature differs")
    except Exception as error:  # a header oauthlib cannot read is a failure too
        print(f"bad: {type(error).__name__}: {error}")
