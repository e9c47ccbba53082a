"""The `symgrad` command line (also `python -m symgrad`).

`symgrad demo` trains the Deep Learning book's example network (6.5.7) with the gradients its
graph computes. Only this module prints.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from importlib import resources

import numpy as np


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped handwritten digits: pixels scaled to [0, 1] (1797, 64) and labels (1797,)."""
    with resources.files("symgrad").joinpath("data/digits.csv.gz").open("rb") as raw:
        table = np.loadtxt(gzip.open(raw), delimiter=",")
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def demo(epochs: int, hidden: int, lr: float, lam: float, batch: int, seed: int) -> float:
    """Trains relu(X W1) W2 with softmax cross-entropy and weight decay; returns test accuracy."""
    import symgrad as sg

    images, labels = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    n_test = len(labels) // 6
    test, train = order[:n_test], order[n_test:]

    g = sg.Graph()
    X = g.placeholder("X", (None, 64))
    y = g.placeholder("y", (None,), "int64")
    W1 = g.placeholder("W1", (64, hidden))
    W2 = g.placeholder("W2", (hidden, 10))
    logits = sg.relu(X @ W1) @ W2
    loss = sg.softmax_cross_entropy(logits, y).mean() + lam * ((W1 * W1).sum() + (W2 * W2).sum())
    gW1, gW2 = sg.gradients(loss, [W1, W2])
    step = sg.function([X, y, W1, W2], [loss, gW1, gW2])
    predict = sg.function([X, W1, W2], sg.argmax(logits, axis=1))
    print(f"book 6.5.7 network: 64 -> {hidden} relu -> 10, {g.nx.number_of_nodes()} graph nodes "
          f"({sum(1 for _, o in g.nx.nodes(data='origin') if o == 'gradient')} from gradients())")

    w1 = rng.normal(0, np.sqrt(2 / 64), (64, hidden))
    w2 = rng.normal(0, np.sqrt(1 / hidden), (hidden, 10))
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        rng.shuffle(train)
        total = 0.0
        batches = range(0, len(train), batch)
        for k, i in enumerate(batches, 1):
            rows = train[i:i + batch]
            value, d1, d2 = step(images[rows], labels[rows], w1, w2)
            w1 -= lr * d1
            w2 -= lr * d2
            total += float(value)
            _progress(epoch, epochs, k, len(batches), total / k)
        accuracy = float(np.mean(predict(images[test], w1, w2) == labels[test]))
        print(f"\repoch {epoch:>3}/{epochs}  loss {total / len(batches):.4f}  "
              f"held-out accuracy {accuracy:.1%}" + " " * 20)
    print(f"trained in {time.perf_counter() - start:.1f} s on {len(train)} images; "
          f"held-out accuracy on {len(test)} images: {accuracy:.1%}")
    return accuracy


def _progress(epoch: int, epochs: int, k: int, n: int, loss: float) -> None:
    done = int(30 * k / n)
    bar = "#" * done + "." * (30 - done)
    print(f"\repoch {epoch:>3}/{epochs} [{bar}] loss {loss:.4f}", end="", flush=True)


def main(argv: list[str] | None = None) -> int:
    from . import __version__

    parser = argparse.ArgumentParser(prog="symgrad", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    commands = parser.add_subparsers(dest="command")
    d = commands.add_parser("demo", help="train the book's example network on handwritten digits")
    d.add_argument("--epochs", type=int, default=15)
    d.add_argument("--hidden", type=int, default=64)
    d.add_argument("--lr", type=float, default=0.2, help="SGD step size")
    d.add_argument("--decay", type=float, default=1e-4, help="weight decay lambda")
    d.add_argument("--batch", type=int, default=32)
    d.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        for name in ("epochs", "hidden", "batch"):
            if getattr(args, name) < 1:
                parser.error(f"--{name} must be at least 1")
        demo(args.epochs, args.hidden, args.lr, args.decay, args.batch, args.seed)
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
