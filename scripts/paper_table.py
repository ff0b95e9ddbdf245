#!/usr/bin/env python3
"""Builds the paper-comparison table from the eval reports scripts/paper-table.sh wrote.

usage: paper_table.py OUT LANGS EXPERT_NAME...

Reads OUT/reports/<row>-<given|detected>/report.json (with per-utterance edit counts),
OUT/seconds.txt ("NAME SECONDS" per trained or composed artifact) and OUT/bytes.txt ("NAME
BYTES"), and writes OUT/table.md, OUT/table.json and OUT/table.svg.

Relative gain of a row against the multilingual LoRA is (macro_multi - macro_row) / macro_multi;
its 95% interval comes from a paired bootstrap over test utterances (2000 resamples, seed 0):
each resample draws utterances with replacement and recomputes both macro WERs on it.
"""
import json
import os
import random
import sys

OUT, LANGS, EXPERTS = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
ROWS = [  # (row, label, report name for language given, for language detected)
    ("base", "base whisper-base", "base", "base"),
    ("multi", "standard multilingual LoRA", "multi", "multi"),
    ("experts", "experts (given: own expert; detected: routed by base LID, hard)", "experts", "experts-hard"),
    ("experts-soft", "experts routed by base LID, soft (top-3 mix)", None, "experts-soft"),
    ("cat", "fusion: cat", "cat", "cat"),
    ("linear", "fusion: linear (SVD r16)", "linear", "linear"),
    ("ties", "fusion: ties (density 0.5, r16)", "ties", "ties"),
    ("dare", "fusion: dare (density 0.5, r16)", "dare", "dare"),
    ("learned", "fusion: learned weights (per layer)", "learned", "learned"),
    ("shared", "shared + residual per language", "shared", "shared"),
    ("distill", "distilled student (r16)", "distill", "distill"),
]


def load(name, scenario):
    path = os.path.join(OUT, "reports", f"{name}-{scenario}", "report.json")
    if name is None or not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def macro(utts, idx):
    per = {}
    for i in idx:
        u = utts[i]
        c = u["counts"]
        e, n = per.get(u["language"], (0, 0))
        per[u["language"]] = (e + c["substitutions"] + c["deletions"] + c["insertions"],
                              n + c["hits"] + c["substitutions"] + c["deletions"])
    rates = [e / n for e, n in per.values() if n > 0]
    return sum(rates) / len(rates) if rates else float("nan")


def gain(row, ref):
    """Relative gain against `ref` and its paired bootstrap 95% interval."""
    a = {u["id"]: u for u in row["utterances"]}
    b = {u["id"]: u for u in ref["utterances"]}
    ids = sorted(set(a) & set(b))
    ua, ub = [a[i] for i in ids], [b[i] for i in ids]
    full = list(range(len(ids)))
    point = (macro(ub, full) - macro(ua, full)) / macro(ub, full)
    rng = random.Random(0)
    samples = []
    for _ in range(2000):
        idx = [rng.randrange(len(ids)) for _ in ids]
        m = macro(ub, idx)
        if m > 0:
            samples.append((m - macro(ua, idx)) / m)
    samples.sort()
    return point, samples[int(0.025 * len(samples))], samples[int(0.975 * len(samples)) - 1]


def numbers(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            k, v = line.split()
            out[k] = float(v)
    return out


seconds, sizes = numbers(os.path.join(OUT, "seconds.txt")), numbers(os.path.join(OUT, "bytes.txt"))
expert_seconds = sum(seconds.get(e, 0) for e in EXPERTS)
expert_bytes = sum(sizes.get(e, 0) for e in EXPERTS)


def cost(row):
    if row == "base":
        return 0, 0
    if row == "multi":
        return seconds.get("multi"), sizes.get("multi")
    if row.startswith("experts"):
        return expert_seconds, expert_bytes
    return expert_seconds + seconds.get(row, 0), sizes.get(row)


table = {"languages": LANGS, "rows": []}
refs = {sc: load("multi", sc) for sc in ("given", "detected")}
for row, label, given, detected in ROWS:
    entry = {"row": row, "label": label}
    for sc, name in (("given", given), ("detected", detected)):
        r = load(name, sc)
        if r is None:
            continue
        per = {l["language"]: l["score"]["error_rate"] for l in r["languages"]}
        cell = {"wer": {l: per.get(l) for l in LANGS}, "macro": r["overall"]["macro_error_rate"],
                "lid_accuracy": r["overall"].get("lid_accuracy")}
        if refs[sc] is not None and row != "multi" and r.get("utterances") and refs[sc].get("utterances"):
            cell["gain"], cell["gain_low"], cell["gain_high"] = gain(r, refs[sc])
        entry[sc] = cell
    entry["compute_seconds"], entry["adapter_bytes"] = cost(row)
    table["rows"].append(entry)

with open(os.path.join(OUT, "table.json"), "w") as f:
    json.dump(table, f, indent=2)


def pct(x):
    return "-" if x is None else f"{100 * x:.1f}"


def gain_text(c):
    return "-" if "gain" not in c else f"{100 * c['gain']:+.1f} [{100 * c['gain_low']:+.1f}, {100 * c['gain_high']:+.1f}]"


lines = ["| row | " + " | ".join(f"{l} given" for l in LANGS) + " | macro given | gain vs multi given (95% CI) | "
         + " | ".join(f"{l} detected" for l in LANGS) + " | macro detected | gain vs multi detected (95% CI) | LID acc | "
         "compute s | adapter MB |",
         "|---|" + "---:|" * (2 * len(LANGS) + 7)]
for e in table["rows"]:
    g, d = e.get("given", {}), e.get("detected", {})
    cells = [e["label"]] + [pct(g.get("wer", {}).get(l)) for l in LANGS] + [pct(g.get("macro")), gain_text(g)]
    cells += [pct(d.get("wer", {}).get(l)) for l in LANGS] + [pct(d.get("macro")), gain_text(d), pct(d.get("lid_accuracy"))]
    cells += ["-" if e["compute_seconds"] is None else f"{e['compute_seconds']:.0f}",
              "-" if e["adapter_bytes"] is None else f"{e['adapter_bytes'] / 1e6:.1f}"]
    lines.append("| " + " | ".join(cells) + " |")
with open(os.path.join(OUT, "table.md"), "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))

# SVG: macro WER per row, language given and detected side by side.
rows = [e for e in table["rows"] if "given" in e or "detected" in e]
w, bar, gap, left = 900, 12, 10, 330
h = 40 + len(rows) * (2 * bar + gap)
top = max([e.get(sc, {}).get("macro") or 0 for e in rows for sc in ("given", "detected")] + [0.01])
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
       f'<text x="10" y="16" font-size="13">Macro WER % on the test split (blue: language given, orange: detected)</text>']
for i, e in enumerate(rows):
    y = 30 + i * (2 * bar + gap)
    svg.append(f'<text x="10" y="{y + bar + 3}">{e["label"][:52]}</text>')
    for j, (sc, color) in enumerate((("given", "#4472c4"), ("detected", "#ed7d31"))):
        m = e.get(sc, {}).get("macro")
        if m is None:
            continue
        length = (w - left - 60) * m / top
        svg.append(f'<rect x="{left}" y="{y + j * bar}" width="{length:.1f}" height="{bar - 2}" fill="{color}"/>')
        svg.append(f'<text x="{left + length + 4:.1f}" y="{y + j * bar + bar - 3}">{100 * m:.1f}</text>')
svg.append("</svg>")
with open(os.path.join(OUT, "table.svg"), "w") as f:
    f.write("\n".join(svg) + "\n")
