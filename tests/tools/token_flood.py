#!/usr/bin/env python3
"""token_flood.py URL VALID_TOKEN [--requests N] [--seconds S] [--threads T] [--probe-path PATH]

Sends N requests with random unknown bearer tokens to URL + "/batches" over S seconds, from T
threads on keep-alive connections, while a process of its own sends a request with VALID_TOKEN
every 20 ms. Prints one JSON line: how many flood requests were answered 401, and the valid requests'
count, statuses and latency percentiles (ms). Used by t_token_flood.sh.
"""
import argparse
import http.client
import json
import multiprocessing
import secrets
import threading
import time
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def get(conn_box, url, path, token):
    """GET path with a bearer token on a kept-alive connection; reconnects once if it broke."""
    for attempt in (1, 2):
        try:
            conn_box[0].request("GET", path, headers={"Authorization": "Bearer " + token})
            r = conn_box[0].getresponse()
            r.read()
            return r.status
        except (http.client.HTTPException, OSError):
            conn_box[0].close()
            conn_box[0] = connect(url)
            if attempt == 2:
                return 0
    return 0


def probe(url, path, token, stop, results):
    """Sends a request with the valid token every 20 ms until stop; puts (latencies, statuses)."""
    box = [connect(url)]
    latencies = []
    statuses = {}
    while not stop.is_set():
        t0 = time.monotonic()
        s = get(box, url, path, token)
        latencies.append((time.monotonic() - t0) * 1000.0)
        statuses[s] = statuses.get(s, 0) + 1
        time.sleep(0.02)
    box[0].close()
    results.put((latencies, statuses))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("valid_token")
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--probe-path", default="/batches")
    args = ap.parse_args()

    start = time.monotonic()
    stop = multiprocessing.Event()
    flood_status = {}
    lock = threading.Lock()

    def flood(k):
        box = [connect(args.url)]
        mine = args.requests // args.threads + (1 if k < args.requests % args.threads else 0)
        interval = args.seconds / max(mine, 1)
        counts = {}
        for i in range(mine):
            # Paced: request i of this thread goes out no earlier than its slot.
            delay = start + i * interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            token = "wgt_" + secrets.token_hex(32)
            s = get(box, args.url, "/batches", token)
            counts[s] = counts.get(s, 0) + 1
        box[0].close()
        with lock:
            for s, n in counts.items():
                flood_status[s] = flood_status.get(s, 0) + n

    # The probe runs in a process of its own, so that the flood threads' share of the Python
    # interpreter does not count as the daemon's latency.
    results = multiprocessing.Queue()
    p = multiprocessing.Process(target=probe, args=(args.url, args.probe_path, args.valid_token, stop, results))
    p.start()
    threads = [threading.Thread(target=flood, args=(k,)) for k in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    stop.set()
    latencies, probe_status = results.get()
    p.join()

    latencies.sort()

    def pct(q):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    print(json.dumps({
        "flood_requests": sum(flood_status.values()),
        "flood_status": {str(k): v for k, v in sorted(flood_status.items())},
        "flood_seconds": round(elapsed, 2),
        "valid_requests": len(latencies),
        "valid_status": {str(k): v for k, v in sorted(probe_status.items())},
        "valid_p50_ms": pct(0.50),
        "valid_p99_ms": pct(0.99),
        "valid_max_ms": pct(1.0),
    }))


if __name__ == "__main__":
    main()
