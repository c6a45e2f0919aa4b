#!/usr/bin/env python3
"""Launch time and idle memory of Tauri apps, measured the same way for each (bench/desktop.sh runs it).

    desktop_measure.py --runs 3 --idle 10 --out FILE  NAME=BINARY=CSS_SELECTOR ...

Needs DISPLAY (Xvfb), a session bus (dbus-run-session), tauri-driver and WebKitWebDriver. Standard
library only.

Per app and run, one WebDriver session through tauri-driver launches the app:

* **launch -> first view**: from the app process's start (its `starttime` in /proc/<pid>/stat,
  CLOCK_BOOTTIME) until the page shows the app's first view. The script polls the page for
  SELECTOR (every ~10 ms) and, once it exists, waits for two animation frames inside the page
  (`requestAnimationFrame` twice: the frame with the element has been painted). The stop time is
  taken when that answer arrives, so one WebDriver round trip (a few ms) is included; nothing of
  the session set-up before the process starts is.
* **idle memory**: after IDLE seconds without WebDriver traffic, PSS summed over the app process and
  all its descendants (WebKit's web and network processes), from /proc/<pid>/smaps_rollup. PSS
  splits shared pages between processes, so the sum does not count shared libraries three times.

The first round is a warm-up (a fresh database for the app is created then, caches fill) and is
reported separately as "first launch"; the figures are the medians of the following rounds. Apps
alternate within a round.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CLK_TCK = os.sysconf("SC_CLK_TCK")


def now_boottime():
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, timeout=60):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def proc_stat(pid):
    """(ppid, starttime in seconds since boot) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), int(fields[19]) / CLK_TCK


def processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def find_app_pid(binary, not_before):
    """The newest process running BINARY that started after NOT_BEFORE (seconds since boot)."""
    real = os.path.realpath(binary)
    best = None
    for pid in processes():
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            continue
        if exe != real:
            continue
        stat = proc_stat(pid)
        if stat and stat[1] >= not_before - 0.05 and (best is None or stat[1] > best[1]):
            best = (pid, stat[1])
    return best


def descendants(root):
    children = {}
    for pid in processes():
        stat = proc_stat(pid)
        if stat:
            children.setdefault(stat[0], []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def pss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def comm(pid):
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def measure_once(driver_url, name, binary, selector, idle):
    capabilities = {"tauri:options": {"application": binary}}
    requested = now_boottime()
    status, answer = request("POST", f"{driver_url}/session",
                             {"capabilities": {"alwaysMatch": capabilities}, "desiredCapabilities": capabilities},
                             timeout=120)
    if status != 200:
        raise RuntimeError(f"{name}: WebDriver session refused ({status}): {answer}")
    session = answer["value"]["sessionId"]
    base = f"{driver_url}/session/{session}"
    app = None
    try:
        app = find_app_pid(binary, requested)
        if app is None:
            raise RuntimeError(f"{name}: no process of {binary} found after the session started")
        pid, started = app
        deadline = time.monotonic() + 60
        while True:
            status, _ = request("POST", f"{base}/element", {"using": "css selector", "value": selector})
            if status == 200:
                break
            if time.monotonic() > deadline:
                _, page = request("POST", f"{base}/execute/sync",
                                  {"script": "return document.body ? document.body.innerText.slice(0, 300) : ''",
                                   "args": []})
                raise RuntimeError(f"{name}: {selector} did not appear within 60 s; page: {page}")
            time.sleep(0.01)
        found = now_boottime()
        request("POST", f"{base}/execute/async", {
            "script": "const done = arguments[arguments.length - 1];"
                      "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
            "args": []})
        painted = now_boottime()

        time.sleep(idle)
        pids = descendants(pid)
        per_process = {}
        for p in pids:
            per_process.setdefault(comm(p), 0)
            per_process[comm(p)] += pss_kib(p)
        total = sum(per_process.values())
        return {
            "app": name,
            "pid": pid,
            "first_view_s": round(painted - started, 3),
            "element_found_s": round(found - started, 3),
            "session_overhead_before_spawn_s": round(started - requested, 3),
            "pss_mib": round(total / 1024, 1),
            "pss_mib_by_process": {k: round(v / 1024, 1) for k, v in sorted(per_process.items())},
            "processes": len(pids),
        }
    finally:
        try:
            request("DELETE", base, timeout=30)
        finally:
            # The app ends with its session. WebKitWebDriver 2.50 sometimes crashes when the next
            # session starts while the last app is still exiting: wait for it to be gone.
            deadline = time.monotonic() + 15
            while app and proc_stat(app[0]) and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.5)


