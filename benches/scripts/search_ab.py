#!/usr/bin/env python3
"""Whole-process `exo search` latency of two builds (or two vaults), A and B alternating run by
run so a drift of a shared machine hits both: p50 and p90 per mode, with the 1-minute load
average before and after. Model load, the freshness check and process start are included.

    python3 benches/scripts/search_ab.py --a EXO_A:VAULT_A --b EXO_B:VAULT_B \
        [--modes hybrid,vector] [--rounds 5]

Each side is `binary:vault`; the vaults should hold the same notes (a copy indexed by each
build, when the builds' index files differ). To share one large vault, `--place-a SRC:DEST`
(and `--place-b`) puts a file in place, untimed, before each of that side's runs: a hard link
of SRC renamed over DEST, e.g. each build's own `.exo/vectors.flat` for the same index state.
"""
import argparse, os, resource, statistics, subprocess, time

QUERIES = ["notes about memory", "spaced repetition", "graph of links between topics",
           "weekly review habit", "how does compression work"]


def place(spec):
    """Puts SRC at DEST (`SRC:DEST`) by a hard link and a rename; nothing when spec is None."""
    if spec:
        src, dest = spec.split(":", 1)
        tmp = dest + ".placing"
        if os.path.exists(tmp):
            os.remove(tmp)
        os.link(src, tmp)
        os.replace(tmp, dest)


def run_once(exo, vault, mode, query, placing=None):
    """(wall ms, CPU ms of the process on all its threads)."""
    place(placing)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([exo, "--vault", vault, "search", "--json", "--mode", mode, "--", query],
                   stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--modes", default="hybrid,vector")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--place-a")
    p.add_argument("--place-b")
    args = p.parse_args()
    sides = {"A": args.a.split(":", 1), "B": args.b.split(":", 1)}
    placing = {"A": args.place_a, "B": args.place_b}
    for mode in args.modes.split(","):
        load_before = os.getloadavg()[0]
        for name, (exo, vault) in sides.items():
            run_once(exo, vault, mode, "warm up", placing[name])
        times = {name: [] for name in sides}
        for _ in range(args.rounds):
            for query in QUERIES:
                for name, (exo, vault) in sides.items():
                    times[name].append(run_once(exo, vault, mode, query, placing[name]))
        load_after = os.getloadavg()[0]
        for name, (exo, vault) in sides.items():
            t = sorted(wall for wall, _ in times[name])
            cpu = statistics.median(cpu for _, cpu in times[name])
            print(f"{mode:<7} {name} p50 {statistics.median(t):6.1f} ms  p90 {t[int(len(t) * 0.9)]:6.1f} ms  "
                  f"CPU p50 {cpu:6.1f} ms  ({len(t)} runs; {exo} on {vault})")
        print(f"{mode:<7} load average {load_before:.2f} -> {load_after:.2f}")


if __name__ == "__main__":
    main()
