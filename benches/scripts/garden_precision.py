#!/usr/bin/env python3
"""Precision of `exo garden` on real vaults, against the labels in benches/garden/labels.tsv
(issue #18: "precision@20 >= 80% for unlinked mentions and similar-unlinked pairs").

For each labelled vault it runs `exo --vault ROOT/VAULT garden --json` over the two noisy
kinds and scores, kind by kind and part by part (the tuning part, the spent held-back part
foam-docs, and the fresh held-back part obsidian-help):

* P@20 and P@50 of the report as a person reads it: its first k findings at the default
  minimum confidence, in the report's order. Findings nobody labelled are left out of the
  precision and counted as "unjudged", so a low coverage says the number is weak.
* On the random sample alone (labels drawn before any tuning, unbiased): the base rate of
  actionable findings, and how many of the sampled findings and of the actionable ones the
  default report keeps.

The vaults are not in the repository: copy them (never index /work/shared in place), index
each copy, then point --root at the directory holding the copies:

    mkdir -p /tmp/gv && cd /tmp/gv
    cp -r /work/shared/eval/vaults/dendron-site/vault dendron-site
    cp -r /work/shared/eval/vaults/dnd5e-srd dnd5e-srd && rm -rf dnd5e-srd/_meta
    cp -r /work/shared/eval/vaults/foam-docs/docs foam-docs
    chmod -R u+w . && printf '[links]\nstyle = "dendron"\n' > dendron-site/exo.toml  # Dendron's [[label|target]]
    for v in dendron-site dnd5e-srd foam-docs; do exo --vault /tmp/gv/$v index; done
    python3 benches/scripts/garden_precision.py --root /tmp/gv [--exo target/debug/exo] [--part tune]

--part tune neither runs nor reads the held-back vaults: use it while tuning.

The fresh held-back vault (part held2) is the en/ folder of the Obsidian Help vault at the
commit named in labels.tsv; it needs no exo.toml (Obsidian's [[target|label]] is exo's default
link style, and attachments resolve by name wherever they are):

    git clone https://github.com/obsidianmd/obsidian-help /tmp/obsidian-help-src
    git -C /tmp/obsidian-help-src checkout fa179e91e86eaff5859226cc045c81000d64e3cd
    cp -r /tmp/obsidian-help-src/en /tmp/gv/obsidian-help
    exo --vault /tmp/gv/obsidian-help index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held2

The third held-back vault (part held3) is the docs/ folder of the Obsidian Tasks plugin's
repository at the commit named in labels.tsv (also no exo.toml):

    git clone https://github.com/obsidian-tasks-group/obsidian-tasks /tmp/tasks-src
    git -C /tmp/tasks-src checkout cc0fce3c1326d18e2bdb7020eaf4c52e885da569
    cp -r /tmp/tasks-src/docs /tmp/gv/obsidian-tasks
    exo --vault /tmp/gv/obsidian-tasks index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held3

The fourth held-back vault (part held4) is a personal Zettelkasten (Portuguese and English),
the repository github.com/luissimas/zettelkasten at the commit named in labels.tsv without its
tool folders (no exo.toml):

    git clone https://github.com/luissimas/zettelkasten /tmp/zk-src
    git -C /tmp/zk-src checkout b8c5cca6c225c2711b2378ed4e7ed8e23819bbcc
    cp -r /tmp/zk-src /tmp/gv/luissimas-zettelkasten && cd /tmp/gv/luissimas-zettelkasten
    rm -rf .git .obsidian .github .quartz .scripts && git init -q && git add -A && git commit -qm import
    exo --vault /tmp/gv/luissimas-zettelkasten index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held4

The fifth held-back vault (part held5) is a personal Obsidian vault of software-engineering
notes, the repository github.com/wrewsama/obsidian-vault at the commit named in labels.tsv
without .obsidian/ (no exo.toml):

    git clone https://github.com/wrewsama/obsidian-vault /tmp/wrewsama-src
    git -C /tmp/wrewsama-src checkout c79d50ee53ca306d2e711db26eea1060b5095d7c
    cp -r /tmp/wrewsama-src /tmp/gv/wrewsama && cd /tmp/gv/wrewsama
    rm -rf .git .obsidian && git init -q && git add -A && git commit -qm import
    exo --vault /tmp/gv/wrewsama index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held5

The sixth held-back vault (part held6) is a student's Obsidian vault of computer-science and
mathematics course notes, the Markdown files of github.com/joeyshi12/obsidian-vault at the
commit named in labels.tsv (without .obsidian/; images and PDFs not copied; no exo.toml):

    git clone https://github.com/joeyshi12/obsidian-vault /tmp/joeyshi12-src
    git -C /tmp/joeyshi12-src checkout be8935f0584692586995b90dcc5bf7fbc6ec001b
    cd /tmp/joeyshi12-src && git ls-files '*.md' | grep -v '^.obsidian/' | \
        while IFS= read -r f; do mkdir -p "/tmp/gv/joeyshi12/$(dirname "$f")"; cp "$f" "/tmp/gv/joeyshi12/$f"; done
    cd /tmp/gv/joeyshi12 && git init -q && git add -A && git commit -qm import
    exo --vault /tmp/gv/joeyshi12 index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held6

The seventh to ninth held-back vaults (parts held7, held8, held9) are three personal vaults,
the Markdown files of each repository at the commit named in labels.tsv (no .obsidian/, no
site generator; lesleylai is the content/ folder of LesleyLai/digital-garden), copied the same
way as held6 into /tmp/gv/balmeidas (BAlmeidaS/zettelkasten), /tmp/gv/mustafah15
(mustafah15/zettelkasten) and /tmp/gv/lesleylai:

    git clone https://github.com/LesleyLai/digital-garden /tmp/lesleylai-src
    git -C /tmp/lesleylai-src checkout 6581960271f74bd75e29b66217fe0e23999577d2
    cd /tmp/lesleylai-src/content && git ls-files '*.md' | \
        while IFS= read -r f; do mkdir -p "/tmp/gv/lesleylai/$(dirname "$f")"; cp "$f" "/tmp/gv/lesleylai/$f"; done
    cd /tmp/gv/lesleylai && git init -q && git add -A && git commit -qm import
    exo --vault /tmp/gv/lesleylai index
    python3 benches/scripts/garden_precision.py --root /tmp/gv --part held9

held10 and held11 are binnyva/DZG-Notes and oakla/Medicine-Notes at the commits named in
labels.tsv, their Markdown files copied the same way into /tmp/gv/binnyva and /tmp/gv/oakla;
held12 and held13 the content/ folder of Soushi888/alternef-digital-garden and the Notes/
folder of rajeevphysics/Obsidian-MathMatter, into /tmp/gv/soushi888 and /tmp/gv/rajeevphysics;
held14 and held15 the guide-to-earendor/ folder of Augustin007/anremithrl-s-guide-to-earendor
and BurntNail/6th-Form (without .trash/), into /tmp/gv/augustin007 and /tmp/gv/burntnail;
held16 to held19 the docs/ folder of Zwemvest/kingmaker (without templates/ and README.md),
sameerr03/notes (without .trash/), Kattenelvis/Obsidian-Vault-master and Fusion1013/AvasarVault
(without Templates/), into /tmp/gv/zwemvest, sameerr03, kattenelvis and fusion1013; held20 to
held22 the SecondBrain/ folder of Aaron-Bopp/Obsidian-notes (without 00 Meta/Templates),
ThomasTorres2024/Obsidian-Notes (without README.md) and jaredraycoleman/Southaven (without
Templates/ and DM Notes/Claude Notes/), into aaron-bopp, thomastorres2024 and
jaredraycoleman. List the Markdown files with `git ls-files -z '*.md'`: a plain `git ls-files`
quotes non-ASCII names.

With --reports DIR it reads DIR/VAULT.json (a saved `garden --json --max 100000` report)
instead of running exo, which is how the numbers of an older binary are scored.
"""
import argparse, collections, json, math, subprocess
from pathlib import Path

