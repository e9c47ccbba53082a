"""The `symgrad` command line (also `python -m symgrad`): `symgrad diff` and `symgrad demo`.

`symgrad diff` differentiates an expression given as text (symgrad.expr parses it; nothing of
it runs); `symgrad demo` trains the Deep Learning book's example network (6.5.7) with the
gradients its graph computes. Only this module prints.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time
import warnings
from collections.abc import Sequence
from importlib import resources
from typing import Any, TextIO

import numpy as np
from tqdm import tqdm

import symgrad as sg

from .errors import ExpressionError, SymgradError
from .export.expression import to_expression, to_latex
from .expr import parse
from .tensor import Tensor

MAX_NODES = 20_000  # of a derivative that `symgrad diff` goes on with: each order multiplies


class CommandError(Exception):
    """A command that cannot be carried out: its exit `status` (2: the command line is at
    fault, 1: the work failed) and one line for stderr, with the expression and a caret under
    the culprit if `position` ((offset, length) in `expression`) is given."""

    def __init__(self, message: str, status: int = 2, expression: str | None = None,
                 position: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.status, self.expression, self.position = status, expression, position


# -- symgrad diff ------------------------------------------------------------------------------
def differentiate(expression: str, wrt: str, order: int = 1, at: Sequence[str] = (),
                  simplify: bool = False, dot: str | None = None, latex: bool = False
                  ) -> list[str]:
    """The lines `symgrad diff` prints (and writes `dot`); raises CommandError on bad input.

    The derivative line shows the derivative as `sg.grad` builds it, or simplified if
    `simplify`; the value line is that expression's value at the point `at` gives.
    """
    if order < 1:
        raise CommandError(f"--order must be at least 1, got {order}")
    try:
        y = parse(expression)
    except ExpressionError as e:
        raise CommandError(str(e), 2, expression, e.position) from None
    symbols = {t.name: t for t in y.graph.placeholders()}
    if wrt not in symbols:
        raise CommandError(f"--wrt {wrt}: the expression has no symbol {wrt!r} "
                           f"({_listing(symbols)})")
    point = _point(at, symbols)
    try:
        d = y
        for k in range(1, order + 1):
            d = sg.grad(d, symbols[wrt])
            if (n := sg.count_nodes(d)) > MAX_NODES:
                raise CommandError(f"the derivative of order {k} has {n} nodes, more than the "
                                   f"{MAX_NODES} symgrad diff goes on with; ask for a lower "
                                   f"--order", 1)
        simplified = sg.simplify(d)
        shown = simplified if simplify else d
        lines = [f"derivative: {to_expression(shown)}"]
        tex = to_latex(shown) if latex else None
    except ExpressionError as e:  # a derivative too large to write out
        raise CommandError(f"cannot print the derivative: {str(e).split(': ', 1)[-1]}; try "
                           f"--simplify or a lower --order", 1) from None
    except RecursionError:  # the simplifier recurses along chains of nodes
        raise CommandError("the derivative nests too deeply to simplify; ask for a lower "
                           "--order", 1) from None
    if point is not None:
        lines.append(f"value: {_value(shown, symbols, point)!r}")
    lines.append(f"nodes: {sg.count_nodes(d)} raw, {sg.count_nodes(simplified)} simplified")
    if tex is not None:
        lines.append(f"latex: {tex}")
    if dot is not None:
        try:
            sg.write_dot(shown, dot)
        except OSError as e:
            why = os.strerror(e.errno) if e.errno else str(e)
            raise CommandError(f"--dot {dot}: cannot write the file: {why}", 1) from None
    return lines


def _value(t: Tensor, symbols: dict, point: dict[str, float]) -> float:
    """t at the point, computed as its graph is (not simplified further)."""
    f = sg.function(list(symbols.values()), t, simplify=False)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # log(0) is -inf, as the value line says
        return float(f(*[point[name] for name in symbols]))


def _listing(symbols: dict) -> str:
    return f"its symbols: {', '.join(symbols)}" if symbols else "it has none"


def _point(at: Sequence[str], symbols: dict) -> dict[str, float] | None:
    """The values `--at NAME=NUMBER` gives, one for every symbol; None without --at."""
    if not at:
        return None
    point: dict[str, float] = {}
    for item in at:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CommandError(f"--at {item!r}: expected NAME=NUMBER, such as x=0.5")
        try:
            value = float(text)
        except ValueError:
            raise CommandError(f"--at {item!r}: {text.strip()!r} is not a number") from None
        if name not in symbols:
            raise CommandError(f"--at {item!r}: the expression has no symbol {name!r} "
                               f"({_listing(symbols)})")
        if name in point:
            raise CommandError(f"--at {item!r}: {name} has a value already")
        point[name] = value
    missing = [name for name in symbols if name not in point]
    if missing:
        raise CommandError(f"--at gives no value for {', '.join(missing)}: a value needs "
                           f"every symbol of the expression")
    return point


# -- symgrad demo ------------------------------------------------------------------------------
def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The shipped handwritten digits: pixels scaled to [0, 1] (1797, 64) and labels (1797,)."""
    with resources.files("symgrad").joinpath("data/digits.csv.gz").open("rb") as raw:
        table = np.loadtxt(gzip.open(raw), delimiter=",")
    return table[:, :-1] / 16.0, table[:, -1].astype(np.int64)


