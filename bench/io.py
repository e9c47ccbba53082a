"""Benchmark of sg.save and sg.load on one large constant against np.save and np.load.

A graph holding one 10-million-element float64 constant (80 MB) is saved and loaded; NumPy saves
and loads the same array, in the same run, the sides alternating. sg.save writes base64 inside
JSON (a third larger than the raw bytes) and syncs the file to disk before renaming it into
place (an atomic write); np.save writes raw bytes and does not sync. Base64 alone, both ways,
is timed beside them as sg.save and sg.load run it (pybase64, chunk by chunk: symgrad/b64.py;
decoded into a new array): the part of their time that the format itself costs. Reports, never
fails.

    python bench/io.py [--quick]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import fmt_time, git_note, interleaved, print_summary

import symgrad as sg  # bench/common.py put the repo root first on sys.path
from symgrad.b64 import decode_into, encode, encode_pieces


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M elements, few repeats")
    args = parser.parse_args(argv)
    n, rounds = (1_000_000, 2) if args.quick else (10_000_000, 7)
    print(f"symgrad save/load benchmark{' (--quick)' if args.quick else ''}: one float64 "
          f"constant of {n:,} elements ({n * 8 / 1e6:.0f} MB), numpy {np.__version__}")
    git_note()
    value = np.random.default_rng(0).standard_normal(n)
    g = sg.Graph()
    c = g.constant(value, name="big")
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parent) as d:
        npy, js = Path(d) / "big.npy", Path(d) / "big.json"
        np.save(npy, value)
        sg.save(g, js)
        loaded = sg.load(js).tensor("big")
        exact = loaded.graph.nx.nodes[loaded.id]["value"].tobytes() == value.tobytes()
        print(f"  file sizes: .npy {npy.stat().st_size / 1e6:.1f} MB, "
              f".json {js.stat().st_size / 1e6:.1f} MB; loaded bit for bit: {exact}")
        raw = value.view(np.uint8)
        text = encode(raw)
        samples = interleaved({
            "np.save": lambda: np.save(npy, value), "sg.save": lambda: sg.save(c, js),
            "np.load": lambda: np.load(npy), "sg.load": lambda: sg.load(js),
            "base64 encode": lambda: collections.deque(encode_pieces(raw), maxlen=0),
            "base64 decode": lambda: decode_into(text, np.empty(raw.size, np.uint8)),
        }, rounds, 1, warmup=0.0, warmup_rounds=1)
    med = {k: statistics.median(v) for k, v in samples.items()}
    for name, ts in samples.items():
        print(f"  {name:<13} min {fmt_time(min(ts)):>11}   median {fmt_time(med[name]):>11}")
    numpy = med["np.save"] + med["np.load"]
    print(f"  base64 alone (both ways) takes "
          f"{(med['base64 encode'] + med['base64 decode']) / numpy:.1f} times np.save + np.load")
    save, load = med["sg.save"] / med["np.save"], med["sg.load"] / med["np.load"]
    both = (med["sg.save"] + med["sg.load"]) / numpy
    print_summary(f"Summary (medians of {rounds} rounds; reference: NumPy, same run)", [
        ("save", fmt_time(med["sg.save"]), fmt_time(med["np.save"]), f"{save:.2f}", "", None),
        ("load", fmt_time(med["sg.load"]), fmt_time(med["np.load"]), f"{load:.2f}", "", None),
        ("save + load", fmt_time(med["sg.save"] + med["sg.load"]), fmt_time(numpy),
         f"{both:.2f}", "<= 1.5 (about 1)", both <= 1.5),
        ("bit for bit", "", "", "", "True", exact),
    ])
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"\n(took {time.perf_counter() - start:.1f} s)")
    sys.exit(code)
