"""ops/linalg.py: matmul with NumPy's semantics (1-D operands, batches), and sg.linalg: inv solve
det slogdet cholesky solve_triangular, batched, with their shape errors and derivative rules."""

import numpy as np
import pytest
import scipy.linalg

import symgrad as sg

from .cases import OpCase, index, normal, spd, well_conditioned


def _linalg(name, inputs, reference, label="", **params):
    return OpCase(name, inputs, params, reference, getattr(sg.linalg, name), label)


def _solve_triangular_ref(a, b, lower=False, trans=0, unit_diagonal=False):
    """SciPy one matrix at a time; b a vector only if 1-D."""
    vector = b.ndim == 1
    m = b[:, None] if vector else b
    batch = np.broadcast_shapes(a.shape[:-2], m.shape[:-2])
    a, m = np.broadcast_to(a, batch + a.shape[-2:]), np.broadcast_to(m, batch + m.shape[-2:])
    x = np.empty(m.shape, np.result_type(a, m))
    for i in np.ndindex(batch):
        x[i] = scipy.linalg.solve_triangular(a[i], m[i], trans, lower, unit_diagonal)
    return x[..., 0] if vector else x


def _slogdet_part(i):
    return lambda a: sg.linalg.slogdet(a)[i]


def _negated_row(a):
    """a (an array or a tensor) with its first row negated: a negative determinant."""
    if isinstance(a, np.ndarray):
        return np.concatenate([-a[:1], a[1:]])
    return sg.concatenate([-a[:1], a[1:]])

