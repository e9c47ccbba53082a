"""ops/linalg.py: matmul with NumPy's semantics (1-D operands, batches), and its shape errors."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, index, normal

CASES = [
    OpCase("matmul", [normal((2, 3)), normal((3, 4))], reference=np.matmul),
    OpCase("matmul", [normal((3,)), normal((3, 4))], reference=np.matmul, label="vec-mat"),
    OpCase("matmul", [normal((2, 3)), normal((3,))], reference=np.matmul, label="mat-vec"),
    OpCase("matmul", [normal((3,)), normal((3,))], reference=np.matmul, label="vec-vec"),
    OpCase("matmul", [normal((2, 1, 3, 4)), normal((5, 4, 2))], reference=np.matmul,
           label="batch-broadcast"),
    OpCase("matmul", [normal((3,)), normal((2, 3, 4))], reference=np.matmul, label="vec-batch"),
    OpCase("matmul", [normal((2, 3)), index((3, 2), 4)], reference=np.matmul, label="int"),
]


def test_operator_and_none_batch(rng):
    g = sg.Graph()
    x = g.placeholder("x", (None, 784))
    w = g.placeholder("W", (784, 10), "float32")
    y = x @ w.astype("float64")
    assert y.op == "matmul" and y.shape == (None, 10) and y.dtype == np.float64
    z = np.ones((3, 2)) @ g.placeholder("v", (2, 5))   # __rmatmul__, array first
    assert z.op == "matmul" and z.shape == (3, 5)
    vx, vw = rng.standard_normal((7, 784)), rng.standard_normal((784, 10)).astype("float32")
    np.testing.assert_allclose(sg.evaluate(y, {x: vx, w: vw}), vx @ vw.astype("float64"))


@pytest.mark.parametrize("a, b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                  ((2, 2, 3), (3, 3, 1)), ((), (3,))])
def test_shape_error_names_the_op_and_both_shapes(a, b):
    g = sg.Graph()
    x, y = g.placeholder("x", a), g.placeholder("y", b)
    with pytest.raises(sg.ShapeError) as e:
        x @ y
    msg = str(e.value)
    assert "matmul" in msg and str(a) in msg and str(b) in msg, msg


def test_unknown_inner_dimension_is_checked_at_run_time():
    g = sg.Graph()
    x, y = g.placeholder("x", (2, None)), g.placeholder("y", (3, 4))
    assert (x @ y).shape == (2, 4)
    with pytest.raises(sg.ShapeError, match="matmul"):
        sg.evaluate(x @ y, {x: np.ones((2, 5)), y: np.ones((3, 4))})
