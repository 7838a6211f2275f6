#!/usr/bin/env python3
"""Fill a vault's .exo/vectors.sqlite with random unit vectors, one per chunk, labelled as the
built-in model's, so the cost of vector search and of the garden's similarity check can be
timed on a large generated vault without embedding it for an hour. The scores are meaningless;
the work (reading every vector, every dot product) is the same.

    python3 benches/scripts/fake_vectors.py VAULT [--seed 1]
Then set `[embed] provider = "builtin"` (or delete the [embed] section) in VAULT/exo.toml.
"""
import argparse, random, sqlite3, struct, math, pathlib

EMBEDDER = "all-MiniLM-L6-v2 (384 dims, int8-per-row, v1)"
DIMS = 384

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vault")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    exo = pathlib.Path(args.vault) / ".exo"
    hashes = [r[0] for r in sqlite3.connect(exo / "index.sqlite").execute("SELECT DISTINCT embed_hash FROM chunks")]
    rng = random.Random(args.seed)
    out = sqlite3.connect(exo / "vectors.sqlite")
    out.executescript("""
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS vectors (embed_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);""")
    out.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", (EMBEDDER,))
    rows = []
    for h in hashes:
        v = [rng.gauss(0, 1) for _ in range(DIMS)]
        n = math.sqrt(sum(x * x for x in v))
        rows.append((h, struct.pack(f"<{DIMS}f", *(x / n for x in v))))
    out.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
    out.commit()
    print(f"{len(rows)} fake vectors in {exo / 'vectors.sqlite'}")

if __name__ == "__main__":
    main()
