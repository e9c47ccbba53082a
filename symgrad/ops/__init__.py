"""Every operation: one OpDef record each, grouped by family; the builders users call."""

from .base import OPS, OpDef, apply, register
from .contract import einsum, outer, tensordot
from .control import cast, ones_like, stop_gradient, zeros_like
from .elementwise import (
    abs,
    add,
    cos,
    divide,
    equal,
    exp,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    subtract,
    tanh,
    where,
)
from .indexing import getitem, take
from .linalg import matmul
from .matrix import diagonal, trace, tril, triu
from .nn import log_softmax, softmax, softmax_cross_entropy
from .rearrange import flip, pad, repeat, roll, split, tile
from .reductions import argmax, logsumexp, max, max_and_argmax, mean, min, sum
from .shape import (
    broadcast_to,
    concatenate,
    expand_dims,
    moveaxis,
    reshape,
    squeeze,
    stack,
    swapaxes,
    transpose,
)
from .updates import add_at, set_at

__all__ = [
    "OPS", "OpDef", "apply", "register",
    "abs", "add", "argmax", "broadcast_to", "cast", "concatenate", "cos", "divide", "equal",
    "exp", "getitem", "greater", "greater_equal", "less", "less_equal", "log", "log1p",
    "log_softmax", "logsumexp", "matmul", "max", "max_and_argmax", "maximum", "mean", "min",
    "minimum", "multiply", "negative", "not_equal", "ones_like", "power", "relu", "reshape",
    "sigmoid", "sign", "sin", "softmax", "softmax_cross_entropy", "softplus", "sqrt", "square",
    "stack", "stop_gradient", "subtract", "sum", "take", "tanh", "transpose", "where",
    "zeros_like",
    # axes, copies, diagonals, contractions, updates (linear algebra: sg.linalg)
    "add_at", "diagonal", "einsum", "expand_dims", "flip", "moveaxis", "outer", "pad", "repeat",
    "roll", "set_at", "split", "squeeze", "swapaxes", "tensordot", "tile", "trace", "tril",
    "triu",
]
