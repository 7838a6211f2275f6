#!/usr/bin/env python3
"""Retrieval quality of `exo search` on BEIR SciFact (train split), scored by score.py.

Copies ../shared/eval/scifact/vault to a work folder (exo writes .exo/ into the vault, and
the shared data is read-only to us), indexes it with the real binary, runs every train query
through `exo search --json` per mode, and scores the runs with ../shared/eval/score.py.

Usage (from the repository root, after `cargo build --release`):
  python3 benches/scifact/eval.py [--exo target/release/exo] [--modes bm25,hybrid]
                                  [--eval-dir ../shared/eval] [--work /tmp/exo-scifact]
                                  [--limit 100] [--max-queries N]
Prints nDCG@10 / Recall@100 per mode, and for hybrid how many queries got better or worse
than bm25 (nDCG@10 per query).
"""
import argparse, json, os, shutil, subprocess, sys, time
from pathlib import Path


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def prepare_vault(eval_dir: Path, work: Path) -> Path:
    vault = work / "vault"
    source = eval_dir / "scifact" / "vault"
    if not vault.exists():
        shutil.copytree(source, vault)
        (vault / "exo.toml").write_text("# SciFact evaluation vault (a copy)\n")
    return vault


def search_run(exo: str, vault: Path, queries, mode: str, limit: int, out: Path):
    latencies = []
    with out.open("w") as run_file:
        for qid, text in queries:
            start = time.perf_counter()
            proc = subprocess.run(
                [exo, "--vault", str(vault), "search", "--json", "--mode", mode, "--limit", str(limit), "--", text],
                capture_output=True, text=True)
            latencies.append(time.perf_counter() - start)
            if proc.returncode != 0:
                sys.exit(f"exo search failed for query {qid}: {proc.stderr.strip()}")
            hits = json.loads(proc.stdout)["hits"]
            for rank, hit in enumerate(hits, 1):
                run_file.write(f"{qid}\t{hit['path']}\t{rank}\t{hit['score']}\n")
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.95)]


def score(eval_dir: Path, run_path: Path, qrels: Path, queries_file: Path):
    proc = run([sys.executable, str(eval_dir / "score.py"), str(run_path), str(qrels),
                "--queries", str(queries_file), "--json", "--per-query"])
    lines = proc.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    per_query = {}
    for line in lines[:-1]:
        fields = line.split("\t")
        values = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        per_query[fields[0]] = float(values["nDCG@10"])
    return {"ndcg@10": summary["nDCG@10"], "recall@100": summary["Recall@100"], "per_query": per_query}


def main():
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exo", default=str(here / "target" / "release" / "exo"))
    p.add_argument("--eval-dir", default=str(here.parent / "shared" / "eval"))
    p.add_argument("--work", default="/tmp/exo-scifact")
    p.add_argument("--modes", default="bm25,hybrid")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--max-queries", type=int, default=0)
    p.add_argument("--reindex", action="store_true", help="rebuild the index even if present")
    args = p.parse_args()

    eval_dir, work = Path(args.eval_dir), Path(args.work)
    if not (eval_dir / "scifact").is_dir():
        sys.exit(f"no SciFact data at {eval_dir}/scifact (pass --eval-dir)")
    work.mkdir(parents=True, exist_ok=True)
    vault = prepare_vault(eval_dir, work)

    index_cmd = [args.exo, "--vault", str(vault), "index", "--json"] + (["--rebuild"] if args.reindex else [])
    start = time.perf_counter()
    summary = json.loads(run(index_cmd).stdout)
    print(f"index: {time.perf_counter() - start:.2f} s wall ({json.dumps(summary.get('elapsed_ms', ''))} ms reported)")

    qrels = eval_dir / "scifact" / "qrels-train.tsv"
    queries_file = eval_dir / "scifact" / "queries-train.tsv"
    queries = [line.rstrip("\n").split("\t", 1) for line in queries_file.open(encoding="utf-8") if line.strip()]
    judged = {line.split("\t")[0] for line in qrels.open(encoding="utf-8")}
    queries = [q for q in queries if q[0] in judged]
    if args.max_queries:
        queries = queries[: args.max_queries]
        queries_file = work / "queries-subset.tsv"
        queries_file.write_text("".join(f"{q}\t{t}\n" for q, t in queries), encoding="utf-8")

    per_mode = {}
    print(f"{'mode':<8} {'nDCG@10':>8} {'R@100':>8} {'p50 ms':>8} {'p95 ms':>8}  ({len(queries)} queries)")
    for mode in args.modes.split(","):
        run_path = work / f"run-{mode}.tsv"
        p50, p95 = search_run(args.exo, vault, queries, mode, args.limit, run_path)
        result = score(eval_dir, run_path, qrels, queries_file)
        per_mode[mode] = result
        print(f"{mode:<8} {result['ndcg@10']:>8.4f} {result['recall@100']:>8.4f} {p50 * 1000:>8.1f} {p95 * 1000:>8.1f}")

    if "bm25" in per_mode and "hybrid" in per_mode:
        base = per_mode["bm25"]["per_query"]
        fused = per_mode["hybrid"]["per_query"]
        better = sum(1 for q in base if fused.get(q, 0.0) > base[q] + 1e-9)
        worse = sum(1 for q in base if fused.get(q, 0.0) < base[q] - 1e-9)
        print(f"hybrid vs bm25 per query (nDCG@10): {better} better, {worse} worse")
        kept, tops, dropped, held = good_bm25_hits_kept(work / "run-bm25.tsv", work / "run-hybrid.tsv", qrels)
        print(f"bm25's relevant first hit still first in hybrid: {kept} of {tops} queries")
        print(f"relevant hits in bm25's top 10 that hybrid pushes out of its top 10: {dropped} of {held}")


def good_bm25_hits_kept(bm25_run: Path, hybrid_run: Path, qrels: Path):
    """How far fusion drags good bm25 hits down: (queries whose relevant bm25 #1 stays #1,
    queries whose bm25 #1 is relevant, relevant bm25 top-10 hits missing from hybrid's top
    10, relevant hits in bm25's top 10)."""
    relevant = {}
    for line in qrels.open(encoding="utf-8"):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 3 and parts[-1].strip().isdigit() and int(parts[-1]) > 0:
            relevant.setdefault(parts[0], set()).add(parts[1])

    def ranked(run: Path):
        lists = {}
        for line in run.open(encoding="utf-8"):
            qid, path, _rank, _score = line.rstrip("\n").split("\t")
            lists.setdefault(qid, []).append(Path(path).stem)
        return lists

    bm25, hybrid = ranked(bm25_run), ranked(hybrid_run)
    kept = tops = dropped = held = 0
    for qid, rel in relevant.items():
        first, fused = bm25.get(qid, []), hybrid.get(qid, [])
        if first and first[0] in rel:
            tops += 1
            kept += bool(fused) and fused[0] == first[0]
        good = {doc for doc in first[:10] if doc in rel}
        held += len(good)
        dropped += len(good - set(fused[:10]))
    return kept, tops, dropped, held


if __name__ == "__main__":
    main()
