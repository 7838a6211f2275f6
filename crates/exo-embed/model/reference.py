"""A float32 numpy forward pass of all-MiniLM-L6-v2 (BERT encoder, mean pooling, L2 norm):
the reference the Rust forward pass is tested against (through golden.json)."""
import math

import numpy as np

HEADS, LAYERS, EPS = 12, 6, 1e-12


def layer_norm(x, g, b):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * g + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class Model:
    def __init__(self, weights):
        self.w = {k: v.astype(np.float32) for k, v in weights.items()}

    def linear(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def embed(self, batch):
        out = []
        for ids in batch:
            out.append(self.forward(np.array(ids)))
        return out

    def forward(self, ids):
        w = self.w
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
            + w["embeddings.token_type_embeddings.weight"][0]
        x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        d = x.shape[1] // HEADS
        for i in range(LAYERS):
            p = f"encoder.layer.{i}"
            q = self.linear(x, p + ".attention.self.query").reshape(n, HEADS, d).transpose(1, 0, 2)
            k = self.linear(x, p + ".attention.self.key").reshape(n, HEADS, d).transpose(1, 0, 2)
            v = self.linear(x, p + ".attention.self.value").reshape(n, HEADS, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(1, 0, 2).reshape(n, -1)
            x = layer_norm(x + self.linear(ctx, p + ".attention.output.dense"),
                           w[p + ".attention.output.LayerNorm.weight"], w[p + ".attention.output.LayerNorm.bias"])
            h = gelu(self.linear(x, p + ".intermediate.dense"))
            x = layer_norm(x + self.linear(h, p + ".output.dense"),
                           w[p + ".output.LayerNorm.weight"], w[p + ".output.LayerNorm.bias"])
        pooled = x.mean(0)
        return pooled / max(np.linalg.norm(pooled), 1e-12)