CASES = [
    OpCase("matmul", [normal((2, 3)), normal((3, 4))], reference=np.matmul),
    OpCase("matmul", [normal((3,)), normal((3, 4))], reference=np.matmul, label="vec-mat"),
    OpCase("matmul", [normal((2, 3)), normal((3,))], reference=np.matmul, label="mat-vec"),
    OpCase("matmul", [normal((3,)), normal((3,))], reference=np.matmul, label="vec-vec"),
    OpCase("matmul", [normal((2, 1, 3, 4)), normal((5, 4, 2))], reference=np.matmul,
           label="batch-broadcast"),
    OpCase("matmul", [normal((3,)), normal((2, 3, 4))], reference=np.matmul, label="vec-batch"),
    OpCase("matmul", [normal((2, 3)), index((3, 2), 4)], reference=np.matmul, label="int"),
    _linalg("inv", [well_conditioned((3, 3))], np.linalg.inv),
    _linalg("inv", [well_conditioned((2, 3, 3))], np.linalg.inv, "batch"),
    _linalg("solve", [well_conditioned((3, 3)), normal((3,))], np.linalg.solve, "vector"),
    _linalg("solve", [well_conditioned((3, 3)), normal((3, 2))], np.linalg.solve),
    _linalg("solve", [well_conditioned((2, 1, 3, 3)), normal((4, 3, 2))], np.linalg.solve,
            "batch-broadcast"),
    _linalg("solve", [well_conditioned((2, 3, 3)), normal((3,))],
            lambda a, b: np.linalg.solve(a, b[:, None])[..., 0], "batch-vector"),
    _linalg("det", [well_conditioned((3, 3))], np.linalg.det),
    _linalg("det", [well_conditioned((2, 2, 2))], np.linalg.det, "batch"),
    OpCase("det", [well_conditioned((3, 3))], reference=lambda a: np.linalg.det(_negated_row(a)),
           builder=lambda a: sg.linalg.det(_negated_row(a)), label="negative"),
    OpCase("slogdet", [well_conditioned((2, 3, 3))],
           reference=lambda a: np.linalg.slogdet(a)[1], builder=_slogdet_part(1), label="log"),
    OpCase("slogdet", [well_conditioned((3, 3))],
           reference=lambda a: np.linalg.slogdet(_negated_row(a))[0],
           builder=lambda a: sg.linalg.slogdet(_negated_row(a))[0], label="sign"),
    _linalg("cholesky", [spd((3, 3))], np.linalg.cholesky),
    _linalg("cholesky", [spd((2, 4, 4))], np.linalg.cholesky, "batch"),
    _linalg("solve_triangular", [well_conditioned((3, 3)), normal((3, 2))],
            _solve_triangular_ref, "upper"),
    _linalg("solve_triangular", [well_conditioned((3, 3)), normal((3,))],
            _solve_triangular_ref, "lower-vector", lower=True),
    _linalg("solve_triangular", [well_conditioned((2, 3, 3)), normal((3, 2))],
            _solve_triangular_ref, "batch-trans", lower=True, trans=1),
    _linalg("solve_triangular", [well_conditioned((3, 3)), normal((2, 3, 1))],
            _solve_triangular_ref, "unit-diagonal", trans="T", unit_diagonal=True),
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


def test_linalg_namespace():
    names = {"inv", "solve", "det", "slogdet", "cholesky", "solve_triangular"}
    assert set(sg.linalg.__all__) == names
    assert all(callable(getattr(sg.linalg, n)) for n in names)
    assert not names & set(sg.ops.__all__)  # sg.linalg.inv, not sg.inv


def test_slogdet_is_one_node_of_two_outputs(rng):
    g = sg.Graph()
    a = g.placeholder("a", (None, 3, 3))
    sign, logdet = sg.linalg.slogdet(a)
    assert sign.op == logdet.op == "output" and sign.inputs == logdet.inputs
    assert sign.inputs[0].op == "slogdet" and sign.shape == logdet.shape == (None,)
    va = rng.standard_normal((4, 3, 3))
    got = sg.evaluate([sign, logdet], {a: va})
    for x, y in zip(got, np.linalg.slogdet(va)):
        np.testing.assert_allclose(x, y)
    # only the log reaches the gradient: d log|det a| = inv(a)^T
    got = sg.evaluate(sg.grad(logdet.sum() + sign.sum(), a), {a: va})
    np.testing.assert_allclose(got, np.swapaxes(np.linalg.inv(va), -1, -2))


def test_batched_linalg_matches_numpy_matrix_by_matrix(rng):
    g = sg.Graph()
    a = g.placeholder("a", (None, 3, 3))
    b = g.placeholder("b", (None, 3, 2))
    L = sg.linalg.cholesky(a @ sg.swapaxes(a, -1, -2) + 3.0 * np.eye(3))
    x = sg.linalg.solve_triangular(L, b, lower=True)
    va, vb = rng.standard_normal((5, 3, 3)), rng.standard_normal((5, 3, 2))
    got_L, got_x = sg.evaluate([L, x], {a: va, b: vb})
    for k in range(5):
        want_L = np.linalg.cholesky(va[k] @ va[k].T + 3 * np.eye(3))
        np.testing.assert_allclose(got_L[k], want_L)
        np.testing.assert_allclose(got_x[k], np.linalg.solve(want_L, vb[k]))


def test_cholesky_gradient_reads_the_lower_triangle_only(rng):
    """NumPy ignores a's upper triangle: the gradient is zero there, and through a symmetric
    parametrisation a = b b^T + I it is the symmetric (Murray 2016) gradient."""
    g = sg.Graph()
    a = g.placeholder("a", (3, 3))
    ga = sg.grad(sg.linalg.cholesky(a).sum(), a)
    b = rng.standard_normal((3, 3))
    got = sg.evaluate(ga, {a: b @ b.T + np.eye(3)})
    np.testing.assert_array_equal(np.triu(got, 1), np.zeros((3, 3)))


def test_solve_derivative_skips_what_is_not_wanted():
    g = sg.Graph()
    a = g.placeholder("a", (3, 3))
    b = g.placeholder("b", (3,))
    x = sg.linalg.solve(a, b)
    n = g.nx.number_of_nodes()
    sg.grad(x.sum(), b)
    added = [g.nx.nodes[i]["op"] for i in range(n, g.next_id) if i in g.nx]
    assert added.count("solve") == 1 and "matmul" not in added  # no term for a


@pytest.mark.parametrize("build, words", [
    (lambda a, b: sg.linalg.inv(b), ["inv", "(3, 2)", "square"]),
    (lambda a, b: sg.linalg.det(a[0]), ["det", "(3,)"]),
    (lambda a, b: sg.linalg.solve(a, b.T), ["solve", "(3, 3)", "(2, 3)"]),
    (lambda a, b: sg.linalg.solve(a, a[0, 0]), ["solve", "()"]),
    (lambda a, b: sg.linalg.solve(a.astype("float16"), b), ["solve", "float16"]),
    (lambda a, b: sg.linalg.solve_triangular(a, b, trans=3), ["solve_triangular", "trans"]),
    (lambda a, b: sg.linalg.solve(sg.stack([a, a]), np.ones((3, 3, 2))), ["solve", "batch"]),
])
def test_linalg_shape_errors(build, words):
    g = sg.Graph()
    a, b = g.placeholder("a", (3, 3)), g.placeholder("b", (3, 2))
    with pytest.raises(sg.ShapeError) as e:
        build(a, b)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("build", [sg.linalg.inv, lambda a: sg.linalg.solve(a, np.ones(2))])
def test_a_singular_matrix_fails_at_run_time_naming_the_node(build):
    g = sg.Graph()
    a = g.placeholder("a", (2, 2))
    y = build(a)
    y.name = "result"
    with pytest.raises(sg.ShapeError, match="result.*[Ss]ingular"):
        sg.evaluate(y, {a: np.ones((2, 2))})


def test_singular_and_indefinite_matrices():
    """det and slogdet are defined there (0; sign 0, -inf) as in NumPy; cholesky of a matrix
    that is not positive definite fails at run time."""
    g = sg.Graph()
    a = g.placeholder("a", (2, 2))
    sign, logdet = sg.linalg.slogdet(a)
    got = sg.evaluate([sg.linalg.det(a), sign, logdet], {a: np.ones((2, 2))})
    assert got[0] == 0 and got[1] == 0 and got[2] == -np.inf
    with pytest.raises(sg.ShapeError, match="cholesky"):
        sg.evaluate(sg.linalg.cholesky(a), {a: -np.eye(2)})