KINDS = ["unlinked-mention", "similar-unlinked"]
# The labelled parts in the order they were labelled (labels.tsv's header says what each is).
PARTS = ["tune", "held"] + [f"held{n}" for n in range(2, 23)]


def load_labels(path):
    labels = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        vault, part, kind, note, target, label, pool, reason = line.split("\t")
        key = (vault, kind, note, target)
        if key in labels:
            raise SystemExit(f"labelled twice: {key}")
        labels[key] = {"part": part, "actionable": label == "1", "pool": pool, "reason": reason}
    return labels


def report(args, vault):
    if args.reports:
        return json.loads((Path(args.reports) / f"{vault}.json").read_text())
    out = subprocess.run([args.exo, "--vault", str(Path(args.root) / vault), "garden", "--json",
                          "--only", ",".join(KINDS), "--max", "100000", "--min-confidence", "0"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def label_of(labels, vault, finding):
    kind, note, other = finding["kind"], finding["path"], finding["related"][0]
    found = labels.get((vault, kind, note, other))
    if found is None and kind == "similar-unlinked":
        found = labels.get((vault, kind, other, note))
    return found


def main():
    here = Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--exo", default=str(here / "target" / "debug" / "exo"))
    p.add_argument("--root", default="/tmp/gv", help="directory holding the indexed vault copies")
    p.add_argument("--labels", default=str(here / "benches" / "garden" / "labels.tsv"))
    p.add_argument("--reports", help="read saved reports DIR/VAULT.json instead of running exo")
    p.add_argument("--part", choices=PARTS + ["all"], default="all")
    p.add_argument("--calibration", action="store_true",
                   help="fit label ~ sigmoid(a * logit(confidence) + b) per kind on the judged findings of "
                        "the chosen part (a = 1, b = 0: the confidence already says how often such a "
                        "finding is worth acting on)")
    p.add_argument("--min-confidence", type=float,
                   help="the report's cut (default: the report's own [garden] min_confidence)")
    args = p.parse_args()
    labels = load_labels(args.labels)
    # --part tune never runs (or reads) the held-back vaults: tuning must not see them.
    vaults = sorted(v for v in {k[0] for k in labels} if args.part in ("all", part_of(labels, v)))
    # (part, kind) -> one list per vault of the labels of its report's findings, in the
    # report's order (None: nobody labelled it).
    shown = collections.defaultdict(list)
    sample = collections.defaultdict(collections.Counter)
    counts = {}
    judged = collections.defaultdict(list)
    for vault in vaults:
        r = report(args, vault)
        cut = args.min_confidence
        if cut is None:
            cut = r.get("settings", {}).get("min_confidence", 0.0)
        part = part_of(labels, vault)
        counts[vault] = {}
        for kind in KINDS:
            found = [f for f in r["findings"] if f["kind"] == kind]
            for f in found:
                lab = label_of(labels, vault, f)
                if lab is not None:
                    judged[(part, kind)].append((f.get("confidence", 1.0), lab["actionable"]))
            kept = [f for f in found if f.get("confidence", 1.0) >= cut]
            counts[vault][kind] = (len(kept), len(found))
            shown[(part, kind)].append([label_of(labels, vault, f) for f in kept])
            kept_keys = {(f["path"], f["related"][0]) for f in kept}
            for (v, k, note, other), lab in labels.items():
                if v != vault or k != kind or lab["pool"] != "random":
                    continue
                c = sample[(part, kind)]
                keep = (note, other) in kept_keys or (other, note) in kept_keys
                c["sampled"] += 1
                c["actionable"] += lab["actionable"]
                c["kept"] += keep
                c["kept_actionable"] += keep and lab["actionable"]
    if args.calibration:
        for (part, kind), pairs in sorted(judged.items()):
            a, b = logistic_fit(pairs)
            print(f"[{part}] {kind}: {len(pairs)} judged findings; actionable ~ sigmoid(a * logit(confidence) + b)"
                  f" fits a = {a:.3f}, b = {b:+.3f}")
    print("findings in the default report / found at any confidence:")
    for vault, per in counts.items():
        print(f"  {vault} ({part_of(labels, vault)}): " + ", ".join(f"{k} {a}/{b}" for k, (a, b) in per.items()))
    for part in PARTS:
        if args.part not in ("all", part):
            continue
        for kind in KINDS:
            print(f"[{part}] {kind}")
            for k in (20, 50):
                print("    " + precision_at(shown[(part, kind)], k))
            c = sample[(part, kind)]
            if c["sampled"]:
                print(f"    random sample: {pct(c['actionable'], c['sampled'])} actionable; the report keeps "
                      f"{c['kept']} of them, {c['kept_actionable']} of the {c['actionable']} actionable "
                      f"(precision of those kept {pct(c['kept_actionable'], c['kept'])})")


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def logistic_fit(points, steps=20000, rate=0.05):
    """Least log-loss a, b of actionable ~ sigmoid(a * logit(confidence) + b), by gradient descent."""
    xs = [math.log(min(max(c, 1e-3), 1 - 1e-3) / (1 - min(max(c, 1e-3), 1 - 1e-3))) for c, _ in points]
    ys = [1.0 if y else 0.0 for _, y in points]
    a, b = 1.0, 0.0
    for _ in range(steps):
        ga = gb = 0.0
        for x, y in zip(xs, ys):
            err = sigmoid(a * x + b) - y
            ga += err * x
            gb += err
        a -= rate * ga / len(xs)
        b -= rate * gb / len(xs)
    return a, b


def part_of(labels, vault):
    parts = {v["part"] for k, v in labels.items() if k[0] == vault}
    if len(parts) != 1:
        raise SystemExit(f"{vault}: one part per vault, found {sorted(parts)}")
    return parts.pop()


def precision_at(per_vault, k):
    """Precision over the judged findings among each vault's first k."""
    judged = good = unjudged = 0
    for ordered in per_vault:
        for lab in ordered[:k]:
            if lab is None:
                unjudged += 1
            else:
                judged += 1
                good += lab["actionable"]
    return f"P@{k} (each vault's first {k}): {pct(good, judged)} judged, {unjudged} unjudged"


def pct(a, b):
    return f"{100 * a / b:.0f}% ({a}/{b})" if b else "n/a"


if __name__ == "__main__":
    main()