def demo(epochs: int, hidden: int, lr: float, lam: float, batch: int, seed: int) -> float:
    """Trains relu(X W1) W2 with softmax cross-entropy and weight decay; returns test accuracy.

    One line per epoch on stdout; a progress bar on stderr while an epoch runs, drawn only
    when stderr is a terminal.
    """
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
          f"({sum(1 for _, o in g.nx.nodes(data='origin') if o == 'gradient')} from gradients())",
          flush=True)

    w1 = rng.normal(0, np.sqrt(2 / 64), (64, hidden))
    w2 = rng.normal(0, np.sqrt(1 / hidden), (hidden, 10))
    bar_shown = _is_terminal(sys.stderr)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        rng.shuffle(train)
        total = 0.0
        batches = range(0, len(train), batch)
        bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False,
                   file=sys.stderr, disable=not bar_shown, dynamic_ncols=True,
                   colour="green" if _coloured(sys.stderr) else None)
        for k, i in enumerate(bar, 1):
            rows = train[i:i + batch]
            value, d1, d2 = step(images[rows], labels[rows], w1, w2)
            w1 -= lr * d1
            w2 -= lr * d2
            total += float(value)
            bar.set_postfix(loss=f"{total / k:.4f}", refresh=False)
        bar.close()  # leave=False: the bar is wiped before the epoch's line
        accuracy = float(np.mean(predict(images[test], w1, w2) == labels[test]))
        print(f"epoch {epoch:>3}/{epochs}  loss {total / len(batches):.4f}  "
              f"held-out accuracy {accuracy:.1%}", flush=True)
    result = _paint(f"{accuracy:.1%}", "1;32", sys.stdout)
    print(f"trained in {time.perf_counter() - start:.1f} s on {len(train)} images; "
          f"held-out accuracy on {len(test)} images: {result}", flush=True)
    return accuracy


# -- command-line manners ------------------------------------------------------------------------
def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


