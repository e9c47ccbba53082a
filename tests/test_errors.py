"""errors.py, and the promise around it: every error symgrad raises on bad input is a
SymgradError (or a TypeError for a value of the wrong Python type), names the culprit, and
leaves the graph as it was."""

import numpy as np
import pytest

import symgrad as sg


def _graph():
    """A graph, placeholders x (2, 3) and w (3,), and y = sum(tanh(x @ w)^2)."""
    g = sg.Graph()
    x = g.placeholder("x", (2, 3))
    w = g.placeholder("w", (3,))
    y = (sg.tanh(x @ w) ** 2).sum()
    g.placeholder("d", (None,))
    return g, x, w, y


def _h(g):
    """x @ w, built before the bad call (the call may not leave anything behind)."""
    return next(g.tensor(n) for n, op in g.nx.nodes(data="op") if op == "matmul")


# (what, the bad call given (graph, x, w, y), a word the message must hold)
BAD_CALLS = [
    ("unknown op", lambda g, x, w, y: sg.apply("no_such_op", [x]), "no_such_op"),
    ("op registered twice", lambda g, x, w, y: sg.register(sg.OPS["add"]), "add"),
    ("shapes that do not broadcast", lambda g, x, w, y: x + np.ones(4), "add"),
    ("matmul that does not align", lambda g, x, w, y: x @ x, "matmul"),
    ("bad axis", lambda g, x, w, y: x.sum(axis=5), "axis"),
    ("repeated axis", lambda g, x, w, y: x.sum(axis=(0, 0)), "axis"),
    ("bad transpose", lambda g, x, w, y: x.transpose((0, 0)), "transpose"),
    ("bad reshape", lambda g, x, w, y: x.reshape((4, 2)), "reshape"),
    ("huge reshape", lambda g, x, w, y: x.reshape((2**62, 2**62)), "reshape"),
    ("index out of range", lambda g, x, w, y: x[5], "getitem"),
    ("zero slice step", lambda g, x, w, y: x[::0], "step"),
    ("cast to text", lambda g, x, w, y: x.astype("U5"), "cast"),
    ("stack of nothing", lambda g, x, w, y: sg.stack([]), None),
    ("mixed ranks in concatenate", lambda g, x, w, y: sg.concatenate([x, w]), "concatenate"),
    ("duplicate placeholder", lambda g, x, w, y: g.placeholder("x"), "x"),
    ("bad placeholder shape", lambda g, x, w, y: g.placeholder("z", (-1,)), "shape"),
    ("unknown tensor name", lambda g, x, w, y: g.tensor("nope"), "nope"),
    ("unknown node id", lambda g, x, w, y: g.tensor(10**6), "1000000"),
    ("missing feed", lambda g, x, w, y: sg.evaluate(y, {x: np.ones((2, 3))}), "w"),
    ("feed of a wrong shape", lambda g, x, w, y: sg.evaluate(y, {x: np.ones(3), w: np.ones(3)}),
     "x"),
    ("feed of a wrong dtype", lambda g, x, w, y: sg.evaluate(
        y, {x: np.ones((2, 3), dtype=complex), w: np.ones(3)}), "x"),
    ("ragged feed", lambda g, x, w, y: sg.evaluate(w, {w: [1, [2, 3]]}), "w"),
    ("unknown feed name", lambda g, x, w, y: sg.evaluate(y, {"q": 1.0}), "q"),
    ("feed key of a wrong type", lambda g, x, w, y: sg.evaluate(y, {3: 1.0}), "3"),
    ("input given twice", lambda g, x, w, y: sg.function([x, x], y), "x"),
    ("non-scalar y without grad_ys", lambda g, x, w, y: sg.gradients(_h(g), x), "grad_ys"),
    ("grad_ys of a wrong shape", lambda g, x, w, y: sg.gradients(_h(g), x, np.ones(4)),
     "grad_ys"),
    ("complex grad_ys", lambda g, x, w, y: sg.gradients(_h(g), x, np.ones(2) * 1j),
     "grad_ys"),
    ("bad unconnected policy", lambda g, x, w, y: sg.gradients(y, x, unconnected="ignore"),
     "unconnected"),
    ("hvp vector of a wrong shape", lambda g, x, w, y: sg.hvp(y, w, np.ones(4)), "w"),
    ("hvp with too few vectors", lambda g, x, w, y: sg.hvp(y, [x, w], [np.ones(3)]), "hvp"),
    ("jvp with too few tangents", lambda g, x, w, y: sg.jvp(y, [x, w], [np.ones(3)]), "jvp"),
    ("hessian of a vector", lambda g, x, w, y: sg.hessian(_h(g), w), "hessian"),
    ("jacobian with unknown shapes", lambda g, x, w, y: sg.jacobian(g.tensor("d"), w),
     "jacobian"),
    ("nothing to evaluate", lambda g, x, w, y: sg.evaluate([], {}), "outputs"),
    ("unknown backend", lambda g, x, w, y: sg.evaluate(y, {}, backend="cuda"), "cuda"),
    ("truth value of a tensor", lambda g, x, w, y: bool(y), "truth"),
    ("numpy conversion", lambda g, x, w, y: np.asarray(x), "x"),
    ("numpy function", lambda g, x, w, y: np.sum(x), "x"),
    ("a tensor of another graph", lambda g, x, w, y: x + sg.Graph().placeholder("x"), "graph"),
    ("round to huge decimals", lambda g, x, w, y: sg.round(x, 10**30), "decimals"),
    ("a constant of objects", lambda g, x, w, y: g.constant([object()]), "constant"),
]


@pytest.mark.parametrize("call, word", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS])
def test_bad_input_is_a_symgrad_error_or_type_error_and_changes_nothing(call, word):
    g, x, w, y = _graph()
    before = dict(g.nx.nodes(data=True)), set(g.nx.edges), g.next_id
    with pytest.raises(Exception) as info:
        call(g, x, w, y)
    assert isinstance(info.value, (sg.SymgradError, TypeError)), repr(info.value)
    if word is not None:
        assert word in str(info.value), str(info.value)
    assert (dict(g.nx.nodes(data=True)), set(g.nx.edges), g.next_id) == before


def test_every_error_class_is_a_symgrad_error_and_a_value_error():
    for cls in (sg.GraphError, sg.ShapeError, sg.GradientError, sg.FeedError, sg.FormatError,
                sg.NonFiniteError):
        assert issubclass(cls, sg.SymgradError) and issubclass(cls, ValueError)
