"""Elementwise operations and comparisons: broadcasting shape rule, NumPy dtype, derivative.

Derivative rules return broadcast-shaped terms; the derivative pass sums each to its input's shape.
Conventions at kinks (docs/conventions.md): relu'(0) = 0, |x|'(0) = 0, sqrt'(0) = inf, and
maximum/minimum share the gradient equally between tied inputs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..shapes import broadcast
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, lift, register


def elementwise(
    name: str, compute: Callable, bprop: Callable | None, commutative: bool = False,
    bprop_wanted: bool = False,
) -> OpDef:
    """Registers an elementwise op: NumPy broadcasting of all inputs, NumPy's result dtype."""

    dtypes: dict[tuple, np.dtype] = {}  # result dtype by input dtypes; ranks do not matter here

    def infer(inputs):
        shape = broadcast(name, *[t._a["shape"] for t in inputs])
        key = tuple([t._a["dtype"] for t in inputs])
        dtype = dtypes.get(key)
        if dtype is None:
            dtype = dtypes[key] = dtype_of(name, compute, inputs)
        return shape, dtype

    return register(OpDef(name, infer, compute, bprop, commutative=commutative, elementwise=True,
                          bprop_wanted=bprop_wanted))


def no_grad(out, g):
    """For ops whose result carries no gradient (booleans, integers): nothing flows back."""
    return (None,) * len(out.inputs)


# -- builders (the public names of API.md) -------------------------------------------------------
def add(x, y): return apply("add", [x, y])
def subtract(x, y): return apply("subtract", [x, y])
def multiply(x, y): return apply("multiply", [x, y])
def divide(x, y): return apply("divide", [x, y])
def power(x, y): return apply("power", [x, y])
def maximum(x, y): return apply("maximum", [x, y])
def minimum(x, y): return apply("minimum", [x, y])
def negative(x): return apply("negative", [x])
def exp(x): return apply("exp", [x])
def log(x): return apply("log", [x])
def log1p(x): return apply("log1p", [x])
def sqrt(x): return apply("sqrt", [x])
def square(x): return apply("square", [x])
def abs(x): return apply("abs", [x])  # noqa: A001 - NumPy's name, as API.md fixes it
def sign(x): return apply("sign", [x])
def sin(x): return apply("sin", [x])
def cos(x): return apply("cos", [x])
def tanh(x): return apply("tanh", [x])
def sigmoid(x): return apply("sigmoid", [x])
def relu(x): return apply("relu", [x])
def softplus(x): return apply("softplus", [x])
def where(cond, x, y):
    # The branches decide the dtype, as in NumPy: a number takes the other branch's dtype;
    # two numbers keep their own. The condition plays no part.
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        x, y = lift("where", [x, y])
    else:
        x, y = np.asarray(x), np.asarray(y)
    return apply("where", [cond, x, y])
def less(x, y): return apply("less", [x, y])
def less_equal(x, y): return apply("less_equal", [x, y])
def greater(x, y): return apply("greater", [x, y])
def greater_equal(x, y): return apply("greater_equal", [x, y])
def equal(x, y): return apply("equal", [x, y])
def not_equal(x, y): return apply("not_equal", [x, y])


def _sigmoid(x):
    # exp(-softplus(-x)): no overflow for large |x|, unlike 1 / (1 + exp(-x)), and full relative
    # precision for x << 0, unlike 0.5 tanh(x/2) + 0.5 (which gives 0 below x = -37)
    return np.exp(-np.logaddexp(0, 0.0 - x))  # 0.0 - x: dtypes as NumPy gives 0.5 * x


def _relu(x):
    return np.maximum(x, 0)


def _softplus(x):
    return np.logaddexp(0, x)  # log(1 + e^x) without overflow


def _tied_share(x, y, g):
    """The gradient maximum/minimum pass to x: all of g where x wins, half of it at a tie."""
    return where(equal(x, y), g * 0.5, 0)


def _maximum_bprop(out, g, wanted):
    x, y = out.inputs
    tie = _tied_share(x, y, g)
    return (where(x > y, g, tie) if wanted[0] else None,
            where(y > x, g, tie) if wanted[1] else None)


def _minimum_bprop(out, g, wanted):
    x, y = out.inputs
    tie = _tied_share(x, y, g)
    return (where(x < y, g, tie) if wanted[0] else None,
            where(y < x, g, tie) if wanted[1] else None)


