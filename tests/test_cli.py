"""cli.py: `symgrad diff` (exact output, every error in one line with status 2), `symgrad demo`,
and the manners: --help, --version, progress bars and colour only on a terminal, NO_COLOR,
a reader that leaves early. Through main(argv), and through real processes and terminals."""

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

import symgrad as sg
from symgrad.cli import MAX_NODES, demo, load_digits, main
from symgrad.export.expression import MAX_TERMS
from symgrad.expr import parse

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")


def run(capsys, *argv):
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _nodes_line(text, wrt, order=1):
    y = parse(text)
    d = y
    for _ in range(order):
        d = sg.grad(d, y.graph.tensor(wrt))
    return f"nodes: {sg.count_nodes(d)} raw, {sg.count_nodes(sg.simplify(d))} simplified"


# -- symgrad diff ------------------------------------------------------------------------------
def test_diff_prints_the_raw_derivative_its_value_and_both_node_counts(capsys):
    status, out, err = run(capsys, "diff", "sin(x) * y", "--wrt", "x", "--at", "x=0.5",
                           "--at", "y=2")
    assert status == 0 and err == ""
    assert out.splitlines() == ["derivative: 1 * y * cos(x)",
                                f"value: {float(1 * 2.0 * np.cos(0.5))!r}",
                                _nodes_line("sin(x) * y", "x")]


def test_diff_simplify_prints_the_simplified_derivative_and_latex(capsys):
    status, out, _ = run(capsys, "diff", "sin(x) * y", "--wrt", "x", "--simplify", "--latex")
    assert status == 0
    assert out.splitlines() == ["derivative: y * cos(x)", _nodes_line("sin(x) * y", "x"),
                                r"latex: y \cdot \cos\left(x\right)"]


def test_diff_order_differentiates_again_and_the_printed_line_is_exact(capsys):
    text = "x ** 3 * exp(-x * y)"
    status, out, _ = run(capsys, "diff", text, "--wrt", "x", "--order", "3", "--at", "x=0.5",
                         "--at", "y=-1.25")
    assert status == 0
    derivative, value, nodes = out.splitlines()
    assert nodes == _nodes_line(text, "x", 3)
    # the line, parsed again, has the value printed; so does the closed form, up to rounding
    printed = parse(derivative.removeprefix("derivative: "))
    f = sg.function([printed.graph.tensor("x"), printed.graph.tensor("y")], printed,
                    simplify=False)
    assert value == f"value: {float(f(0.5, -1.25))!r}"
    x, y = 0.5, -1.25
    e = np.exp(-x * y)  # d^3/dx^3 x^3 e^{-xy}
    closed = e * (6 - 18 * x * y + 9 * x**2 * y**2 - x**3 * y**3)
    assert float(value.removeprefix("value: ")) == pytest.approx(closed, rel=1e-12)


def test_diff_value_keeps_nan_and_inf(capsys):
    _, out, err = run(capsys, "diff", "log(x)", "--wrt", "x", "--at", "x=0")
    assert out.splitlines()[1] == "value: inf" and err == ""
    _, out, _ = run(capsys, "diff", "sqrt(x)", "--wrt", "x", "--at", "x=-1")
    assert out.splitlines()[1] == "value: nan"


def test_diff_of_something_without_the_symbol_s_path_is_zero(capsys):
    _, out, _ = run(capsys, "diff", "(x > 0) * 3 + y", "--wrt", "x", "--at", "x=1", "--at",
                    "y=2")
    assert out.splitlines()[:2] == ["derivative: 0", "value: 0.0"]


def test_diff_dot_writes_the_printed_derivative_graph(capsys, tmp_path):
    path = tmp_path / "d.dot"
    status, out, _ = run(capsys, "diff", "tanh(x * y)", "--wrt", "y", "--dot", str(path))
    assert status == 0 and out.startswith("derivative: ")
    dot = path.read_text()
    assert dot.startswith("digraph") and "tanh_grad" in dot
    simplified = tmp_path / "s.dot"
    raw = tmp_path / "r.dot"
    run(capsys, "diff", "x * x", "--wrt", "x", "--dot", str(raw))
    run(capsys, "diff", "x * x", "--wrt", "x", "--simplify", "--dot", str(simplified))
    drawn = [len(re.findall(r"^n\d+ \[", p.read_text(), re.M)) for p in (raw, simplified)]
    assert drawn[1] < drawn[0]  # 1 * x + 1 * x became x * 2


