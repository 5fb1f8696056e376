#!/usr/bin/env python3
"""Build the quality report's table.md, table.csv, rate_quality.png and index.html in OUT from
what benchmarks/quality_report.sh left there: rows.tsv (clip, codec, knob, encode s, decode s,
file stem, compare_audio.sh's JSON), skipped.tsv (codec, knob, reason) and weights.tsv
(codec, model file, sha256 prefix)."""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import sys
import typing as tp
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from codec_toolkit import pictures  # noqa: E402

NAMES = {"c2": "Codec2", "opus": "Opus", "ecdc": "EnCodec", "snac": "SNAC", "mimi": "Mimi",
         "dac": "DAC", "semanticodec": "SemantiCodec", "lpcnet": "LPCNet", "nesc": "NESC"}
REAL = {"c2", "opus"}  # codecs that are themselves here, whatever the model caches hold
SCORES = ("pesq_wb", "pesq_nb", "stoi", "estoi", "visqol", "si_sdr", "mel_distance")
DIGITS = {"kbps": 2, "pesq_wb": 2, "pesq_nb": 2, "stoi": 3, "estoi": 3, "visqol": 2,
          "si_sdr": 1, "mel_distance": 3, "encode_rtf": 3, "decode_rtf": 3}
COLUMNS = ("codec", "setting", "kbps", *SCORES, "encode_rtf", "decode_rtf", "weights")


def read_tsv(path: str) -> tp.List[tp.List[str]]:
    if not os.path.exists(path):
        return []
    with open(path, newline="") as fo:
        return [line.rstrip("\n").split("\t") for line in fo if line.strip()]


def mean(values: tp.Sequence[tp.Optional[float]]) -> tp.Optional[float]:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def summarise(rows: tp.List[tp.List[str]], durations: dict, weights: str) -> tp.List[dict]:
    """One dict per codec setting, each score the mean over the clips."""
    groups: dict = {}
    for clip, codec, knob, enc, dec, _, scores in rows:
        groups.setdefault((codec, knob), []).append(
            (json.loads(scores), float(enc) / durations[clip], float(dec) / durations[clip]))
    table = []
    for (codec, knob), items in groups.items():
        noise = weights == "test" and codec not in REAL
        row = {"codec": NAMES.get(codec, codec), "setting": knob or "default",
               "kbps": mean([s["kbps"] for s, _, _ in items]),
               **{k: mean([s[k] for s, _, _ in items]) for k in SCORES},
               "encode_rtf": mean([e for _, e, _ in items]),
               "decode_rtf": mean([d for _, _, d in items]),
               "weights": ("random (test models): scores are noise" if noise else
                           "real codec" if codec in REAL else "as cached (see hashes)"),
               "noise": noise}
        table.append(row)
    return table


def shown(row: dict, key: str) -> str:
    value = row[key]
    if value is None:
        return "-"
    return f"{value:.{DIGITS[key]}f}" if key in DIGITS else str(value)


def write_tables(out: str, table: tp.List[dict]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(shown(r, k) for k in COLUMNS) + " |" for r in table]
    markdown = "\n".join(lines) + "\n"
    with open(os.path.join(out, "table.md"), "w") as fo:
        fo.write(markdown)
    with open(os.path.join(out, "table.csv"), "w", newline="") as fo:
        writer = csv.writer(fo)
        writer.writerow(COLUMNS)
        writer.writerows([shown(r, k) for k in COLUMNS] for r in table)
    return markdown


def page(out: str, table: tp.List[dict], rows: tp.List[tp.List[str]], skipped: dict,
         hashes: tp.List[tp.List[str]], seconds: str, weights: str) -> str:
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>Codec quality report</title><style>",
             "body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}",
             "td,th{border:1px solid #bbb;padding:2px 6px;text-align:right;white-space:nowrap}",
             ".pair{display:flex;gap:1em;align-items:center;margin:.5em 0}",
             ".noise{color:#a00}img{max-width:720px}</style></head><body>",
             "<h1>Codec quality report</h1>",
             f"<p>Report built in {esc(seconds)} s. Scores are means over the clips; "
             "real-time factors are processing time over audio time, starting each tool "
             "and loading its model included.</p>"]
    if weights == "test":
        parts.append('<p class="noise"><strong>The neural codecs ran on random-weight test '
                     "models: their scores are noise, not quality.</strong> Codec2 and Opus "
                     "are the real codecs.</p>")
    parts.append("<table><tr>" + "".join(f"<th>{esc(c)}</th>" for c in COLUMNS) + "</tr>")
    for row in table:
        cls = ' class="noise"' if row["noise"] else ""
        parts.append(f"<tr{cls}>" + "".join(f"<td>{esc(shown(row, k))}</td>" for k in COLUMNS)
                     + "</tr>")
    parts += ["</table>", '<p><a href="table.csv">table.csv</a> · '
              '<a href="table.md">table.md</a></p>',
              '<p><img src="rate_quality.png" alt="PESQ-WB and STOI against kbps"></p>']
    if skipped:
        parts.append("<h2>Not run here</h2><ul>")
        parts += [f"<li>{esc(k)}: {esc(v)}</li>" for k, v in skipped.items()]
        parts.append("</ul>")
    if hashes:
        parts.append("<h2>Model files (sha256, first 16 hex digits)</h2><ul>")
        parts += [f"<li>{esc(c)}: {esc(f)} {esc(h)}</li>" for c, f, h in hashes]
        parts.append("</ul>")
    for clip in dict.fromkeys(r[0] for r in rows):
        base = f"clips/{quote(clip)}/"
        parts += [f"<h2>{esc(clip)}</h2>", '<div class="pair"><strong>original</strong>',
                  f'<audio controls preload="metadata" src="{base}original.flac"></audio></div>']
        for name, codec, knob, _, _, stem, scores in (r for r in rows if r[0] == clip):
            values = json.loads(scores)
            label = f"{NAMES.get(codec, codec)} {knob or 'default'}"
            noise = " (random weights: noise)" if weights == "test" and codec not in REAL else ""
            parts += [f"<h3>{esc(label)}{esc(noise)}: PESQ-WB {shown(values, 'pesq_wb')}, "
                      f"STOI {shown(values, 'stoi')}, {shown(values, 'kbps')} kbps</h3>",
                      '<div class="pair">',
                      f'<audio controls preload="metadata" src="{base}{quote(stem)}.flac">'
                      "</audio>",
                      f'<img src="{base}{quote(stem)}.png" alt="spectrograms of {esc(label)}">',
                      "</div>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", metavar="OUT")
    parser.add_argument("--durations", required=True, help="TSV: clip name, seconds")
    parser.add_argument("--seconds", default="?", help="how long the report took")
    parser.add_argument("--weights", default="", help='"test": random-weight test models')
    args = parser.parse_args(argv)
    durations = {name: float(sec) for name, sec in read_tsv(args.durations)}
    rows = read_tsv(os.path.join(args.out, "rows.tsv"))
    skipped = {f"{NAMES.get(c, c)} {k or 'default'}": reason
               for c, k, reason in read_tsv(os.path.join(args.out, "skipped.tsv"))}
    hashes = read_tsv(os.path.join(args.out, "weights.tsv"))
    table = summarise(rows, durations, args.weights)
    print(write_tables(args.out, table), end="")
    pictures.rate_quality_plot(table, os.path.join(args.out, "rate_quality.png"))
    with open(os.path.join(args.out, "index.html"), "w") as fo:
        fo.write(page(args.out, table, rows, skipped, hashes, args.seconds, args.weights))
    return 0


if __name__ == "__main__":
    sys.exit(main())
