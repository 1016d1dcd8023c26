# edge_clients.py: hostile and plain HTTP clients for t_edge.sh, on Debian's python3 only.
#   refused HOST PORT METHOD PATH CONTENT_TYPE TOKEN SIZE
#       sends SIZE body bytes with http.client (which writes the whole body before it reads) and
#       prints "STATUS CODE" of the JSON error, or "EXC NAME" when the request itself failed.
#   slow HOST PORT SOURCE_IP STALLED DRIPPING SECONDS
#       keeps STALLED clients that send half a request line and nothing more, and DRIPPING ones
#       that send a header byte every second, reconnecting each one the server closes, for
#       SECONDS; prints JSON: connections made and the longest a closed one lived.
#   hold HOST PORT SOURCE_IP N SECONDS
#       opens N idle connections and prints how many the server has closed after SECONDS.
import http.client
import json
import socket
import sys
import time


def refused(host, port, method, path, ctype, token, size):
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    body = b"{" + b" " * (int(size) - 2) + b"}"
    headers = {"Content-Type": ctype, "Authorization": "Bearer " + token}
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        print(resp.status, json.loads(data)["error"]["code"])
    except Exception as e:  # the failure is the result
        print("EXC", type(e).__name__)


def connect(host, port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect((host, int(port)))
    s.setblocking(False)
    return s


def closed_by_server(s):
    try:
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def slow(host, port, source, stalled, dripping, seconds):
    stalled, dripping, seconds = int(stalled), int(dripping), float(seconds)
    clients = []  # [socket, kind, opened_at]
    made = 0
    longest = 0.0
    start = time.monotonic()

    def open_one(kind):
        nonlocal made
        s = connect(host, port, source)
        s.send(b"POST /jobs/claim HTT" if kind == "stall" else b"POST /jobs/claim HTTP/1.1\r\nX-Slow: ")
        made += 1
        return [s, kind, time.monotonic()]

    for i in range(stalled + dripping):
        clients.append(open_one("stall" if i < stalled else "drip"))
    last_drip = time.monotonic()
    while time.monotonic() - start < seconds:
        drip = time.monotonic() - last_drip >= 1.0
        if drip:
            last_drip = time.monotonic()
        for c in clients:
            dead = closed_by_server(c[0])
            if not dead and drip and c[1] == "drip":
                try:
                    c[0].send(b"a")
                except OSError:
                    dead = True
            if dead:
                longest = max(longest, time.monotonic() - c[2])
                c[0].close()
                c[:] = open_one(c[1])
        time.sleep(0.1)
    alive = max([time.monotonic() - c[2] for c in clients] + [0])
    print(json.dumps({"made": made, "longest_closed": round(longest, 2), "oldest_open": round(alive, 2)}))


def hold(host, port, source, n, seconds):
    socks = [connect(host, port, source) for _ in range(int(n))]
    time.sleep(float(seconds))
    print(sum(1 for s in socks if closed_by_server(s)))


if __name__ == "__main__":
    {"refused": refused, "slow": slow, "hold": hold}[sys.argv[1]](*sys.argv[2:])
