#!/usr/bin/env python3
"""http_fuzz.py HOST PORT TOKEN SEED COUNT [TIMEOUT]: sends COUNT mutated HTTP requests over raw sockets.

Each case starts from a valid request of the daemon's API (with or without a valid token, with
JSON, gzip or chunked bodies) and mutates it: flipped, inserted, deleted or repeated bytes, a cut
short request, broken header lines, odd methods, paths and lengths. It prints one line per status
class seen and exits 1 if an answer is not an HTTP/1.x status line or is a 500 (a handler that
failed on its input instead of refusing it), or if the daemon neither answers nor closes the
connection within TIMEOUT seconds (default 10): a request that times out counts as a failure, so
run the daemon with a --request-timeout shorter than TIMEOUT. A reset connection or a close
without an answer is fine: the daemon may drop a broken request. Deterministic for a given SEED."""
import gzip
import random
import socket
import sys
import threading

host, port, token, seed, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
# Long enough for a loaded machine and a sanitizer build.
TIMEOUT = float(sys.argv[6]) if len(sys.argv) > 6 else 10.0

INPUT = (b'{"l1_batch_number":9,"protocol_version":24,"previous_root_hash":"0x' + b'00' * 32 +
         b'","new_root_hash":"0x' + b'00' * 32 + b'","storage_logs":[],"circuit_workload":{"main_vm":1}}')


def request(method, path, headers, body=b""):
    head = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, host, port)
    for k, v in headers:
        head += "%s: %s\r\n" % (k, v)
    if body and not any(k.lower() == "transfer-encoding" for k, _ in headers):
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body


def chunked(body):
    out = b""
    for i in range(0, len(body), 17):
        piece = body[i:i + 17]
        out += b"%x\r\n" % len(piece) + piece + b"\r\n"
    return out + b"0\r\n\r\n"


auth = [("Authorization", "Bearer " + token)]
json_ct = [("Content-Type", "application/json")]
TEMPLATES = [
    request("GET", "/healthz", []),
    request("GET", "/metrics", []),
    request("GET", "/batches", auth),
    request("GET", "/batches/9", auth),
    request("GET", "/batches/9/jobs?round=1&status=queued&limit=2&after_id=3", auth),
    request("GET", "/jobs/1/witness", auth),
    request("POST", "/jobs/claim", auth + json_ct, b'{"prover_id":"fuzz","protocol_version":24,"limit":2}'),
    request("POST", "/jobs/1/heartbeat", auth + [("X-WG-Lease", "1")]),
    request("POST", "/proofs/1/complete", auth + [("Content-Type", "application/octet-stream"), ("X-WG-Lease", "1")],
            b"WGREF1" + b"\x00" * 32),
    request("POST", "/proofs/1/fail", auth + json_ct + [("X-WG-Lease", "1")], b'{"error":"fuzz"}'),
    request("POST", "/batches/9/witness-inputs", auth + json_ct, INPUT),
    request("POST", "/batches/9/witness-inputs", auth + json_ct + [("Content-Encoding", "gzip")],
            gzip.compress(INPUT, mtime=0)),
    request("POST", "/batches/9/witness-inputs", auth + json_ct + [("Transfer-Encoding", "chunked")], chunked(INPUT)),
    request("POST", "/batches/9/requeue", auth),
    request("DELETE", "/batches/12345", auth),
]
JUNK = [b"\r\n", b"\r\n\r\n", b":", b" ", b"\x00", b"\xff", b"%", b"%00", b"/../", b"?", b"&", b"=", b"{", b"}",
        b'"', b"\\u0000", b"Content-Length: 99999999999999999999\r\n", b"Transfer-Encoding: chunked\r\n",
        b"Content-Encoding: gzip\r\n", b"X-WG-Lease: -1\r\n", b"Authorization: Bearer \r\n", b"HTTP/9.9",
        b"9" * 40, b"A" * 9000, b"GET", b"POST", b"/batches/", b"\x1f\x8b\x08\x00"]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(7)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(pos, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            data[pos:pos] = rng.choice(JUNK)
        elif op == 2:
            del data[pos:pos + rng.randint(1, 40)]
        elif op == 3:
            data = data[:pos]
        elif op == 4:
            end = min(len(data), pos + rng.randint(1, 60))
            data[pos:pos] = data[pos:end] * rng.randint(2, 20)
        elif op == 5:
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 30)))
        else:
            data[pos:pos] = rng.choice(JUNK) * rng.randint(1, 50)
    return bytes(data)


lock = threading.Lock()
seen = {}
bad = []


def run(cases):
    for n, data in cases:
        try:
            s = socket.create_connection((host, port), timeout=2)
        except OSError as e:
            with lock:
                bad.append("case %d: cannot connect: %s" % (n, e))
            return
        s.settimeout(TIMEOUT)
        answer = b""
        timed_out = False
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            while len(answer) < 65536:
                got = s.recv(65536)
                if not got:
                    break
                answer += got
        except socket.timeout:
            timed_out = True
        except OSError:
            pass  # reset: the daemon may drop a broken request; only its answers are judged
        finally:
            s.close()
        with lock:
            if timed_out:
                seen["timeout"] = seen.get("timeout", 0) + 1
                bad.append("case %d: no answer and no close within %g s for %r (got %r)" %
                           (n, TIMEOUT, data[:200], answer[:120]))
                continue
            if not answer:
                seen["none"] = seen.get("none", 0) + 1
                continue
            line = answer.split(b"\r\n", 1)[0]
            parts = line.split(b" ")
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
                bad.append("case %d: not a status line: %r" % (n, line[:80]))
                continue
            code = int(parts[1])
            seen["%dxx" % (code // 100)] = seen.get("%dxx" % (code // 100), 0) + 1
            if code == 500:
                bad.append("case %d: 500 for %r: %r" % (n, data[:200], answer[:300]))


rng = random.Random(seed)
cases = [(n, mutate(rng, rng.choice(TEMPLATES))) for n in range(count)]
threads = [threading.Thread(target=run, args=(cases[i::8],)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for k in sorted(seen):
    print("# %s: %d" % (k, seen[k]))
for b in bad[:10]:
    print("FAIL " + b)
sys.exit(1 if bad else 0)
