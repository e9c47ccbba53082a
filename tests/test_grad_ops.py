"""Every op's derivative rule, over the per-op case tables of tests/ops: finite differences at
orders 1 and 2 (float64), order 1 in float32 and with every dimension known only at run time,
and the adjoint identity <u, J v> = <J^T u, v> between jvp and gradients."""

import numpy as np

import symgrad as sg
from symgrad.ops.elementwise import no_grad
from symgrad.testing import check_adjoint, check_grads
from tests.ops.cases import all_cases, by_id, float32_cases

# Ops whose results carry no gradient (booleans, integers) or that block it on purpose.
NO_GRADIENT = {n for n, d in sg.OPS.items() if d.bprop is no_grad}

GRAD_CASES = [c for c in all_cases() if c.wrt and c.op not in NO_GRADIENT]

# Ops users never build directly: their rules run in the order-2 checks of the ops listed.
INTERNAL = {
    "output": "max_and_argmax", "sum_to": "add", "expand_dims": "sum", "scatter": "getitem",
    "scatter_add": "take", "concat_part": "concatenate", "one_hot": "softmax_cross_entropy",
    "sum_tiles": "tile", "sum_repeats": "repeat", "embed_diagonal": "diagonal",
    "einsum_embed": "einsum",
}


def _setup(case, rng, dynamic=False):
    g = sg.Graph()
    xs = case.placeholders(g, dynamic)
    y = case.build(xs)
    arrays = case.sample(rng)
    return y, [xs[i] for i in case.wrt], dict(zip(xs, arrays))


@by_id(GRAD_CASES)
def test_derivatives_match_finite_differences(case, rng):
    y, wrt, feed = _setup(case, rng)
    check_grads(y, wrt, feed, order=2)


@by_id(float32_cases(GRAD_CASES))
def test_float32_derivatives(case, rng):
    y, wrt, feed = _setup(case, rng)
    check_grads(y, wrt, feed, order=1)  # also asserts each gradient is float32


@by_id([c for c in GRAD_CASES if not c.static_only])  # the others refuse None dimensions
def test_derivatives_with_dimensions_known_at_run_time(case, rng):
    y, wrt, feed = _setup(case, rng, dynamic=True)
    check_grads(y, wrt, feed, order=1)


@by_id(GRAD_CASES)
def test_adjoint_identity_between_jvp_and_gradients(case, rng):
    y, wrt, feed = _setup(case, rng)
    single = any(t.dtype == np.float32 for t in [y, *wrt])  # float32 on the way: its precision
    check_adjoint(y, wrt, feed, rng, 1e-5 if single else 1e-9)


def test_every_differentiable_op_has_a_gradient_case():
    covered = {c.op for c in GRAD_CASES}
    differentiable = {n for n, d in sg.OPS.items() if d.bprop is not None}
    missing = sorted(differentiable - NO_GRADIENT - covered - set(INTERNAL))
    assert not missing, f"ops without a gradient test: {missing}"
    assert set(INTERNAL.values()) <= covered