def _coloured(stream: TextIO) -> bool:
    """ANSI colour on `stream`: on a terminal only, and not if NO_COLOR is set (no-color.org)."""
    return (_is_terminal(stream) and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb")


def _paint(text: str, sgr: str, stream: TextIO) -> str:
    return f"\033[{sgr}m{text}\033[0m" if _coloured(stream) else text


def _report(prog: str, message: str, expression: str | None = None,
            position: tuple[int, int] | None = None) -> None:
    """One error line on stderr; then the expression's line with carets under the culprit."""
    err = sys.stderr
    print(f"{prog}: {_paint('error:', '1;31', err)} {message}", file=err)
    if expression is None or position is None:
        return
    offset, length = position
    start = max(expression.rfind("\n", 0, offset), expression.rfind("\r", 0, offset)) + 1
    end = len(expression)
    for stop in ("\n", "\r"):
        if (found := expression.find(stop, start)) != -1:
            end = min(end, found)
    line = "".join(c if c.isprintable() else "?" for c in expression[start:end])
    column = offset - start
    carets = "^" * max(1, min(length, len(line) - column))
    print(f"  {line}\n  {' ' * column}{_paint(carets, '31', err)}", file=err)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line, not a usage dump."""

    def error(self, message: str) -> None:  # type: ignore[override]
        _report(self.prog, f"{message} (see {self.prog} --help)")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="symgrad", description=sg.__doc__,
                             epilog="Run 'symgrad COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"symgrad {sg.__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    d = commands.add_parser(
        "diff", help="differentiate an expression, such as 'sin(x) * y', symbolically",
        description="Differentiate EXPR with symgrad and print the derivative as an "
                    "expression. EXPR is read, never run: numbers, names, + - * / **, "
                    "comparisons, and symgrad's elementwise functions (sin, exp, where, ...); "
                    "every name is a float64 scalar.")
    d.add_argument("expression", metavar="EXPR",
                   help="the expression (put -- before one that starts with '-')")
    d.add_argument("--wrt", required=True, metavar="NAME", help="the symbol to differentiate by")
    d.add_argument("--order", type=int, default=1, metavar="N",
                   help="differentiate N times (default: 1)")
    d.add_argument("--at", action="append", default=[], metavar="NAME=NUMBER",
                   help="a symbol's value (repeat for each symbol): prints the derivative's value")
    d.add_argument("--simplify", action="store_true",
                   help="print the simplified derivative (default: as sg.grad builds it)")
    d.add_argument("--dot", metavar="FILE", help="write the printed derivative's graph as DOT")
    d.add_argument("--latex", action="store_true", help="print the derivative as LaTeX too")
    d.set_defaults(run=_diff_command)
    demo_parser = commands.add_parser(
        "demo", help="train the book's example network on handwritten digits",
        description="Train the Deep Learning book's network (6.5.7) with minibatch SGD on the "
                    "gradients symgrad computes, and report held-out accuracy.")
    demo_parser.add_argument("--epochs", type=int, default=15)
    demo_parser.add_argument("--hidden", type=int, default=64)
    demo_parser.add_argument("--lr", type=float, default=0.2, help="SGD step size")
    demo_parser.add_argument("--decay", type=float, default=1e-4, help="weight decay lambda")
    demo_parser.add_argument("--batch", type=int, default=32)
    demo_parser.add_argument("--seed", type=int, default=0)
    demo_parser.set_defaults(run=_demo_command)
    return parser


def _diff_command(args: argparse.Namespace) -> int:
    lines = differentiate(args.expression, args.wrt, args.order, args.at, args.simplify,
                          args.dot, args.latex)
    print("\n".join(lines), flush=True)
    return 0


def _demo_command(args: argparse.Namespace) -> int:
    for name in ("epochs", "hidden", "batch"):
        if getattr(args, name) < 1:
            raise CommandError(f"--{name} must be at least 1")
    demo(args.epochs, args.hidden, args.lr, args.decay, args.batch, args.seed)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Runs the command line `argv` (default: sys.argv[1:]); returns the exit status."""
    parser = _parser()
    try:
        args: Any = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad command line, reported already
        return e.code if isinstance(e.code, int) else 0
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args)
    except CommandError as e:
        _report(f"symgrad {args.command}", str(e), e.expression, e.position)
        return e.status
    except SymgradError as e:  # symgrad's own message names what went wrong, not a traceback
        _report(f"symgrad {args.command}", str(e))
        return 1
    except BrokenPipeError:
        # The reader left (symgrad demo | head): Python's documented way out. Point stdout at
        # devnull, so that the flush at exit does not fail again, and exit quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return 130  # 128 + SIGINT, as a shell reports it


if __name__ == "__main__":
    sys.exit(main())
