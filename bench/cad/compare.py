#!/usr/bin/env python3
"""Times three DXF readers on the same files: zk-cad (read, and read + facts), the `dxf` crate 0.6.2
(Drawing::load) and ezdxf (readfile). Each file is read best-of-N times by each reader; the table
gives totals, medians and how many files each reader could not open.

Usage (from the repository root; see bench/cad/README.md):
    pip install ezdxf==1.4.5
    python3 bench/cad/compare.py [--reps 3] [--big /tmp/big.dxf] [--cli PATH/zk-agent] [CORPUS_DIR]

zk-cad and the dxf crate are timed by the example binary `compare_readers` (built here in release
mode) on bytes already in memory; ezdxf is timed in this process on `ezdxf.readfile(path)` after a
first read has put the file in the page cache. With `--cli`, every file also goes through the command
`zk-agent cad info FILE --json` (a process per file: start-up, reading the file, the facts as JSON on
stdout), best of N, against the same library baselines.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def build_and_run_rust(files, reps, with_dxf=True):
    target = os.environ.get("CARGO_TARGET_DIR", "/var/cache/zk-agent/target-cad")
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "zk-cad", "--example", "compare_readers"], cwd=ROOT, env=env, check=True)
    binary = os.path.join(target, "release", "examples", "compare_readers")
    args = [binary, "--reps", str(reps)] + ([] if with_dxf else ["--no-dxf"]) + files
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    rows = {}
    for line in out.stdout.splitlines()[1:]:
        path, size, zk_read, zk_facts, zk_status, dxf_s, dxf_status = line.split("\t")
        rows[path] = dict(size=int(size), zk_read=float(zk_read), zk_facts=float(zk_facts), zk_status=zk_status,
                          dxf=float(dxf_s), dxf_status=dxf_status)
    return rows, out.stderr


def time_ezdxf(path, reps):
    import ezdxf
    best, status = float("inf"), "ok"
    with open(path, "rb") as f:
        f.read()  # page cache
    for _ in range(reps):
        started = time.perf_counter()
        try:
            ezdxf.readfile(path)
        except Exception:  # noqa: BLE001 - any failure counts as "not opened"
            status = "error"
        best = min(best, time.perf_counter() - started)
    return best, status


def time_cli(binary, path, reps):
    """Wall time of `zk-agent cad info FILE --json` as a process, best of `reps`; the exit status."""
    best, status = float("inf"), "ok"
    for _ in range(reps):
        started = time.perf_counter()
        done = subprocess.run([binary, "cad", "info", path, "--json"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=dict(os.environ, LOG_LEVEL="error"))
        best = min(best, time.perf_counter() - started)
        if done.returncode != 0:
            status = f"exit {done.returncode}"
    return best, status


def dxf_files(root):
    found = []
    for dirpath, _, names in os.walk(root):
        found += [os.path.join(dirpath, n) for n in names if n.lower().endswith(".dxf")]
    return sorted(found)


def summary(name, times, failed):
    return f"| {name} | {sum(times):.3f} | {statistics.median(times) * 1e3:.3f} | {failed} |"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", default=os.path.join(ROOT, "..", "shared", "cad-corpus"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--big", help="also time the large drawing from make_big.py (ezdxf takes minutes)")
    parser.add_argument("--cli", help="the zk-agent binary (a release build): time `cad info --json` per file")
    args = parser.parse_args()

    import ezdxf
    import logging
    logging.disable(logging.CRITICAL)  # ezdxf logs every repair it makes

    files = dxf_files(args.corpus)
    rust, rust_summary = build_and_run_rust(files, args.reps)
    ez = {}
    for path in files:
        ez[path] = time_ezdxf(path, args.reps)
    cli = {path: time_cli(args.cli, path, args.reps) for path in files} if args.cli else {}

    zk_read = [rust[p]["zk_read"] for p in files]
    zk_facts = [rust[p]["zk_facts"] for p in files]
    dxf_load = [rust[p]["dxf"] for p in files]
    ez_times = [ez[p][0] for p in files]
    print(f"{len(files)} DXF files from {os.path.relpath(args.corpus, ROOT)}, best of {args.reps} runs per file and reader, ezdxf {ezdxf.__version__}\n")
    print("| reader | total s | median ms | files not opened |")
    print("|---|---:|---:|---:|")
    print(summary("zk-cad read", zk_read, sum(rust[p]["zk_status"] != "ok" for p in files)))
    print(summary("zk-cad read + facts (`cad info`)", zk_facts, sum(rust[p]["zk_status"] != "ok" for p in files)))
    dxf_failed = sum(rust[p]["dxf_status"] != "ok" for p in files)
    dxf_panics = sum(rust[p]["dxf_status"] == "panic" for p in files)
    print(summary(f"dxf 0.6.2 Drawing::load ({dxf_panics} panics)", dxf_load, dxf_failed))
    print(summary("ezdxf readfile", ez_times, sum(ez[p][1] != "ok" for p in files)))
    if cli:
        cli_times = [cli[p][0] for p in files]
        print(summary("`zk-agent cad info --json` (a process per file)", cli_times, sum(cli[p][1] != "ok" for p in files)))
    print()
    if cli:
        print(f"dxf crate / `zk-agent cad info`: total {sum(dxf_load) / sum(cli_times):.1f}x, median {statistics.median(dxf_load) / statistics.median(cli_times):.1f}x")
        print(f"ezdxf / `zk-agent cad info`:     total {sum(ez_times) / sum(cli_times):.1f}x, median {statistics.median(ez_times) / statistics.median(cli_times):.1f}x")
    print(f"dxf crate / zk-cad (read + facts): total {sum(dxf_load) / sum(zk_facts):.1f}x, median {statistics.median(dxf_load) / statistics.median(zk_facts):.1f}x")
    print(f"ezdxf / zk-cad (read + facts):     total {sum(ez_times) / sum(zk_facts):.1f}x, median {statistics.median(ez_times) / statistics.median(zk_facts):.1f}x")

    if args.big:
        big, _ = build_and_run_rust([args.big], 1)
        row = big[args.big]
        ez_big, ez_status = time_ezdxf(args.big, 1)
        print(f"\n{args.big} ({row['size'] / 1e6:.1f} MB), one run each:")
        print(f"  zk-cad read {row['zk_read']:.2f} s, read + facts {row['zk_facts']:.2f} s")
        print(f"  dxf crate {row['dxf']:.2f} s ({row['dxf_status']}); ezdxf {ez_big:.2f} s ({ez_status})")
        print(f"  ezdxf / zk-cad (read + facts): {ez_big / row['zk_facts']:.0f}x; dxf / zk-cad: {row['dxf'] / row['zk_facts']:.1f}x")


if __name__ == "__main__":
    sys.exit(main())
