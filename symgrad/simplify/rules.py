"""DEFAULT_RULES: the rewrite rules `simplify` and `function` apply, as data.

Each rule keeps its node's shape and dtype (the driver checks) and its values wherever they
are finite. Rules whose result could differ in shape or dtype on some inputs decline there
(`fitted`), rather than being refused by the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..ops import (
    OPS,
    apply,
    broadcast_to,
    cast,
    log_softmax,
    negative,
    softmax,
    softmax_cross_entropy,
    softplus,
    transpose,
    where,
    zeros_like,
)
from ..shapes import is_float
from ..tensor import Tensor
from .pattern import CONSTANT_INPUTS, Const, Match, Rule, build, constant_value, is_constant
from .polynomial import polynomial_form

_FOLD_LIMIT = 1 << 20  # bytes; a folded constant larger than this and than its inputs is not kept


# -- helpers for replacements ------------------------------------------------------------------
def fit(t: Tensor | None, node: Tensor) -> Tensor | None:
    """t made of node's shape and dtype by a cast and a broadcast, or None where it cannot be
    (a dimension known only at run time, shapes that do not broadcast)."""
    if t is None:
        return None
    if t.dtype != node.dtype:
        t = cast(t, node.dtype)
    if t.shape != node.shape:
        if node.shape is None or None in node.shape or len(t.shape) > len(node.shape):
            return None
        try:
            t = broadcast_to(t, node.shape)
        except ValueError:
            return None
    return t


def fitted(replacement: Any) -> Callable[[Match], Tensor | None]:
    """A replacement (pattern or function) that declines where its result would not have the
    node's shape and dtype (NumPy's promotion is not associative: (int8*uint8)*f16 is not
    int8*(uint8*f16))."""
    def run(m: Match) -> Tensor | None:
        r = replacement(m) if callable(replacement) else build(replacement, m)
        if r is None or r.shape != m.node.shape or r.dtype != m.node.dtype:
            return None
        return r
    return run


def keep(var: str) -> Callable[[Match], Tensor | None]:
    """The tensor bound to `var`, fitted to the node it replaces."""
    return lambda m: fit(m[var], m.node)


def _filled(value: int, m: Match) -> Tensor | None:
    """A tensor of the node's shape and dtype whose entries all equal `value`."""
    node = m.node
    scalar = node.graph.scalar(value, node.dtype)
    if None not in node.shape:
        return broadcast_to(scalar, node.shape) if node.shape else scalar
    for x in node.inputs:  # shape known only at run time: borrow it from an input of that shape
        if x.shape == node.shape:
            return fit(zeros_like(x), node) if value == 0 else fit(zeros_like(x) + scalar, node)
    return None


def zeros(m: Match) -> Tensor | None:
    return _filled(0, m)


def ones(m: Match) -> Tensor | None:
    return _filled(1, m)


def _scalar_operand(m: Match) -> Tensor | None:
    """The node with its operand broadcast_to(s, shape) replaced by the scalar s itself, where
    the other operand gives the node its shape already."""
    node, s = m.node, m["s"]
    spread = [x for x in node.inputs if x.op == "broadcast_to" and x.inputs[0] == s]
    if not spread or not all(x.shape == node.shape for x in node.inputs if x != spread[0]):
        return None
    return fitted(lambda m: apply(node.op, [s if x == spread[0] else x for x in node.inputs],
                                  **node.params))(m)


def _static_same_shape(a: str) -> Callable[[Match], bool]:
    return lambda m: m[a].shape == m.node.shape and None not in m.node.shape


