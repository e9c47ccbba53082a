"""ops/control.py: stop_gradient, cast, zeros_like, ones_like."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, boolean, index, normal

CASES = [
    OpCase("stop_gradient", [normal((2, 3))], reference=lambda x: x),
    OpCase("cast", [normal((2, 3))], {"dtype": "float32"}, lambda x, dtype: x.astype(dtype)),
    OpCase("cast", [normal((2, 3))], {"dtype": "int32"}, lambda x, dtype: x.astype(dtype),
           label="int32"),
    OpCase("cast", [index((4,), 5)], {"dtype": np.float64}, lambda x, dtype: x.astype(dtype),
           label="from-int"),
    OpCase("cast", [boolean((4,))], {"dtype": "float32"}, lambda x, dtype: x.astype(dtype),
           label="from-bool"),
    OpCase("zeros_like", [normal((2, 3))], reference=np.zeros_like),
    OpCase("zeros_like", [index((3,), 4)], reference=np.zeros_like, label="int"),
    OpCase("ones_like", [normal((2, 3))], reference=np.ones_like),
]


def test_astype_is_cast_with_a_canonical_dtype():
    g = sg.Graph()
    x = g.placeholder("x", (3,))
    a, b = x.astype("float32"), sg.cast(x, np.float32)
    assert a.op == b.op == "cast" and a.dtype == np.float32
    assert a.params == b.params


def test_cast_to_an_unknown_dtype_raises():
    x = sg.Graph().placeholder("x", (3,))
    with pytest.raises(TypeError):
        x.astype("no such dtype")
