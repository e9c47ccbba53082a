"""export/text.py: debugprint's listings, compared line for line."""

import numpy as np
import pytest

import symgrad as sg


def test_a_shared_node_is_printed_once_then_referred_to_by_id():
    g = sg.Graph()
    x = g.placeholder("x", (None, 3))
    s = sg.sin(x)
    y = (s * s + s).sum()
    y.name = "y"
    assert sg.debugprint(y) == """\
sum{axis=None, keepdims=False} #4 'y' () float64
└─ add #3 (?, 3) float64
   ├─ multiply #2 (?, 3) float64
   │  ├─ sin #1 (?, 3) float64
   │  │  └─ placeholder #0 'x' (?, 3) float64
   │  └─ sin #1 (see above)
   └─ sin #1 (see above)"""


def test_derivative_nodes_show_their_pass_and_rule_and_results_what_they_are():
    g = sg.Graph()
    x = g.placeholder("x", (3,), "float32")
    y = (sg.sin(x) * 2.0).sum()
    y.name = "y"
    dx = sg.grad(y, x)
    assert sg.debugprint(dx) == """\
multiply #8 (3,) float32 [gradient, pass 1, rule of #1] ∂y/∂x
├─ constant #6 = 2 () float32 [gradient, pass 1, rule of #3]
└─ cos #7 (3,) float32 [gradient, pass 1, rule of #1]
   └─ placeholder #0 'x' (3,) float32"""


def test_a_graph_lists_every_node_nothing_consumes_and_ys_share_what_was_printed():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    y = (sg.sin(x) * 2.0).sum()
    y.name = "y"
    sg.grad(y, x)
    whole = sg.debugprint(g)
    assert whole == """\
sum{axis=None, keepdims=False} #4 'y' () float64
└─ multiply #3 (3,) float64
   ├─ sin #1 (3,) float64
   │  └─ placeholder #0 'x' (3,) float64
   └─ constant #2 = 2 () float64
multiply #8 (3,) float64 [gradient, pass 1, rule of #1] ∂y/∂x
├─ constant #6 = 2 () float64 [gradient, pass 1, rule of #3]
└─ cos #7 (3,) float64 [gradient, pass 1, rule of #1]
   └─ placeholder #0 'x' (see above)"""
    assert sg.debugprint([y, g.tensor(8)]) == whole


def test_multi_output_nodes_and_constants_by_value():
    g = sg.Graph()
    x = g.placeholder("x", (2, 2))
    m, i = sg.max_and_argmax(x @ g.constant(np.eye(2), name="I"), axis=1)
    big = g.constant(np.zeros((3, 3)))
    assert sg.debugprint([m, i, big]) == """\
output{index=0} #4 (2,) float64
└─ max_and_argmax{axis=1} #3 -> (2,) float64, (2,) int64
   └─ matmul #2 (2, 2) float64
      ├─ placeholder #0 'x' (2, 2) float64
      └─ constant #1 'I' = [[1, 0], [0, 1]] (2, 2) float64
output{index=1} #5 (2,) int64
└─ max_and_argmax #3 (see above)
constant #6 (3, 3) float64"""


def test_simplified_nodes_say_so():
    g = sg.Graph()
    x = g.placeholder("x", (2,))
    with g.origin("simplify"):
        y = sg.exp(x)
    assert sg.debugprint(y) == "exp #1 (2,) float64 [simplify]\n└─ placeholder #0 'x' (2,) float64"


def test_a_long_chain_is_listed_without_recursion():
    g = sg.Graph()
    y = g.placeholder("x", ())
    for _ in range(3000):
        y = sg.sin(y)
    lines = sg.debugprint(y).split("\n")
    assert len(lines) == 3001
    assert lines[-1].endswith("└─ placeholder #0 'x' () float64")


def test_bad_arguments():
    with pytest.raises(TypeError):
        sg.debugprint("x")
    with pytest.raises(ValueError):
        sg.debugprint([])