# -- constant folding ----------------------------------------------------------------------------
def _fold(m: Match) -> Tensor | None:
    """The node computed now by its op's own compute, when all its inputs are constants and
    the result is not large."""
    node = m.node
    if node.shape is None:
        return None  # several outputs: their `output` nodes fold instead, one by one
    args = [constant_value(x) for x in node.inputs]
    try:
        with np.errstate(all="ignore"):
            value = np.asarray(OPS[node.op].compute(*args, **node.params))
    except Exception:
        return None  # let it fail when run, where the error names the node and its inputs
    if value.shape != node.shape or value.dtype != node.dtype:
        return None
    if value.size > max(a.size for a in args) and np.all(value == value.flat[0]):
        # one value spread out: kept as broadcast_to(scalar), a view, not materialised
        if node.op == "broadcast_to" and args[0].ndim == 0:
            return None
        return broadcast_to(node.graph.constant(value.flat[0]), node.shape)
    nbytes = value.nbytes
    if nbytes > _FOLD_LIMIT and nbytes > sum(a.nbytes for a in args):
        return None
    return node.graph.constant(value)


def _fold_output(m: Match) -> Tensor | None:
    """One output of a multi-output node whose inputs are all constants."""
    node, multi = m.node, m["multi"]
    if not all(is_constant(x) for x in multi.inputs):
        return None
    args = [constant_value(x) for x in multi.inputs]
    try:
        value = np.asarray(OPS[multi.op].compute(*args, **multi.params)[node.params["index"]])
    except Exception:
        return None
    if value.shape != node.shape or value.dtype != node.dtype:
        return None
    return node.graph.constant(value)


# -- shapes ------------------------------------------------------------------------------------
def _transpose_twice(m: Match) -> Tensor:
    a, b = m["a"], m["b"]
    axes = tuple(a[i] for i in b)
    x = m["x"]
    return x if axes == tuple(range(len(axes))) else transpose(x, axes)


def _is_identity_permutation(m: Match) -> bool:
    return tuple(m["a"]) == tuple(range(len(m["a"])))


def _reshape_twice(m: Match) -> Tensor | None:
    node = m.node
    if None in node.shape:
        return None
    return apply("reshape", [m["x"]], shape=node.shape)


def _sum_of_broadcast_scalar(m: Match) -> Tensor | None:
    # sum(broadcast_to(s, shape)) = s * (number of elements summed), of the sum's shape
    node = m.node
    big = node.inputs[0]
    axes = m["a"] if m["a"] is not None else tuple(range(big.ndim))
    dims = [big.shape[i] for i in axes]
    if None in dims:
        return None
    return fit(m["s"] * int(np.prod(dims, dtype=np.int64)), node)


# -- networks ------------------------------------------------------------------------------------
def _one_axis(axis: Any) -> Any:
    return axis[0] if isinstance(axis, tuple) and len(axis) == 1 else axis


def _is_cross_entropy(m: Match) -> bool:
    z, p = m["z"], m["p"]
    last = z.ndim - 1
    return (_one_axis(m["a"]) == last and _one_axis(m["b"]) == last and p.shape == z.shape
            and is_float(p.dtype) and is_float(z.dtype))


def _cross_entropy(m: Match) -> Tensor:
    return softmax_cross_entropy(m["z"], m["p"])


def _row_factor(g: Tensor, axis: int) -> tuple[Tensor | float, Tensor]:
    """g as G * p with G constant along `axis` (a number, or of length 1 there)."""
    if g.op == "multiply":
        for f, q in (g.inputs, g.inputs[::-1]):
            if f.ndim == 0 or (f.ndim == g.ndim and f.shape[axis] == 1):
                return f, q
    if g.op == "negative":
        return -1.0, g.inputs[0]
    return 1.0, g


def _log_softmax_grad(m: Match) -> Tensor | None:
    # g - softmax(z) sum(g) with g = G p, G one value per row: -G (softmax(z) sum(p) - p),
    # the gradient of softmax cross-entropy as book 6.5.9 gives it
    axis = _one_axis(m["a"])
    if not isinstance(axis, int) or _one_axis(m["b"]) != axis:
        return None  # over several axes: left as it is
    z = m["z"]
    factor, p = _row_factor(m["g"], axis)
    if p.shape != z.shape:
        factor, p = 1.0, m["g"]
        if p.shape != z.shape:
            return None
    form = softmax(m["z"], axis=axis) * p.sum(axis=axis, keepdims=True) - p
    return negative(form) if factor == 1.0 else form if factor == -1.0 else \
        negative(factor) * form


