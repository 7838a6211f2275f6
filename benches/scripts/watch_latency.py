#!/usr/bin/env python3
"""`exo watch` figures on a vault: write-to-Synced latency (p50, p99), CPU while idle, peak RSS.

Latency is from just before a note is written to the moment the watch's `--json` line for the
reconcile that took it arrives (the line comes after the reconcile committed, the vectors were
filled and the status was checked, so it is an upper bound on when `exo status` says Synced).
Writes alternate between appending to an existing note and creating a new one, a pause apart
so each is its own batch. Idle CPU is utime+stime from /proc/<pid>/stat over --idle seconds
with nothing written; peak RSS is VmHWM from /proc/<pid>/status. The notes it adds live in
`watch-bench/` and are removed afterwards (the watch indexes the removal too).

    cargo run --release -p exo-bench -- gen --notes 10000 --out /tmp/v10k
    cargo build --release -p exo-cli
    python3 benches/scripts/watch_latency.py --vault /tmp/v10k [--rounds 100] [--idle 60]

Generated vaults have vectors off (`[embed] provider = "none"`); drop that line and run
`exo index` once first to include embedding a changed note in the latency. Linux only (/proc).
"""
import argparse, json, os, queue, signal, statistics, subprocess, threading, time
from pathlib import Path


def reader(stream, lines):
    for raw in stream:
        lines.put((time.perf_counter(), raw))
    lines.put((time.perf_counter(), None))


def next_event(lines, kind, timeout):
    deadline = time.perf_counter() + timeout
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            raise SystemExit(f"no {kind} event within {timeout} s")
        at, raw = lines.get(timeout=left)
        if raw is None:
            raise SystemExit("exo watch ended")
        event = json.loads(raw)
        if event["event"] == "reconcile_failed":
            raise SystemExit(f"reconcile failed: {event}")
        if event["event"] == kind:
            return at, event


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exo", default=str(here / "target" / "release" / "exo"))
    p.add_argument("--vault", required=True)
    p.add_argument("--rounds", type=int, default=100)
    p.add_argument("--pause", type=float, default=0.5, help="seconds between writes")
    p.add_argument("--idle", type=float, default=60, help="seconds of idle to measure CPU over")
    args = p.parse_args()
    vault = Path(args.vault).resolve()
    subprocess.run([args.exo, "--vault", vault, "index", "--quiet"], check=True)

    watch = subprocess.Popen([args.exo, "--vault", vault, "watch", "--json"], stdout=subprocess.PIPE, text=True)
    lines = queue.Queue()
    threading.Thread(target=reader, args=(watch.stdout, lines), daemon=True).start()
    next_event(lines, "watching", 60)
    _, start = next_event(lines, "reconciled", 600)
    print(f"watching {vault}: {start['notes']} notes, start reconcile {start['elapsed_ms']} ms")

    folder = vault / "watch-bench"
    folder.mkdir(exist_ok=True)
    existing = folder / "appended.md"
    existing.write_text("# Appended\n\nA note the benchmark appends to.\n")
    next_event(lines, "reconciled", 60)

    latencies, in_loop = [], []
    for i in range(args.rounds):
        time.sleep(args.pause)
        written = time.perf_counter()
        if i % 2:
            (folder / f"new-{i:04}.md").write_text(f"# New {i}\n\nWritten by the watch benchmark, round {i}.\n")
        else:
            with existing.open("a") as f:
                f.write(f"\nLine {i}, appended by the watch benchmark.\n")
        at, event = next_event(lines, "reconciled", 60)
        if event["status"] != "Synced":
            raise SystemExit(f"round {i} ended {event['status']}: {event}")
        latencies.append((at - written) * 1000)
        in_loop.append(event["elapsed_ms"])

    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    next_event(lines, "reconciled", 60)

    before = cpu_seconds(watch.pid)
    time.sleep(args.idle)
    idle = cpu_seconds(watch.pid) - before
    rss = peak_rss_mib(watch.pid)
    watch.send_signal(signal.SIGTERM)
    code = watch.wait(timeout=60)

    print(f"write-to-Synced over {len(latencies)} writes: p50 {statistics.median(latencies):.0f} ms, "
          f"p99 {percentile(latencies, 99):.0f} ms (reconcile + vectors + status in the loop: "
          f"p50 {statistics.median(in_loop):.0f} ms)")
    print(f"idle CPU over {args.idle:.0f} s: {idle:.3f} s ({100 * idle / args.idle:.2f}% of a core)")
    print(f"peak RSS: {rss:.1f} MiB; exit after SIGTERM: {code}")


if __name__ == "__main__":
    main()