# (argv after "diff", a part the message must hold, caret (column, carets) or None)
DIFF_ERRORS = [
    (["sin(x", "--wrt", "x"], "never closed (column 4)", (3, "^")),
    (["x + foo(x)", "--wrt", "x"], "unknown function 'foo' (column 5)", (4, "^^^")),
    (["x + __import__('os').system('ls')", "--wrt", "x"], "only functions called by name",
     (4, "^" * 23)),
    (["x.real", "--wrt", "x"], "attribute access", (0, "^^^^^^")),
    (["x // 2", "--wrt", "x"], "operator //", (0, "^^^^^^")),
    (["", "--wrt", "x"], "the expression is empty", None),
    (["x * y", "--wrt", "z"], "--wrt z: the expression has no symbol 'z' (its symbols: x, y)",
     None),
    (["2 * 3", "--wrt", "x"], "no symbol 'x' (it has none)", None),
    (["x * y"], "the following arguments are required: --wrt", None),
    (["x * y", "--wrt", "x", "--at", "x=1"], "--at gives no value for y", None),
    (["x * y", "--wrt", "x", "--at", "x=abc", "--at", "y=1"], "--at 'x=abc': 'abc' is not a "
     "number", None),
    (["x", "--wrt", "x", "--at", "x"], "--at 'x': expected NAME=NUMBER", None),
    (["x", "--wrt", "x", "--at", "=1"], "--at '=1': expected NAME=NUMBER", None),
    (["x", "--wrt", "x", "--at", "x=1", "--at", "x=2"], "x has a value already", None),
    (["x", "--wrt", "x", "--at", "x=1", "--at", "q=2"], "no symbol 'q'", None),
    (["x", "--wrt", "x", "--order", "0"], "--order must be at least 1, got 0", None),
    (["x", "--wrt", "x", "--order", "-2"], "--order must be at least 1, got -2", None),
    (["x", "--wrt", "x", "--order", "two"], "argument --order: invalid int value: 'two'", None),
    (["x", "--wrt", "x", "--bogus"], "unrecognized arguments: --bogus", None),
    (["x\x1b[31m +", "--wrt", "x"], "invalid non-printable character", (1, "^")),
]


@pytest.mark.parametrize("argv, part, caret", DIFF_ERRORS, ids=[" ".join(e[0]) for e in
                                                                 DIFF_ERRORS])
def test_diff_errors_exit_2_with_one_line_that_points_at_the_culprit(capsys, argv, part, caret):
    status, out, err = run(capsys, "diff", *argv)
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert re.match(r"symgrad( diff)?: error: ", lines[0]) and part in lines[0], lines[0]
    assert "Traceback" not in err and not ANSI.search(err)  # not a terminal: no colour
    if caret is None:
        assert len(lines) == 1
    else:  # the expression, and carets under the culprit
        column, carets = caret
        assert len(lines) == 3
        assert lines[1] == "  " + "".join(c if c.isprintable() else "?" for c in argv[0])
        assert lines[2] == "  " + " " * column + carets


def test_diff_failures_of_the_work_exit_1(capsys, tmp_path):
    status, _, err = run(capsys, "diff", "x", "--wrt", "x", "--dot", str(tmp_path / "no/d.dot"))
    assert status == 1 and "cannot write the file: No such file or directory" in err
    status, out, err = run(capsys, "diff", "tanh(x)", "--wrt", "x", "--order", "30")
    assert status == 1 and out == "" and len(err.splitlines()) == 1
    assert f"more than the {MAX_NODES}" in err and "lower --order" in err
    status, out, err = run(capsys, "diff", "sin(x) * exp(x * y) / (x + y)", "--wrt", "x",
                           "--order", "6")
    assert status == 1 and out == "" and len(err.splitlines()) == 1
    assert "cannot print the derivative: written out, add#" in err
    assert f"more than the {MAX_TERMS} allowed" in err and "try --simplify" in err


def test_an_error_symgrad_raises_is_one_line_too(capsys, monkeypatch):
    def fail(ys):
        raise sg.GraphError("the simplifier failed on add#3")

    monkeypatch.setattr(sg, "simplify", fail)
    status, out, err = run(capsys, "diff", "x + 1", "--wrt", "x")
    assert status == 1 and out == ""
    assert err == "symgrad diff: error: the simplifier failed on add#3\n"


