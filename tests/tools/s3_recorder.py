#!/usr/bin/env python3
"""s3_recorder.py: a minimal S3 look-alike that records every request (t_s3_sign.sh).

Each request is appended to LOG as one JSON line: method, raw path and query, headers, the
SHA-256 of the body, and whether its AWS Signature V4 verifies with the secret in
$S3_RECORDER_SECRET (computed here from the AWS documentation, independently of libcurl). Objects live in
memory; ListObjectsV2 answers one key a page, so that continuation tokens are exercised.
A file DIR/deny holding "GET" or "ALL" makes those requests answer 403 AccessDenied.
A file DIR/flood makes GETs answer with far more than they asked for (t_s3_caps.sh), streamed
until the client stops reading; the bytes written are added to DIR/flood_sent. It holds one of:
  range          a Range GET answers 206 with FLOOD_BYTES bytes, Content-Length declared
  range-chunked  the same, chunked, with no length declared
  range-200      a Range GET answers 200 with the whole object followed by FLOOD_BYTES more
  whole          a GET of a whole object answers 200 with FLOOD_BYTES bytes, chunked
  list           a listing answers 200 with FLOOD_BYTES bytes of keys, chunked
A file DIR/fail of lines "N METHOD TEXT" makes the next N requests of METHOD whose path contains
TEXT answer 503 SlowDown (t_store_retry.sh); each one so answered counts its line down (the file
goes once every line is at 0) and is appended to DIR/failed.

usage: s3_recorder.py PORT DIR
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import urllib.parse
from xml.sax.saxutils import escape

PORT, DIR = int(sys.argv[1]), sys.argv[2]
LOG = os.path.join(DIR, "requests.jsonl")
objects = {}
SECRET = os.environ.get("S3_RECORDER_SECRET", "")
FLOOD_BYTES = 1 << 30
fail_lock = threading.Lock()


def signature_ok(method, raw_path, headers):
    """Recomputes the request's SigV4 signature from what was received."""
    auth = headers.get("authorization", "")
    try:
        algo, rest = auth.split(" ", 1)
        fields = dict(f.strip().split("=", 1) for f in rest.split(","))
        key_id, date, region, service, term = fields["Credential"].split("/")
        signed = fields["SignedHeaders"].split(";")
    except (ValueError, KeyError):
        return False
    if algo != "AWS4-HMAC-SHA256" or term != "aws4_request":
        return False
    path, _, query = raw_path.partition("?")
    q = urllib.parse.quote
    pairs = sorted((q(urllib.parse.unquote(k), safe="-_.~"), q(urllib.parse.unquote(v), safe="-_.~"))
                   for k, _, v in (p.partition("=") for p in query.split("&") if p))
    canonical = "\n".join([
        method, path, "&".join("%s=%s" % kv for kv in pairs),
        "".join("%s:%s\n" % (h, " ".join(headers.get(h, "").split())) for h in signed),
        ";".join(signed), headers.get("x-amz-content-sha256", "")])
    scope = "/".join([date, region, service, term])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", headers.get("x-amz-date", ""), scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + SECRET).encode()
    for part in (date, region, service, term):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest(),
                               fields.get("Signature", ""))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, code, head, chunked, declared=None, fill=b"x"):
        """Sends head, then fill repeated up to FLOOD_BYTES, until the client stops reading."""
        self.send_response(code)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(declared))
        self.end_headers()
        piece = (fill * (65536 // len(fill) + 1))[:65536]
        sent = 0
        try:
            for data in [head] + [piece] * (FLOOD_BYTES // len(piece)):
                if not data:
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                sent += len(data)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with open(os.path.join(DIR, "flood_sent"), "a") as f:
                f.write("%d\n" % sent)
        self.close_connection = True

    def flood(self, mode, key, listing):
        """Answers as DIR/flood says, or returns False to answer normally."""
        rng = self.headers.get("Range")
        if listing:
            if mode != "list":
                return False
            self.stream(200, b"<ListBucketResult>", True, fill=b"<Contents><Key>zz</Key></Contents>")
            return True
        if mode in ("range", "range-chunked") and rng:
            self.stream(206, b"", mode == "range-chunked", FLOOD_BYTES)
            return True
        if mode == "range-200" and rng and key in objects:
            self.stream(200, objects[key], True)
            return True
        if mode == "whole" and not rng:
            self.stream(200, b"", True)
            return True
        return False

    def injected_failure(self):
        """Whether DIR/fail says this request answers 503; counts its line down if so."""
        path = os.path.join(DIR, "fail")
        with fail_lock:
            try:
                with open(path) as f:
                    rules = [line.split(None, 2) for line in f if line.strip()]
            except FileNotFoundError:
                return False
            hit = next((r for r in rules if len(r) == 3 and int(r[0]) > 0 and r[1] == self.command
                        and r[2].strip() in self.path), None)
            if hit is None:
                return False
            hit[0] = str(int(hit[0]) - 1)
            left = [r for r in rules if len(r) == 3 and int(r[0]) > 0]
            if left:
                with open(path + ".new", "w") as f:
                    f.writelines("%s %s %s\n" % (n, m, t.strip()) for n, m, t in left)
                os.replace(path + ".new", path)
            else:
                os.remove(path)
            with open(os.path.join(DIR, "failed"), "a") as f:
                f.write("%s %s\n" % (self.command, self.path))
            return True

    def handle_any(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        with open(LOG, "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "headers": headers,
                                "body_sha256": hashlib.sha256(body).hexdigest(),
                                "signature_ok": signature_ok(self.command, self.path, headers)}) + "\n")
        deny = ""
        try:
            with open(os.path.join(DIR, "deny")) as f:
                deny = f.read().strip()
        except FileNotFoundError:
            pass
        if deny == "ALL" or deny == self.command:
            return self.reply(403, b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>"
                                   b"<Message>Access Denied</Message></Error>")
        if self.injected_failure():
            return self.reply(503, b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                                   b"<Message>Please reduce your request rate.</Message></Error>")
        url = urllib.parse.urlsplit(self.path)
        parts = url.path.split("/", 2)  # "", bucket, key
        query = urllib.parse.parse_qs(url.query)
        mode = ""
        try:
            with open(os.path.join(DIR, "flood")) as f:
                mode = f.read().strip()
        except FileNotFoundError:
            pass
        listing = len(parts) == 2 or parts[2] == ""
        if mode and self.command == "GET" and self.flood(
                mode, "" if listing else urllib.parse.unquote(parts[2]), listing):
            return None
        if len(parts) == 2 or parts[2] == "":
            if self.command != "GET" or query.get("list-type") != ["2"]:
                return self.reply(400)
            prefix = query.get("prefix", [""])[0]
            keys = sorted(k for k in objects if k.startswith(prefix))
            after = query.get("continuation-token", [""])[0]
            keys = [k for k in keys if k > after]
            page, more = keys[:1], len(keys) > 1
            xml = "<ListBucketResult><Prefix>%s</Prefix>" % escape(prefix)
            xml += "".join("<Contents><Key>%s</Key></Contents>" % escape(k) for k in page)
            xml += "<IsTruncated>%s</IsTruncated>" % ("true" if more else "false")
            if more:
                xml += "<NextContinuationToken>%s</NextContinuationToken>" % escape(page[-1])
            xml += "</ListBucketResult>"
            return self.reply(200, xml.encode())
        key = urllib.parse.unquote(parts[2])
        if self.command == "PUT":
            objects[key] = body
            return self.reply(200)
        if self.command == "DELETE":
            objects.pop(key, None)
            return self.reply(204)
        if self.command != "GET":
            return self.reply(405)
        if key not in objects:
            return self.reply(404, b"<Error><Code>NoSuchKey</Code></Error>")
        data = objects[key]
        rng = self.headers.get("Range")
        if rng:
            a, b = rng[len("bytes="):].split("-")
            a, b = int(a), min(int(b), len(data) - 1)
            if a >= len(data):
                return self.reply(416)
            return self.reply(206, data[a:b + 1], [("Content-Range", "bytes %d-%d/%d" % (a, b, len(data)))])
        return self.reply(200, data)

    do_GET = do_PUT = do_DELETE = do_POST = do_HEAD = handle_any


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
