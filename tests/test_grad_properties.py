"""Property: on random small graphs of smooth ops, gradients match finite differences."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad as sg
from symgrad.testing import check_grads

UNARY = [sg.sin, sg.cos, sg.tanh, sg.sigmoid, sg.softplus, sg.square, sg.negative,
         lambda t: sg.exp(sg.tanh(t)), lambda t: sg.log1p(sg.square(t)),
         lambda t: sg.softmax(t, axis=-1), lambda t: t.T.T]
BINARY = [sg.add, sg.subtract, sg.multiply,
          lambda a, b: a / (1.0 + sg.square(b)),
          lambda a, b: sg.where(a > b, a * b, a - b) * 0 + a * b]
REDUCE = [lambda t: t.sum(axis=0, keepdims=True), lambda t: t.mean(axis=-1, keepdims=True),
          lambda t: sg.logsumexp(t, axis=0, keepdims=True)]

steps = st.lists(
    st.tuples(st.sampled_from(["unary", "binary", "reduce"]), st.integers(0, 100),
              st.integers(0, 100), st.integers(0, 100)),
    min_size=1, max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(steps=steps, seed=st.integers(0, 2**16))
def test_random_graphs_have_correct_gradients(steps, seed):
    g = sg.Graph()
    a = g.placeholder("a", (2, 3))
    b = g.placeholder("b", (3,))
    pool = [a, b]
    for kind, k, i, j in steps:
        x, y = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "unary":
            pool.append(UNARY[k % len(UNARY)](x))
        elif kind == "binary":
            pool.append(BINARY[k % len(BINARY)](x, y))  # broadcasting between (2,3) and (3,)
        else:
            pool.append(REDUCE[k % len(REDUCE)](x) if x.ndim else x)
    cost = sum(t.sum() for t in pool[2:])
    rng = np.random.default_rng(seed)
    feed = {a: rng.normal(size=(2, 3)), b: rng.normal(size=3)}
    check_grads(cost, [a, b], feed, order=2, rtol=1e-4, atol=1e-5)