def test_diff_through_python_dash_m():
    done = subprocess.run(
        [sys.executable, "-m", "symgrad", "diff", "x * exp(y)", "--wrt", "y", "--at", "x=2",
         "--at", "y=0", "--simplify"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.splitlines() == ["derivative: x * exp(y)", "value: 2.0",
                                        _nodes_line("x * exp(y)", "y")]
    bad = subprocess.run([sys.executable, "-m", "symgrad", "diff", "x +", "--wrt", "x"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert bad.stderr.splitlines()[0] == ("symgrad diff: error: the expression ends too early "
                                          "(column 4)")


# -- symgrad demo ------------------------------------------------------------------------------
def test_shipped_digits_load():
    images, labels = load_digits()
    assert images.shape == (1797, 64) and labels.shape == (1797,)
    assert images.min() == 0.0 and images.max() == 1.0
    assert set(labels.tolist()) == set(range(10))


def test_demo_learns_the_digits(capsys):
    accuracy = demo(epochs=3, hidden=32, lr=0.2, lam=1e-4, batch=32, seed=1)
    assert accuracy > 0.85  # chance is 0.1; the gradients are doing the work
    assert "held-out accuracy" in capsys.readouterr().out


def test_demo_with_its_defaults_keeps_95_percent_in_plain_lines(capsys):
    status, out, err = run(capsys, "demo")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[:2] for line in lines[1:-1]] == [
        ["epoch", f"{k}/15"] for k in range(1, 16)]  # one plain line per epoch
    assert "\r" not in out + err and not ANSI.search(out + err)  # no bar, no colour: no tty
    accuracy = float(re.search(r"held-out accuracy on \d+ images: ([\d.]+)%", lines[-1])[1])
    assert accuracy >= 95.0


def test_demo_rejects_bad_options(capsys):
    status, _, err = run(capsys, "demo", "--epochs", "0")
    assert status == 2 and err.splitlines() == ["symgrad demo: error: --epochs must be at least 1"]


# -- manners -----------------------------------------------------------------------------------
def test_help_lists_every_command_with_one_line(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    listed = re.findall(r"^    (\w+) +(\S.*)$", out, re.M)
    assert [name for name, _ in listed] == ["diff", "demo"]
    assert all(len(text) > 10 for _, text in listed)
    assert main([]) == 0 and "diff" in capsys.readouterr().out


def test_each_command_has_its_own_help(capsys):
    for command in ("diff", "demo"):
        status, out, _ = run(capsys, command, "--help")
        assert status == 0 and out.startswith(f"usage: symgrad {command}")
    assert "--wrt NAME" in run(capsys, "diff", "--help")[1]


def test_version(capsys):
    status, out, _ = run(capsys, "--version")
    assert status == 0 and out == f"symgrad {sg.__version__}\n"
    done = subprocess.run([sys.executable, "-m", "symgrad", "--version"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"symgrad {sg.__version__}\n"


def test_a_reader_that_leaves_early_ends_the_demo_quietly():
    # enough epochs that the demo is still writing when the reader has gone
    proc = subprocess.Popen([sys.executable, "-m", "symgrad", "demo", "--epochs", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(3)]
    proc.stdout.close()
    err = proc.stderr.read()
    status = proc.wait(timeout=120)
    assert lines[0].startswith("book 6.5.7 network") and lines[2].startswith("epoch   2/1000")
    assert "Traceback" not in err and "BrokenPipe" not in err and err == ""
    assert status == 1  # Python's status for a closed pipe: the handler ran, the loop stopped


def test_symgrad_demo_piped_into_head_has_no_traceback():
    done = subprocess.run(f"{sys.executable} -m symgrad demo --epochs 1000 | head -3",
                          shell=True, capture_output=True, text=True, timeout=120)
    assert len(done.stdout.splitlines()) == 3 and done.stderr == ""


def _on_a_terminal(argv, env_extra=None):
    """Runs argv with stdout a pipe and stderr a pseudo-terminal; returns (stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(TERM="xterm", **(env_extra or {}))
    leader, follower = pty.openpty()
    # a new pseudo-terminal is 0 columns wide, where tqdm draws nothing: make it 100
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=follower, env=env)
    os.close(follower)
    chunks = []
    while True:  # read the terminal until the process has closed it
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    out = proc.stdout.read().decode()
    proc.wait(timeout=120)
    os.close(leader)
    return out, b"".join(chunks).decode(errors="replace")


def test_the_demo_draws_a_progress_bar_only_on_a_terminal_and_colour_unless_no_color():
    argv = [sys.executable, "-m", "symgrad", "demo", "--epochs", "2"]
    out, err = _on_a_terminal(argv)
    assert "\r" in err and "epoch 1/2" in err and "batch" in err  # tqdm's bar, on stderr
    assert COLOUR.search(err)  # its colour
    assert "\r" not in out and not ANSI.search(out)  # stdout is a pipe: plain lines
    assert [line.split()[:2] for line in out.splitlines()[1:3]] == [["epoch", "1/2"],
                                                                     ["epoch", "2/2"]]
    out, err = _on_a_terminal(argv, {"NO_COLOR": "1"})
    assert "\r" in err and not COLOUR.search(err)  # still a bar, without colour


def test_errors_are_coloured_on_a_terminal_unless_no_color():
    argv = [sys.executable, "-m", "symgrad", "diff", "foo(x)", "--wrt", "x"]
    _, err = _on_a_terminal(argv)
    assert "\x1b[1;31merror:\x1b[0m unknown function 'foo'" in err
    _, err = _on_a_terminal(argv, {"NO_COLOR": "1"})
    assert "error: unknown function 'foo'" in err and not ANSI.search(err)