class TauriDriver:
    """tauri-driver on free ports, with WebKitWebDriver behind it; stopped with SIGTERM (SIGKILL would
    orphan WebKitWebDriver and the app)."""

    def __init__(self, program, env, home, log):
        port, native_port = free_port(), free_port()
        self.process = subprocess.Popen([program, "--port", str(port), "--native-port", str(native_port)],
                                        env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        # tauri-driver listens at once; the WebKitWebDriver behind it a moment later. A session
        # request before both answer is dropped.
        for listening in (port, native_port):
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", listening), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("apps", nargs="+", help="NAME=BINARY=CSS_SELECTOR")
    parser.add_argument("--runs", type=int, default=3, help="measured rounds after the warm-up round")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of idle before reading memory")
    parser.add_argument("--out", type=Path, help="write all results as JSON here")
    parser.add_argument("--tauri-driver", default=shutil.which("tauri-driver") or os.path.expanduser(
        "~/.cargo/bin/tauri-driver"))
    args = parser.parse_args()

    apps = []
    for spec in args.apps:
        name, binary, selector = spec.split("=", 2)
        if not os.path.isfile(binary):
            sys.exit(f"{name}: {binary} does not exist")
        apps.append((name, os.path.realpath(binary), selector))
    if not os.environ.get("DISPLAY"):
        sys.exit("DISPLAY is not set: run under Xvfb (bench/desktop.sh does)")

    home = Path(tempfile.mkdtemp(prefix="zk-desktop-bench-"))
    # A clean environment; WEBKIT_*, JSC_* and ZK_DESKTOP_* pass through, to compare WebKit settings
    # (e.g. WEBKIT_DISABLE_COMPOSITING_MODE=1 bench/desktop.sh) and the app's own
    # (ZK_DESKTOP_COMPOSITING=gpu bench/desktop.sh).
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")
           or k.startswith(("WEBKIT_", "JSC_", "ZK_DESKTOP_"))}
    env.update({"HOME": str(home), "LANG": "C.UTF-8", "ZK_DATA_DIR": str(home / "data"), "LOG_LEVEL": "warn"})
    log = open(home / "tauri-driver.log", "ab")
    driver = TauriDriver(args.tauri_driver, env, home, log)
    results = []
    try:
        for round_number in range(args.runs + 1):
            order = apps if round_number % 2 == 0 else list(reversed(apps))
            for name, binary, selector in order:
                for attempt in (1, 2):
                    try:
                        result = measure_once(driver.url, name, binary, selector, args.idle)
                        break
                    except (OSError, http.client.HTTPException) as error:
                        # The WebDriver connection broke (WebKitWebDriver crashed): once, start over.
                        if attempt == 2:
                            raise
                        print(f"  {name}: the WebDriver connection broke ({error!r}); restarting the driver",
                              flush=True)
                        driver.stop()
                        driver = TauriDriver(args.tauri_driver, env, home, log)
                result["round"] = round_number
                result["warm_up"] = round_number == 0
                results.append(result)
                print(f"  round {round_number}{' (warm-up)' if round_number == 0 else ''}: {name:>6}: "
                      f"first view {result['first_view_s']:.3f} s, PSS {result['pss_mib']:.1f} MiB "
                      f"over {result['processes']} processes {result['pss_mib_by_process']}", flush=True)
    finally:
        driver.stop()
        log.close()

    summary = {}
    for name, _, _ in apps:
        measured = [r for r in results if r["app"] == name and not r["warm_up"]]
        first = next(r for r in results if r["app"] == name and r["warm_up"])
        summary[name] = {
            "first_view_s_median": round(statistics.median(r["first_view_s"] for r in measured), 3),
            "first_view_s_all": [r["first_view_s"] for r in measured],
            "pss_mib_median": round(statistics.median(r["pss_mib"] for r in measured), 1),
            "pss_mib_all": [r["pss_mib"] for r in measured],
            "first_launch_first_view_s": first["first_view_s"],
            "first_launch_pss_mib": first["pss_mib"],
        }
    print()
    print(f"  {'binary':>8}  {'launch -> first view (median)':>30}  {'PSS after ' + str(int(args.idle)) + ' s idle (median)':>30}")
    for name, s in summary.items():
        print(f"  {name:>8}  {s['first_view_s_median']:>28.3f} s  {s['pss_mib_median']:>26.1f} MiB")
    if len(apps) == 2:
        (a, _, _), (b, _, _) = apps
        ratio = summary[a]["pss_mib_median"] / summary[b]["pss_mib_median"]
        summary["pss_ratio"] = round(ratio, 3)
        print(f"  PSS {a} / {b}: {ratio:.2f}x (target <= 1.15x); {a} first view "
              f"{summary[a]['first_view_s_median']:.3f} s (target < 1.5 s)")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"summary": summary, "runs": results}, indent=2) + "\n")
        print(f"  results: {args.out}")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