def _power_bprop(out, g, wanted):
    x, y = out.inputs
    # d x^y = y x^(y-1) dx + x^y log(x) dy, with JAX's conventions where that is 0 * inf:
    # x^(y-1) becomes x^1 where y = 0 (so d(x^0)/dx = 0, also at x = 0), and log(x) becomes
    # log(1) where x = 0 (so d(0^y)/dy = 0 for y >= 0)
    return (_power_dx(x, y, g) if wanted[0] else None,
            g * out * log(where(equal(x, 0), 1, x)) if wanted[1] else None)


def _power_dx(x, y, g):
    """g y x^(y-1); for a constant scalar y, with y-1 worked out now (x^2 -> (2g) x, no power
    node), g scaled first: it may be a scalar not yet broadcast to x's shape."""
    c = y._a.get("value")
    if c is None or c.ndim != 0:
        return g * y * power(x, where(equal(y, 0), 1, y - 1))
    c = c.item()
    if c == 0:
        return g * 0  # zero, yet connected (as sign)
    return g if c == 1 else (g * c) * x if c == 2 else (g * c) * power(x, c - 1)


def _multiply_bprop(out, g, wanted):
    x, y = out.inputs  # x*x: two terms, one per position
    return g * y if wanted[0] else None, g * x if wanted[1] else None


def _divide_bprop(out, g, wanted):
    x, y = out.inputs  # d(x/y) = dx/y - (x/y) dy/y
    return g / y if wanted[0] else None, -(g * out) / y if wanted[1] else None


elementwise("add", np.add, lambda out, g: (g, g), commutative=True)
elementwise("subtract", np.subtract, lambda out, g: (g, -g))
elementwise("multiply", np.multiply, _multiply_bprop, bprop_wanted=True, commutative=True)
elementwise("divide", np.divide, _divide_bprop, bprop_wanted=True)
elementwise("power", np.power, _power_bprop, bprop_wanted=True)
elementwise("maximum", np.maximum, _maximum_bprop, bprop_wanted=True, commutative=True)
elementwise("minimum", np.minimum, _minimum_bprop, bprop_wanted=True, commutative=True)
elementwise("negative", np.negative, lambda out, g: (-g,))
elementwise("exp", np.exp, lambda out, g: (g * out,))                     # reuse exp(x) itself
elementwise("log", np.log, lambda out, g: (g / out.inputs[0],))
elementwise("log1p", np.log1p, lambda out, g: (g / (out.inputs[0] + 1),))
elementwise("sqrt", np.sqrt, lambda out, g: (g / (out * 2),))            # inf at 0
elementwise("square", np.square, lambda out, g: (g * (out.inputs[0] * 2),))
elementwise("abs", np.abs, lambda out, g: (g * sign(out.inputs[0]),))    # 0 at 0
elementwise("sign", np.sign, lambda out, g: (g * 0,))                    # zero, yet connected
elementwise("sin", np.sin, lambda out, g: (g * cos(out.inputs[0]),))
elementwise("cos", np.cos, lambda out, g: (-(g * sin(out.inputs[0])),))
elementwise("tanh", np.tanh, lambda out, g: (apply("tanh_grad", [out, g]),))
elementwise("sigmoid", _sigmoid, lambda out, g: (apply("sigmoid_grad", [out, g]),))
# Their derivatives as one node each, in terms of the result y: one node instead of three in
# every gradient, one NumPy pass fewer at run time; differentiable again (Hessians, HVPs).
elementwise("tanh_grad", lambda y, g: g * (1 - y * y),        # g (1 - y^2)
            lambda out, gg: (gg * (-2 * out.inputs[1] * out.inputs[0]),
                             apply("tanh_grad", [out.inputs[0], gg])))
elementwise("sigmoid_grad", lambda y, g: g * (y * (1 - y)),   # g y (1 - y)
            lambda out, gg: (gg * (out.inputs[1] * (1 - 2 * out.inputs[0])),
                             apply("sigmoid_grad", [out.inputs[0], gg])))
# g times the 0/1 mask: 0 at 0; six times faster than where(x > 0, g, 0) on a random mask
elementwise("relu", _relu, lambda out, g: (g * (out.inputs[0] > 0),))
elementwise("softplus", _softplus, lambda out, g: (g * sigmoid(out.inputs[0]),))
elementwise("where", np.where,
            bprop=lambda out, g: (None, where(out.inputs[0], g, 0), where(out.inputs[0], 0, g)))
for _name in ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal"):
    elementwise(_name, getattr(np, _name), no_grad, commutative=_name in ("equal", "not_equal"))
