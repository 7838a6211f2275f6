#!/usr/bin/env python3
"""Whole-process `exo search` latency on a vault: p50 and p90 over a few queries, each run
several times, the way the issue's "p50 under 80 ms on 10k notes and under 200 ms on 100k
notes" is measured. Model load, the freshness check and process start are all included.

    python3 benches/scripts/search_p50.py --vault PATH [--mode hybrid] [--rounds 5]
"""
import argparse, statistics, subprocess, time
from pathlib import Path

QUERIES = ["notes about memory", "spaced repetition", "graph of links between topics",
           "weekly review habit", "how does compression work"]


def main():
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exo", default=str(here / "target" / "release" / "exo"))
    p.add_argument("--vault", required=True)
    p.add_argument("--mode", default="hybrid")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    times = []
    for _ in range(args.rounds):
        for query in QUERIES:
            start = time.perf_counter()
            subprocess.run([args.exo, "--vault", args.vault, "search", "--json", "--mode", args.mode, "--", query],
                           stdout=subprocess.DEVNULL, check=True)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(f"{args.mode}: p50 {statistics.median(times):.1f} ms, p90 {times[int(len(times) * 0.9)]:.1f} ms "
          f"over {len(times)} runs")


if __name__ == "__main__":
    main()
