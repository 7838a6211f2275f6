#!/usr/bin/env python3
"""The most tokens/s any all-MiniLM-L6-v2 forward pass can reach on this machine with
OpenBLAS: only the model's linear layers (6 layers of Q, K, V, output 384x384 and the
384x1536x384 feed-forward), 4,096 tokens at a time, through numpy's SGEMM on all cores.
Attention, GELU and the norms come on top, so a whole forward pass is slower than this.
Prints tokens per wall second and per CPU-second (all threads' time, like `exo-bench embed`).

    pip install numpy && python3 benches/scripts/gemm_ceiling.py
"""
import time

import numpy as np

TOKENS, HIDDEN, INTERMEDIATE, LAYERS = 4096, 384, 1536, 6


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((TOKENS, HIDDEN), dtype=np.float32)
    shapes = [(HIDDEN, HIDDEN)] * 4 + [(HIDDEN, INTERMEDIATE), (INTERMEDIATE, HIDDEN)]
    layers = [[rng.standard_normal(s, dtype=np.float32) for s in shapes] for _ in range(LAYERS)]
    flops = 2 * TOKENS * LAYERS * sum(a * b for a, b in shapes)
    best = best_cpu = 0.0
    for _ in range(5):
        start, cpu_start = time.perf_counter(), time.process_time()
        h = x
        for q, k, v, o, up, down in layers:
            h @ q, h @ k
            context = h @ v
            h = (((context @ o) @ up) @ down) * 1e-3
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        best, best_cpu = max(best, TOKENS / elapsed), max(best_cpu, TOKENS / cpu)
        print(f"{TOKENS / elapsed:,.0f} tokens/s ({flops / elapsed / 1e9:.1f} GFLOP/s), "
              f"{TOKENS / cpu:,.0f} tokens per CPU-second")
    print(f"ceiling: {best:,.0f} tokens/s from the linear layers alone")
    # On a shared machine the wall clock counts other people's work too; CPU time mostly
    # does not. `exo-bench embed` prints the same unit.
    print(f"ceiling per CPU-second: {best_cpu:,.0f} tokens per CPU-second")


if __name__ == "__main__":
    main()
