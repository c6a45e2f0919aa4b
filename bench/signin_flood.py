#!/usr/bin/env python3
"""A sign-in flood against a running `zk-agent serve` on 127.0.0.1 (issue 12 item 1).

N clients (threads, one keep-alive connection each) post sign-ins with made-up user names for a
fixed time; meanwhile the owner signs in once a second from their own client (with the device
cookie of an earlier sign-in), and the server's memory is sampled from /proc. Prints one JSON line.

    bench/signin_flood.py --port 3000 --pid 1234 --clients 16 --seconds 15 \
        --owner bench --password '...'

Loopback only; every loop is bounded by the deadline, and the flood stops early when the server's
RSS passes --rss-limit-mib (the unbounded server of before reached 9 GB; the machine is shared).
"""

import argparse
import http.client
import json
import statistics
import threading
import time
import uuid


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def post(conn, path, body, cookie=None):
    headers = {"content-type": "application/json"}
    if cookie:
        headers["cookie"] = cookie
    conn.request("POST", path, body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    response.read()
    return response.status, response.getheader("set-cookie"), response.getheader("retry-after")


def flooder(port, deadline, counts, lock, stop):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    local = {}
    while time.monotonic() < deadline and not stop.is_set():
        name = "nobody-" + uuid.uuid4().hex[:12]
        try:
            status, _, _ = post(conn, "/api/auth/login", {"username": name, "password": "guess guess guess"})
        except (OSError, http.client.HTTPException):
            status = "error"
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        local[status] = local.get(status, 0) + 1
    conn.close()
    with lock:
        for status, n in local.items():
            counts[status] = counts.get(status, 0) + n


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--owner", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--rss-limit-mib", type=float, default=4096)
    args = parser.parse_args()

    owner = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
    credentials = {"username": args.owner, "password": args.password}
    status, set_cookie, _ = post(owner, "/api/auth/login", credentials)
    assert status == 200, f"the owner signs in before the flood: {status}"
    cookie = set_cookie.split(";")[0] if set_cookie else None

    rss_before = rss_kib(args.pid, "VmRSS")
    counts, lock = {}, threading.Lock()
    start = time.monotonic()
    deadline = start + args.seconds
    stop, guard = threading.Event(), {"peak": rss_before, "stopped_at_s": None}

    def sampler():
        while time.monotonic() < deadline and not stop.is_set():
            rss = rss_kib(args.pid, "VmRSS")
            guard["peak"] = max(guard["peak"], rss)
            if rss / 1024 > args.rss_limit_mib:
                guard["stopped_at_s"] = round(time.monotonic() - start, 1)
                stop.set()
            time.sleep(0.1)

    threads = [
        threading.Thread(target=flooder, args=(args.port, deadline, counts, lock, stop), daemon=True)
        for _ in range(args.clients)
    ]
    threading.Thread(target=sampler, daemon=True).start()
    for thread in threads:
        thread.start()

    owner_ms, owner_statuses, peak_rss = [], {}, rss_before
    time.sleep(1)
    while time.monotonic() < deadline - 0.5 and not stop.is_set():
        began = time.monotonic()
        try:
            status, _, _ = post(owner, "/api/auth/login", credentials, cookie)
        except (OSError, http.client.HTTPException):
            status = "error"
            owner.close()
            owner = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        owner_ms.append((time.monotonic() - began) * 1000)
        owner_statuses[status] = owner_statuses.get(status, 0) + 1
        peak_rss = max(peak_rss, rss_kib(args.pid, "VmRSS"))
        stop.wait(max(0.0, 1.0 - (time.monotonic() - began)))
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.monotonic() - start
    time.sleep(2)

    answered = sum(n for status, n in counts.items() if status != "error")
    print(
        json.dumps(
            {
                "clients": args.clients,
                "seconds": round(elapsed, 1),
                "statuses": {str(k): v for k, v in sorted(counts.items(), key=str)},
                "answers_per_s": round(answered / elapsed, 1),
                "checked_per_s": round(counts.get(401, 0) / elapsed, 1),
                "owner_statuses": {str(k): v for k, v in owner_statuses.items()},
                "owner_ms_median": round(statistics.median(owner_ms), 1) if owner_ms else None,
                "owner_ms_max": round(max(owner_ms), 1) if owner_ms else None,
                "rss_before_mib": round(rss_before / 1024, 1),
                "rss_after_mib": round(rss_kib(args.pid, "VmRSS") / 1024, 1),
                "peak_rss_mib": round(max(peak_rss, guard["peak"], rss_kib(args.pid, "VmHWM")) / 1024, 1),
                "stopped_by_rss_limit_at_s": guard["stopped_at_s"],
            }
        )
    )


if __name__ == "__main__":
    main()
