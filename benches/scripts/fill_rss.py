#!/usr/bin/env python3
"""Peak memory of a whole vector fill from zero on a big vault, without hours of model time.

The built-in model embeds ~70 chunks a second on two cores, so a real fill of a 100k-note
vault (338k chunks) takes hours. The fill's own machinery — which chunks lack a vector, the
texts read per batch, the store writes, the flat file laid out — does not depend on which
embedder answers. So this script serves an OpenAI-compatible `/v1/embeddings` on 127.0.0.1
that answers with a deterministic unit vector per text (blake2b of the text, at 384 dims),
points the vault's `[embed]` at it and times `exo index` from an index with text and graph
but no vectors, under `/usr/bin/time -v`. The model's own share of a real fill is measured
apart: `exo-bench embed` at the same batch size (its peak RSS is weights + one batch).

    cargo run --release -p exo-bench -- gen --notes 100000 --out /tmp/f100k
    cargo build --release -p exo-cli
    python3 benches/scripts/fill_rss.py --vault /tmp/f100k [--exo target/release/exo]

The vault is indexed first with vectors off (text and graph, not timed), then the fill runs
with the fake server. It prints wall time, peak RSS, chunks embedded and requests served.
"""
import argparse, hashlib, http.server, json, struct, subprocess, threading, time
from pathlib import Path

DIMS = 384


def vector_of(text):
    raw = b""
    counter = 0
    while len(raw) < DIMS * 4:
        raw += hashlib.blake2b(text.encode() + counter.to_bytes(4, "little"), digest_size=64).digest()
        counter += 1
    ints = struct.unpack(f"<{DIMS}i", raw[: DIMS * 4])
    floats = [i / 2**31 for i in ints]
    norm = sum(f * f for f in floats) ** 0.5 or 1.0
    return [round(f / norm, 6) for f in floats]


class Handler(http.server.BaseHTTPRequestHandler):
    served = 0
    texts = 0

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        data = [{"index": i, "embedding": vector_of(t)} for i, t in enumerate(body["input"])]
        out = json.dumps({"data": data}).encode()
        Handler.served += 1
        Handler.texts += len(body["input"])
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


def set_embed(vault, section):
    toml = vault / "exo.toml"
    lines = toml.read_text().splitlines() if toml.exists() else []
    kept, skipping = [], False
    for line in lines:
        if line.strip().startswith("["):
            skipping = line.strip() == "[embed]"
        if not skipping:
            kept.append(line)
    toml.write_text("\n".join(kept + section) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vault", required=True, type=Path)
    parser.add_argument("--exo", default="target/release/exo")
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]

    set_embed(args.vault, ["[embed]", 'provider = "none"'])
    subprocess.run([args.exo, "--vault", str(args.vault), "index", "--quiet"], check=True)
    set_embed(args.vault, ["[embed]", 'provider = "http"', f'url = "http://127.0.0.1:{port}"',
                           'model = "fake-blake2b"', f"dims = {DIMS}", f"batch_size = {args.batch}"])
    started = time.perf_counter()
    run = subprocess.run(["/usr/bin/time", "-v", args.exo, "--vault", str(args.vault), "index", "--json"],
                         capture_output=True, text=True)
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"exo index failed: {run.stderr[-2000:]}")
    peak_kb = next(int(line.split()[-1]) for line in run.stderr.splitlines() if "Maximum resident" in line)
    answer = json.loads(run.stdout)
    status = subprocess.run([args.exo, "--vault", str(args.vault), "status", "--json"],
                            capture_output=True, text=True, check=True)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(json.dumps({"wall_s": round(wall, 2), "peak_rss_mb": round(peak_kb / 1024, 1),
                      "texts_served": Handler.texts, "requests": Handler.served,
                      "embedded": answer["vectors"]["embedded"], "chunks": answer["vectors"]["chunks"],
                      "load_1min": load, "status": json.loads(status.stdout)["status"]}, indent=1))


if __name__ == "__main__":
    main()
