#!/usr/bin/env python3
"""The most tokens/s any all-MiniLM-L6-v2 forward pass can reach on this machine with
OpenBLAS: only the model's linear layers (6 layers of Q, K, V, output 384x384 and the
384x1536x384 feed-forward), 4,096 tokens at a time, through numpy's SGEMM on all cores.
Attention, GELU and the norms come on top, so a whole forward pass is slower than this.

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
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        h = x
        for q, k, v, o, up, down in layers:
            h @ q, h @ k
            context = h @ v
            h = (((context @ o) @ up) @ down) * 1e-3
        elapsed = time.perf_counter() - start
        best = max(best, TOKENS / elapsed)
        print(f"{TOKENS / elapsed:,.0f} tokens/s ({flops / elapsed / 1e9:.1f} GFLOP/s)")
    print(f"ceiling: {best:,.0f} tokens/s from the linear layers alone")


if __name__ == "__main__":
    main()
