"""Every operation: one OpDef record each, grouped by family; the builders users call."""

from .base import OPS, OpDef, apply, register
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
from .nn import log_softmax, softmax, softmax_cross_entropy
from .reductions import argmax, logsumexp, max, max_and_argmax, mean, min, sum
from .shape import broadcast_to, concatenate, reshape, stack, transpose

__all__ = [
    "OPS", "OpDef", "apply", "register",
    "abs", "add", "argmax", "broadcast_to", "cast", "concatenate", "cos", "divide", "equal",
    "exp", "getitem", "greater", "greater_equal", "less", "less_equal", "log", "log1p",
    "log_softmax", "logsumexp", "matmul", "max", "max_and_argmax", "maximum", "mean", "min",
    "minimum", "multiply", "negative", "not_equal", "ones_like", "power", "relu", "reshape",
    "sigmoid", "sign", "sin", "softmax", "softmax_cross_entropy", "softplus", "sqrt", "square",
    "stack", "stop_gradient", "subtract", "sum", "take", "tanh", "transpose", "where",
    "zeros_like",
]
