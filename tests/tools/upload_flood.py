# upload_flood.py: many proof uploads at once, for t_memory_budget.sh (Debian's python3 only).
#   upload_flood.py HOST PORT TOKEN SOURCES COUNT SIZE JUNK_JOBS REAL_JOBS
# SOURCES: client addresses, comma-separated; connection i is made from SOURCES[i % len].
# JUNK_JOBS: "ID:LEASE" pairs, comma-separated; upload i (of COUNT) posts SIZE bytes of junk as
# the proof of JUNK_JOBS[i % len] (a proof that cannot verify, or a job that does not exist: the
# daemon answers only once it holds the whole body).
# REAL_JOBS: "ID:LEASE:PROOF_FILE" triples, comma-separated, each posted once with the flood.
# Every connection is opened first and then all send at once, each with http.client, which
# writes its whole body before it reads. Prints one JSON object: the answers by status, the 503s
# that had a Retry-After and named --max-buffered-bytes, the failures that were no HTTP answer,
# and each real job's status.
import http.client
import json
import sys
import threading

host, port, token, sources, count, size, junk_jobs, real_jobs = sys.argv[1:9]
port, count, size = int(port), int(count), int(size)
sources = sources.split(",")
junk = [tuple(j.split(":")) for j in junk_jobs.split(",")]
real = [tuple(r.split(":")) for r in real_jobs.split(",") if r]
junk_body = b"\x5a" * size

uploads = [(j[0], j[1], junk_body) for j in (junk[i % len(junk)] for i in range(count))]
# The real completions go among the first half of the flood, where the budget is full.
for k, (job, lease, path) in enumerate(real):
    with open(path, "rb") as f:
        uploads.insert(k * (count // 2) // max(len(real), 1), (job, lease, f.read()))

lock = threading.Lock()
statuses = {}
retry_after_503 = 0
named_503 = 0
failures = {}
real_status = {}
connected = threading.Barrier(len(uploads))


def upload(i, job, lease, body):
    global retry_after_503, named_503
    conn = http.client.HTTPConnection(host, port, timeout=60, source_address=(sources[i % len(sources)], 0))
    try:
        conn.connect()
    except OSError as e:
        connected.abort()
        with lock:
            failures["connect " + type(e).__name__] = failures.get("connect " + type(e).__name__, 0) + 1
        return
    try:
        connected.wait()
    except threading.BrokenBarrierError:
        pass
    try:
        conn.request("POST", "/proofs/%s/complete" % job, body=body, headers={
            "Authorization": "Bearer " + token, "Content-Type": "application/octet-stream", "X-WG-Lease": lease})
        resp = conn.getresponse()
        data = resp.read()
    except Exception as e:  # the failure is the result
        with lock:
            failures[type(e).__name__] = failures.get(type(e).__name__, 0) + 1
        return
    finally:
        conn.close()
    with lock:
        statuses[str(resp.status)] = statuses.get(str(resp.status), 0) + 1
        if resp.status == 503:
            retry_after_503 += resp.getheader("Retry-After", "") == "1"
            named_503 += b"--max-buffered-bytes" in data
        if len(body) != size:
            real_status[job] = resp.status


threads = [threading.Thread(target=upload, args=(i, job, lease, body)) for i, (job, lease, body) in enumerate(uploads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"uploads": len(uploads), "statuses": statuses, "retry_after_503": retry_after_503,
                  "named_503": named_503, "failures": failures, "real": real_status}, sort_keys=True))
