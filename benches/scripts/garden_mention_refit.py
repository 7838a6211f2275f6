#!/usr/bin/env python3
"""Could the unlinked-mention evidence rank better with other weights? A leave-one-vault-out
check (issue #18): for each labelled vault, fit a logistic regression of the labels on the
evidence exo already reports (name length, alias, capitalised, linked share, document share,
context fit, place, line already linked, and the current confidence) on the OTHER vaults'
judged mentions, rank the held-out vault's judged mentions by it, and compare its precision of
the first 20 judged with the current order's.

    for v in dendron-site dnd5e-srd foam-docs obsidian-help obsidian-tasks; do
      exo --vault /tmp/gv/$v garden --json --only unlinked-mention --min-confidence 0 \\
          --max 100000 > /tmp/reports/$v.json; done
    python3 benches/scripts/garden_mention_refit.py --reports /tmp/reports

Only judged findings are ranked (unjudged ones are left out), so the figures are the order's
quality on the labels, not the report's P@20.
"""
import argparse, json, math
from pathlib import Path

FEATURES = ["bias", "words", "alias", "capitalised", "linked_share", "document_share", "context_fit",
            "label", "heading", "table", "line_linked", "current_logit"]


def features(finding):
    e, c = finding["evidence"], finding["confidence"]
    reasons = " ".join(e["confidence_reasons"])
    logit = math.log(c / (1 - c)) if 0 < c < 1 else (7.0 if c >= 1 else -7.0)
    return [1.0, min(len(e["name"].split()), 4), float("alias" in reasons), float("capitalised" in reasons),
            e.get("linked_share") or 0.0, e.get("document_share") or 0.0, e.get("context_fit") or 0.0,
            float(e["place"] == "label"), float(e["place"] in ("heading", "section of its own")),
            float(e["place"] == "table"), float(bool(e.get("line_linked"))), logit]


def fit(rows, steps=3000, rate=0.05, l2=0.1):
    w = [0.0] * len(FEATURES)
    for _ in range(steps):
        grad = [0.0] * len(w)
        for x, y in rows:
            z = max(min(sum(a * b for a, b in zip(w, x)), 30.0), -30.0)
            err = 1 / (1 + math.exp(-z)) - y
            for i, xi in enumerate(x):
                grad[i] += err * xi
        w = [wi - rate * (g / len(rows) + (l2 * wi if i else 0.0)) for i, (wi, g) in enumerate(zip(w, grad))]
    return w


def precision_first_20(rows, weights):
    ranked = sorted(rows, key=lambda r: -sum(a * b for a, b in zip(weights, r[0])))[:20]
    return sum(y for _, y in ranked) / len(ranked)


def main():
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reports", required=True, help="DIR/VAULT.json: garden --json at --min-confidence 0")
    p.add_argument("--labels", default=str(here / "benches" / "garden" / "labels.tsv"))
    args = p.parse_args()
    labels = {}
    for line in Path(args.labels).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            vault, _, kind, note, target, label, _, _ = line.split("\t")
            if kind == "unlinked-mention":
                labels[(vault, note, target)] = label == "1"
    judged = {}
    for report in sorted(Path(args.reports).glob("*.json")):
        vault = report.stem
        for f in json.loads(report.read_text())["findings"]:
            label = labels.get((vault, f["path"], f["related"][0]))
            if f["kind"] == "unlinked-mention" and label is not None:
                judged.setdefault(vault, []).append((features(f), 1.0 if label else 0.0))
    if len(judged) < 2:
        raise SystemExit("needs reports of at least two labelled vaults (one to fit on, one to rank)")
    current = [0.0] * (len(FEATURES) - 1) + [1.0]
    for vault, rows in judged.items():
        others = [r for v, rs in judged.items() if v != vault for r in rs]
        print(f"{vault}: {len(rows)} judged; first 20 by the current confidence "
              f"{precision_first_20(rows, current):.0%}, by a fit on the other vaults "
              f"{precision_first_20(rows, fit(others)):.0%}")


if __name__ == "__main__":
    main()
