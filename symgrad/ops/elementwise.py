"""Elementwise operations and comparisons: broadcasting shape rule, NumPy dtype, derivative.

Derivative rules return broadcast-shaped terms; the derivative pass sums each to its input's shape.
Conventions at kinks and non-finite points are listed in docs/conventions.md and
docs/operations.md ("Every operation"); each rule below says its own in a comment.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np

from ..errors import ShapeError
from ..shapes import broadcast
from ..tensor import Tensor
from .base import OpDef, apply, dtype_of, lift, register


def elementwise(
    name: str, compute: Callable, bprop: Callable | None, commutative: bool = False,
    bprop_wanted: bool = False, normalize: Callable | None = None, scalar: str | None = None,
) -> OpDef:
    """Registers an elementwise op: NumPy broadcasting of all inputs, NumPy's result dtype.

    An op with params (leaky_relu's slope, say) has a `normalize` that checks them; they reach
    `compute` as keywords.
    """

    dtypes: dict[tuple, np.dtype] = {}  # result dtype by input dtypes; ranks do not matter here

    def infer(inputs):
        shape = broadcast(name, *[t._a["shape"] for t in inputs])
        key = tuple([t._a["dtype"] for t in inputs])
        dtype = dtypes.get(key)
        if dtype is None:
            dtype = dtypes[key] = dtype_of(name, compute, inputs)
        return shape, dtype

    def infer_with_params(inputs, **params):  # kept apart: building nodes is a hot path
        shape = broadcast(name, *[t._a["shape"] for t in inputs])
        key = (*[t._a["dtype"] for t in inputs], *params.items())
        dtype = dtypes.get(key)
        if dtype is None:
            dtype = dtypes[key] = dtype_of(name, compute, inputs, **params)
        return shape, dtype

    return register(OpDef(name, infer if normalize is None else infer_with_params, compute,
                          bprop, commutative=commutative, elementwise=True,
                          bprop_wanted=bprop_wanted, normalize=normalize, scalar=scalar))


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
def expm1(x): return apply("expm1", [x])
def exp2(x): return apply("exp2", [x])
def log2(x): return apply("log2", [x])
def log10(x): return apply("log10", [x])
def reciprocal(x): return apply("reciprocal", [x])
def tan(x): return apply("tan", [x])
def arcsin(x): return apply("arcsin", [x])
def arccos(x): return apply("arccos", [x])
def arctan(x): return apply("arctan", [x])
def arctan2(y, x): return apply("arctan2", [y, x])
def sinh(x): return apply("sinh", [x])
def cosh(x): return apply("cosh", [x])
def arcsinh(x): return apply("arcsinh", [x])
def arccosh(x): return apply("arccosh", [x])
def arctanh(x): return apply("arctanh", [x])
def hypot(x, y): return apply("hypot", [x, y])
def logaddexp(x, y): return apply("logaddexp", [x, y])
def floor(x): return apply("floor", [x])
def ceil(x): return apply("ceil", [x])
def round(x, decimals=0): return apply("round", [x], decimals=decimals)  # noqa: A001
def trunc(x): return apply("trunc", [x])
def mod(x, y): return apply("mod", [x, y])
def erf(x): return apply("erf", [x])
def erfc(x): return apply("erfc", [x])
def gelu(x): return apply("gelu", [x])
def leaky_relu(x, slope=0.01): return apply("leaky_relu", [x], slope=slope)
def elu(x, alpha=1.0): return apply("elu", [x], alpha=alpha)
def silu(x): return apply("silu", [x])
def clip(x, lo=None, hi=None):
    """x limited to [lo, hi] as np.clip does; a bound is a number, a tensor or None (no bound)."""
    if lo is None or hi is None:  # the dtype's own extreme: no promotion, as in NumPy
        (x, *_) = lift("clip", [x, *(b for b in (lo, hi) if b is not None)])
        lo = _extreme(x.dtype, -1) if lo is None else lo
        hi = _extreme(x.dtype, 1) if hi is None else hi
    return apply("clip", [x, lo, hi])
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


elementwise("add", np.add, lambda out, g: (g, g), commutative=True, scalar="{0} + {1}")
elementwise("subtract", np.subtract, lambda out, g: (g, -g), scalar="{0} - {1}")
elementwise("multiply", np.multiply, _multiply_bprop, bprop_wanted=True, commutative=True,
            scalar="{0} * {1}")
elementwise("divide", np.divide, _divide_bprop, bprop_wanted=True, scalar="{0} / {1}")
elementwise("power", np.power, _power_bprop, bprop_wanted=True, scalar="pow({0}, {1})")
elementwise("maximum", np.maximum, _maximum_bprop, bprop_wanted=True, commutative=True,
            scalar="{0} if {0} > {1} else {1}")  # NumPy: the second unless the first is larger
elementwise("minimum", np.minimum, _minimum_bprop, bprop_wanted=True, commutative=True,
            scalar="{0} if {0} < {1} else {1}")
elementwise("negative", np.negative, lambda out, g: (-g,), scalar="-{0}")
elementwise("exp", np.exp, lambda out, g: (g * out,), scalar="exp({0})")  # reuse exp(x) itself
elementwise("log", np.log, lambda out, g: (g / out.inputs[0],), scalar="log({0})")
elementwise("log1p", np.log1p, lambda out, g: (g / (out.inputs[0] + 1),), scalar="log1p({0})")
elementwise("sqrt", np.sqrt, lambda out, g: (g / (out * 2),), scalar="sqrt({0})")  # inf at 0
elementwise("square", np.square, lambda out, g: (g * (out.inputs[0] * 2),), scalar="{0} * {0}")
elementwise("abs", np.abs, lambda out, g: (g * sign(out.inputs[0]),), scalar="fabs({0})")  # 0 at 0
elementwise("sign", np.sign, lambda out, g: (g * 0,))                    # zero, yet connected
elementwise("sin", np.sin, lambda out, g: (g * cos(out.inputs[0]),), scalar="sin({0})")
elementwise("cos", np.cos, lambda out, g: (-(g * sin(out.inputs[0])),), scalar="cos({0})")
elementwise("tanh", np.tanh, lambda out, g: (apply("tanh_grad", [out, g]),), scalar="tanh({0})")
elementwise("sigmoid", _sigmoid, lambda out, g: (apply("sigmoid_grad", [out, g]),),
            scalar="exp(-logaddexp0(-{0}))")
# Their derivatives as one node each, in terms of the result y: one node instead of three in
# every gradient, one NumPy pass fewer at run time; differentiable again (Hessians, HVPs).
elementwise("tanh_grad", lambda y, g: g * (1 - y * y),        # g (1 - y^2)
            lambda out, gg: (gg * (-2 * out.inputs[1] * out.inputs[0]),
                             apply("tanh_grad", [out.inputs[0], gg])),
            scalar="{1} * (1.0 - {0} * {0})")
elementwise("sigmoid_grad", lambda y, g: g * (y * (1 - y)),   # g y (1 - y)
            lambda out, gg: (gg * (out.inputs[1] * (1 - 2 * out.inputs[0])),
                             apply("sigmoid_grad", [out.inputs[0], gg])),
            scalar="{1} * ({0} * (1.0 - {0}))")
# g times the 0/1 mask: 0 at 0; six times faster than where(x > 0, g, 0) on a random mask
elementwise("relu", _relu, lambda out, g: (g * (out.inputs[0] > 0),),
            scalar="{0} if {0} > 0.0 else 0.0")
elementwise("softplus", _softplus, lambda out, g: (g * sigmoid(out.inputs[0]),),
            scalar="logaddexp0({0})")
elementwise("where", np.where,
            bprop=lambda out, g: (None, where(out.inputs[0], g, 0), where(out.inputs[0], 0, g)),
            scalar="{1} if {0} else {2}")
for _name, _form in (("less", "<"), ("less_equal", "<="), ("greater", ">"),
                    ("greater_equal", ">="), ("equal", "=="), ("not_equal", "!=")):
    elementwise(_name, getattr(np, _name), no_grad, commutative=_name in ("equal", "not_equal"),
                scalar=f"{{0}} {_form} {{1}}")


# -- the rest of NumPy's float functions ---------------------------------------------------------
def _safe(d):
    """d with its zeros replaced by 1: a denominator that keeps x / d finite where x = d = 0."""
    return where(equal(d, 0), 1, d)


def _sqrt_one_minus_square(x):
    return sqrt((1 - x) * (1 + x))  # sqrt(1 - x^2) without the cancellation near |x| = 1


def _inf_tie(x, y):
    """Where x and y are the same infinity (x - y is NaN there)."""
    return where(equal(x, y), equal(abs(x), np.inf), False)


def _logaddexp_bprop(out, g, wanted):
    # d/dx = sigmoid(x - y), d/dy = sigmoid(y - x): no exp(x - out) that overflows; where x and
    # y are the same infinity, half each (the tie rule of maximum, which logaddexp smooths)
    x, y = out.inputs
    t = where(_inf_tie(x, y), 0, x - y)
    return (g * sigmoid(t) if wanted[0] else None,
            g * sigmoid(-t) if wanted[1] else None)


def _arctan2_bprop(out, g, wanted):
    y, x = out.inputs  # d atan2(y, x) = (x dy - y dx) / r^2; 0 at the origin, as for hypot
    r = _safe(hypot(y, x))
    return (g * (x / r) / r if wanted[0] else None,
            -(g * (y / r) / r) if wanted[1] else None)


def _hypot_bprop(out, g, wanted):
    x, y = out.inputs  # d hypot = (x dx + y dy) / hypot; 0 at the origin (a subgradient)
    r = _safe(out)
    return g * x / r if wanted[0] else None, g * y / r if wanted[1] else None


def _mod_bprop(out, g, wanted):
    # mod(x, y) = x - y floor(x / y): JAX's rule (d/dx = 1, d/dy = -floor(x / y)), the
    # derivative of the piece that holds at the point; at a jump, x / y = k, d/dy = -k
    x, y = out.inputs
    return g if wanted[0] else None, -(g * floor(x / y)) if wanted[1] else None


def _clip_bprop(out, g, wanted):
    # all of g to x on the closed interval lo <= x <= hi (a value at a bound keeps its
    # gradient, as in PyTorch and TensorFlow); below it to lo, above it to hi; if lo > hi, np.clip
    # gives hi everywhere and hi takes it all
    x, lo, hi = out.inputs
    return (where(x < lo, 0, where(x > hi, 0, g)) if wanted[0] else None,
            where(x < lo, where(lo > hi, 0, g), 0) if wanted[1] else None,
            where(x > hi, g, where(lo > hi, g, 0)) if wanted[2] else None)


def _extreme(dtype: np.dtype, side: int) -> np.ndarray:
    """-inf or +inf in `dtype`, or its smallest or largest value (side -1 or 1)."""
    if dtype.kind == "f":
        value = side * np.inf
    elif dtype.kind == "b":
        value = side > 0
    else:
        info = np.iinfo(dtype)
        value = info.min if side < 0 else info.max
    return np.array(value, dtype)


@cache
def _special():
    """scipy.special, imported at first use: at import it would add half to `import symgrad`."""
    import scipy.special

    return scipy.special


def _numpy_float(result, x):
    """A SciPy result in the float dtype NumPy's own functions give (np.exp: int8 -> float16,
    float32 -> float32); SciPy has no float16 loops and would give float64."""
    return result.astype(np.result_type(x.dtype, np.float16), copy=False)


def _erf(x):
    return _numpy_float(_special().erf(x), x)


def _erfc(x):
    return _numpy_float(_special().erfc(x), x)


def _gelu(x):
    return _numpy_float(x * _special().ndtr(x), x)  # x Phi(x); ndtr is precise for x << 0 too


def _leaky_relu(x, *, slope):
    return np.where(x > 0, x, x * slope)


def _elu(x, *, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))  # no overflow for x >> 0


def _silu(x):
    return x * _sigmoid(x)


def _number_param(name, key, default):
    def normalize(inputs, **params):
        value = params.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name}: {key} must be a number, got {value!r}")
        return {key: float(value)}
    return normalize


def _round_normalize(inputs, decimals=0):
    if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(f"round: decimals must be an int, got {decimals!r}")
    if not -(2**31) < decimals < 2**31:  # NumPy takes a C int
        raise ShapeError(f"round: decimals {decimals} is out of range (a C int)")
    return {"decimals": int(decimals)}


_LN2, _LN10 = math.log(2), math.log(10)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_ONE_OVER_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def _zero(out, g):
    """Piecewise constant (floor, round, ...): derivative zero, yet connected, as for sign."""
    return (g * 0,)


elementwise("expm1", np.expm1, lambda out, g: (g * exp(out.inputs[0]),),  # not out + 1: tails
            scalar="expm1({0})")
elementwise("exp2", np.exp2, lambda out, g: ((g * out) * _LN2,), scalar="exp2({0})")
elementwise("log2", np.log2, lambda out, g: (g / (out.inputs[0] * _LN2),), scalar="log2({0})")
elementwise("log10", np.log10, lambda out, g: (g / (out.inputs[0] * _LN10),),
            scalar="log10({0})")
# 1/x: integers give floats, as 1 / x does (and JAX); NumPy's integer reciprocal truncates to 0
elementwise("reciprocal", lambda x: np.divide(1, x), lambda out, g: (-(g * square(out)),),
            scalar="1.0 / {0}")
elementwise("tan", np.tan, lambda out, g: (g * (1 + square(out)),), scalar="tan({0})")
elementwise("arcsin", np.arcsin, lambda out, g: (g / _sqrt_one_minus_square(out.inputs[0]),),
            scalar="asin({0})")
elementwise("arccos", np.arccos, lambda out, g: (-g / _sqrt_one_minus_square(out.inputs[0]),),
            scalar="acos({0})")
elementwise("arctan", np.arctan, lambda out, g: (g / (1 + square(out.inputs[0])),),
            scalar="atan({0})")
elementwise("arctan2", np.arctan2, _arctan2_bprop, bprop_wanted=True, scalar="atan2({0}, {1})")
elementwise("sinh", np.sinh, lambda out, g: (g * cosh(out.inputs[0]),), scalar="sinh({0})")
elementwise("cosh", np.cosh, lambda out, g: (g * sinh(out.inputs[0]),), scalar="cosh({0})")
# 1 / sqrt(x^2 + 1) as 1 / hypot(x, 1): no overflow of x^2 for large |x|
elementwise("arcsinh", np.arcsinh, lambda out, g: (g / hypot(out.inputs[0], 1),),
            scalar="asinh({0})")
elementwise("arccosh", np.arccosh,  # 1 / sqrt((x - 1)(x + 1)): no cancellation near 1
            lambda out, g: (g / sqrt((out.inputs[0] - 1) * (out.inputs[0] + 1)),),
            scalar="acosh({0})")
elementwise("arctanh", np.arctanh,
            lambda out, g: (g / ((1 - out.inputs[0]) * (1 + out.inputs[0])),),
            scalar="atanh({0})")
elementwise("hypot", np.hypot, _hypot_bprop, bprop_wanted=True, commutative=True,
            scalar="hypot({0}, {1})")
# NumPy's: x + log 2 where x = y (the same infinity too), else the larger plus log1p(exp(-|x - y|))
elementwise("logaddexp", np.logaddexp, _logaddexp_bprop, bprop_wanted=True, commutative=True,
            scalar="{0} + log(2.0) if {0} == {1} else ({0} + log1p(exp({1} - {0})) if {0} > {1} "
                   "else {1} + log1p(exp({0} - {1})))")
elementwise("clip", np.clip, _clip_bprop, bprop_wanted=True)
elementwise("floor", np.floor, _zero)
elementwise("ceil", np.ceil, _zero)
elementwise("round", np.round, _zero, normalize=_round_normalize)  # halves to even, as NumPy
elementwise("trunc", np.trunc, _zero)
elementwise("mod", np.mod, _mod_bprop, bprop_wanted=True)
elementwise("erf", _erf,
            lambda out, g: (g * (exp(-square(out.inputs[0])) * _TWO_OVER_SQRT_PI),),
            scalar="erf({0})")
elementwise("erfc", _erfc,
            lambda out, g: (-(g * (exp(-square(out.inputs[0])) * _TWO_OVER_SQRT_PI)),),
            scalar="erfc({0})")
# gelu(x) = x Phi(x): d = Phi(x) + x phi(x), with Phi(x) = erfc(-x / sqrt 2) / 2
elementwise("gelu", _gelu, lambda out, g: (g * (
    erfc(out.inputs[0] * -math.sqrt(0.5)) * 0.5
    + out.inputs[0] * exp(square(out.inputs[0]) * -0.5) * _ONE_OVER_SQRT_2PI),))
# leaky_relu'(0) = slope and elu'(0) = alpha: the side x <= 0, as relu'(0) = 0
elementwise("leaky_relu", _leaky_relu, normalize=_number_param("leaky_relu", "slope", 0.01),
            bprop=lambda out, g: (where(out.inputs[0] > 0, g, g * out.params["slope"]),))
elementwise("elu", _elu, normalize=_number_param("elu", "alpha", 1.0),
            bprop=lambda out, g: (where(out.inputs[0] > 0, g, g * (out + out.params["alpha"])),))
elementwise("silu", _silu, lambda out, g: (  # x s(x): d = s + x s (1 - s) = s + out (1 - s)
    g * (sigmoid(out.inputs[0]) + out * (1 - sigmoid(out.inputs[0]))),),
    scalar="{0} * exp(-logaddexp0(-{0}))")