def _softmax_grad_of_quotient(m: Match) -> Tensor | None:
    # s (g/s - sum(g)) -> g - s sum(g): the softmax rule fed by log's (log(softmax(z)))
    s = m["s"]
    if s.op != "softmax" or _one_axis(m["b"]) != s.params["axis"]:
        return None
    return m["g"] - s * m["g"].sum(axis=s.params["axis"], keepdims=True)


# -- where: no 0 * inf in the branch not taken ---------------------------------------------------
def _where_then(op: Callable) -> Callable[[Match], Tensor]:
    return lambda m: where(m["c"], op(m), 0)


def _where_else(op: Callable) -> Callable[[Match], Tensor]:
    return lambda m: where(m["c"], 0, op(m))


def _safe(m: Match, then: bool) -> Tensor:
    """b where the condition keeps the branch, 1 elsewhere: a divisor that cannot be 0 there."""
    return where(m["c"], m["b"], 1) if then else where(m["c"], 1, m["b"])


DEFAULT_RULES: list[Rule] = [
    # -- constants
    Rule("fold_constants", CONSTANT_INPUTS, _fold),                      # f(consts) -> const
    Rule("fold_output", ("output", "multi"), _fold_output),             # (max, argmax) of const
    # -- identities
    Rule("mul_one", ("multiply", "x", 1), keep("x")),                    # x*1, 1*x -> x
    Rule("mul_zero", ("multiply", "x", 0), zeros),                       # x*0 -> 0, broadcast
    Rule("add_zero", ("add", "x", 0), keep("x")),                        # x+0, 0+x -> x
    Rule("sub_zero", ("subtract", "x", 0), keep("x")),                   # x-0 -> x
    Rule("zero_sub", ("subtract", 0, "x"), lambda m: fit(negative(m["x"]), m.node)),  # 0-x -> -x
    Rule("div_one", ("divide", "x", 1), keep("x")),                      # x/1 -> x
    Rule("pow_one", ("power", "x", 1), keep("x")),                       # x**1 -> x
    Rule("pow_zero", ("power", "x", 0), ones),                           # x**0 -> 1 (0**0 = 1)
    Rule("pow_two", ("power", "x", 2), fitted(("square", "x"))),         # x**2 -> square(x)
    Rule("neg_neg", ("negative", ("negative", "x")), keep("x")),         # -(-x) -> x
    Rule("mul_neg_one", ("multiply", "x", -1), lambda m: fit(negative(m["x"]), m.node)),
    Rule("sub_self", ("subtract", "x", "x"), zeros),                     # x-x -> 0
    Rule("add_self", ("add", "x", "x"), fitted(("multiply", "x", 2))),   # x+x -> 2x
    Rule("add_neg", ("add", "x", ("negative", "y")), fitted(("subtract", "x", "y"))),  # x+(-y)
    Rule("sub_neg", ("subtract", "x", ("negative", "y")), fitted(("add", "x", "y"))),  # x-(-y)
    Rule("log_exp", ("log", ("exp", "x")), keep("x")),                   # log(exp(x)) -> x
    # exp(log(x)) -> x: equal for x >= 0 (exp(log 0) = 0); for x < 0 the original is NaN
    Rule("exp_log", ("exp", ("log", "x")), keep("x")),
    Rule("cast_same", ("cast", "x"), keep("x"), when=lambda m: m["x"].dtype == m.node.dtype),
    # 2*(3*x) -> 6*x: constant factors collected (and folded)
    Rule("collect_factors", ("multiply", ("multiply", "x", Const("a")), Const("b")),
         fitted(("multiply", "x", ("multiply", "a", "b"))),
         when=lambda m: not is_constant(m["x"])),
    # a*x + b*x -> (a+b)*x, for constant a and b
    Rule("collect_terms", ("add", ("multiply", Const("a"), "x"), ("multiply", Const("b"), "x")),
         fitted(("multiply", ("add", "a", "b"), "x"))),
    # x + a*x -> (1+a)*x
    Rule("collect_term", ("add", "x", ("multiply", Const("a"), "x")),
         fitted(lambda m: (1 + m["a"]) * m["x"])),
    # expand_dims(broadcast_to(s)) and the like -> broadcast_to(s, the new shape)
    *[Rule(f"spread_scalar_{op}", (op, ("broadcast_to", Const("s"))),
           lambda m: broadcast_to(m["s"], m.node.shape),
           when=lambda m: m["s"].shape == () and None not in m.node.shape)
      for op in ("expand_dims", "reshape", "transpose", "broadcast_to", "squeeze")],
    # x (op) broadcast_to(s) -> x (op) s, where x gives the node its shape: no full array of s
    *[Rule(f"scalar_operand_{op}", (op, "x", ("broadcast_to", Const("s"))), _scalar_operand)
      for op in ("add", "subtract", "multiply", "divide", "maximum", "minimum")],
    *[Rule(f"scalar_operand_{op}_left", (op, ("broadcast_to", Const("s")), "x"), _scalar_operand)
      for op in ("subtract", "divide")],
    # scalar arithmetic as one polynomial in its other nodes, in Horner form, when smaller
    # (squares, powers and the fused tanh_grad, sigmoid_grad expand inside a region; as its
    # root they never win, their inputs being simplified already, bottom-up)
    *[Rule(f"polynomial_{op}", (op, *"ab"[:arity]), polynomial_form, ndim=0)
      for op, arity in (("add", 2), ("subtract", 2), ("multiply", 2), ("divide", 2),
                        ("negative", 1))],
    # -- shapes that change nothing
    Rule("transpose_twice", ("transpose", ("transpose", "x", {"axes": "a"}), {"axes": "b"}),
         fitted(_transpose_twice)),
    Rule("transpose_identity", ("transpose", "x", {"axes": "a"}), keep("x"),
         when=_is_identity_permutation),
    Rule("reshape_same", ("reshape", "x"), keep("x"), when=_static_same_shape("x")),
    Rule("reshape_like_same", ("reshape", "x", "like"), keep("x"), when=_static_same_shape("x")),
    Rule("reshape_twice", ("reshape", ("reshape", "x")), _reshape_twice),
    Rule("broadcast_same", ("broadcast_to", "x"), keep("x"), when=_static_same_shape("x")),
    Rule("broadcast_like_same", ("broadcast_to", "x", "like"), keep("x"),
         when=_static_same_shape("x")),
    Rule("sum_to_same", ("sum_to", "x"), keep("x"), when=_static_same_shape("x")),
    Rule("sum_to_like_same", ("sum_to", "x", "like"), keep("x"), when=_static_same_shape("x")),
    Rule("expand_nothing", ("expand_dims", "x", {"axis": ()}), keep("x")),
    Rule("sum_of_broadcast_scalar",
         ("sum", ("broadcast_to", "s"), {"axis": "a", "keepdims": "k"}),
         _sum_of_broadcast_scalar, when=lambda m: m["s"].shape == ()),
    # -- fusions users rely on for stability
    Rule("log_softmax", ("log", ("softmax", "z", {"axis": "a"})),
         lambda m: log_softmax(m["z"], axis=m["a"])),                   # log(softmax) fused
    Rule("softmax_of_log_softmax", ("exp", ("log_softmax", "z", {"axis": "a"})),
         lambda m: softmax(m["z"], axis=m["a"])),                        # exp(log_softmax)
    # -(p * log_softmax(z)).sum(-1) -> softmax_cross_entropy(z, p)
    Rule("cross_entropy",
         ("negative", ("sum", ("multiply", "p", ("log_softmax", "z", {"axis": "a"})),
                       {"axis": "b", "keepdims": False})),
         fitted(_cross_entropy), when=_is_cross_entropy),
    Rule("cross_entropy_negated_inside",
         ("sum", ("negative", ("multiply", "p", ("log_softmax", "z", {"axis": "a"}))),
          {"axis": "b", "keepdims": False}),
         fitted(_cross_entropy), when=_is_cross_entropy),
    # g - softmax(z) sum(g), the rule of log_softmax; with g = G p, G one value per row (how
    # -(p * log_softmax(z)).sum(-1) is differentiated): -G (softmax(z) sum(p) - p)
    Rule("cross_entropy_grad",
         ("subtract", "g", ("multiply", ("softmax", "z", {"axis": "a"}),
                            ("sum", "g", {"axis": "b", "keepdims": True}))),
         fitted(_log_softmax_grad)),
    # s (g/s - sum(g)) -> g - s sum(g), s = softmax(z): log(softmax(z)) differentiated
    Rule("softmax_grad_of_quotient",
         ("multiply", "s", ("subtract", ("divide", "g", "s"),
                            ("sum", "g", {"axis": "b", "keepdims": True}))),
         fitted(_softmax_grad_of_quotient)),
    Rule("cancel_quotient", ("multiply", ("divide", "a", "s"), "s"), keep("a")),  # (a/s) s -> a
    Rule("neg_of_neg_product", ("negative", ("multiply", ("negative", "a"), "b")),
         fitted(("multiply", "a", "b"))),                                 # -((-a) b) -> a b
    Rule("neg_of_spread_scalar", ("negative", ("broadcast_to", Const("s"))),
         lambda m: broadcast_to(negative(m["s"]), m.node.shape),
         when=lambda m: m["s"].shape == ()),                              # -(s...) -> (-s)...
    Rule("log1p", ("log", ("add", "x", 1)), fitted(("log1p", "x"))),     # log(1+x) -> log1p(x)
    Rule("log_sigmoid", ("log", ("sigmoid", "x")),
         fitted(lambda m: negative(softplus(negative(m["x"]))))),       # -softplus(-x)
    # -- where: gradients stay finite in the branch not taken (0 * inf there is NaN)
    Rule("where_mul", ("multiply", ("where", "c", "a", 0), "b"),
         fitted(_where_then(lambda m: m["a"] * m["b"]))),
    Rule("where_else_mul", ("multiply", ("where", "c", 0, "a"), "b"),
         fitted(_where_else(lambda m: m["a"] * m["b"]))),
    Rule("where_div", ("divide", ("where", "c", "a", 0), "b"),
         fitted(_where_then(lambda m: m["a"] / _safe(m, True)))),
    Rule("where_else_div", ("divide", ("where", "c", 0, "a"), "b"),
         fitted(_where_else(lambda m: m["a"] / _safe(m, False)))),
    Rule("where_neg", ("negative", ("where", "c", "a", 0)),
         fitted(_where_then(lambda m: negative(m["a"])))),
    Rule("where_else_neg", ("negative", ("where", "c", 0, "a")),
         fitted(_where_else(lambda m: negative(m["a"])))),
    Rule("where_tanh_grad", ("tanh_grad", "y", ("where", "c", "a", 0)),
         fitted(_where_then(lambda m: apply("tanh_grad", [m["y"], m["a"]])))),
    Rule("where_else_tanh_grad", ("tanh_grad", "y", ("where", "c", 0, "a")),
         fitted(_where_else(lambda m: apply("tanh_grad", [m["y"], m["a"]])))),
    Rule("where_sigmoid_grad", ("sigmoid_grad", "y", ("where", "c", "a", 0)),
         fitted(_where_then(lambda m: apply("sigmoid_grad", [m["y"], m["a"]])))),
    Rule("where_else_sigmoid_grad", ("sigmoid_grad", "y", ("where", "c", 0, "a")),
         fitted(_where_else(lambda m: apply("sigmoid_grad", [m["y"], m["a"]])))),
]


# check_finite runs every computation it checks: nothing is folded away
NO_FOLDING = [r for r in DEFAULT_RULES if r.name not in ("fold_constants", "fold_output")]
