"""kernels.py: ops' scalar forms lowered to LLVM loops agree with NumPy's compute to a few units
in the last place (erfc: SciPy's tail is the less accurate one); loops stop at the first block
holding an inf or a NaN and leave what follows as it was."""

import math

import numpy as np
import pytest

from symgrad.ops.base import OPS

kernels = pytest.importorskip("symgrad.kernels")
pytest.importorskip("llvmlite", reason="the fast extra is not installed")

N = 5000  # more than one block of the loops, not a multiple of it


def normal(scale=1.0):
    return lambda rng, dtype: (rng.standard_normal(N) * scale).astype(dtype)


def uniform(lo, hi):
    return lambda rng, dtype: rng.uniform(lo, hi, N).astype(dtype)


def positive(rng, dtype):
    return np.exp(rng.uniform(-10, 10, N)).astype(dtype)


def tied(rng, dtype):  # normal, with every fourth value equal to the other input's
    x = rng.standard_normal(N).astype(dtype)
    x[::4] = 0.5
    return x


def mask(rng, dtype):
    return rng.random(N) < 0.5


TIED = [tied, tied]
DOMAINS = {  # op -> one generator per input, within the op's domain
    "add": [normal(), normal()], "subtract": [normal(), normal()],
    "multiply": [normal(), normal()], "divide": [normal(), normal(2)],
    "power": [positive, normal(2)], "maximum": TIED, "minimum": TIED, "negative": [normal()],
    "exp": [normal(5)], "log": [positive], "log1p": [uniform(-0.99, 10)], "sqrt": [positive],
    "square": [normal()], "abs": [normal()], "sin": [normal(5)], "cos": [normal(5)],
    "tanh": [normal(3)], "sigmoid": [normal(8)], "tanh_grad": [uniform(-1, 1), normal()],
    "sigmoid_grad": [uniform(0, 1), normal()], "relu": [tied], "softplus": [normal(8)],
    "where": [mask, normal(), normal()], "less": TIED, "less_equal": TIED, "greater": TIED,
    "greater_equal": TIED, "equal": TIED, "not_equal": TIED, "expm1": [normal(3)],
    "exp2": [normal(5)], "log2": [positive], "log10": [positive], "reciprocal": [normal(3)],
    "tan": [uniform(-1.5, 1.5)], "arcsin": [uniform(-1, 1)], "arccos": [uniform(-1, 1)],
    "arctan": [normal(3)], "arctan2": [normal(), normal()], "sinh": [normal(3)],
    "cosh": [normal(3)], "arcsinh": [normal(3)],
    "arccosh": [lambda rng, dtype: (1 + positive(rng, dtype)).astype(dtype)],
    "arctanh": [uniform(-0.99, 0.99)], "hypot": [normal(), normal()],
    "logaddexp": [tied, normal(3)], "erf": [normal(2)], "erfc": [normal(2)],
    "silu": [normal(5)],
}
ULPS = {"erfc": {np.float64: 64}}  # SciPy's erfc is ~40 ulp off in its tail; libm's is right
FUSED_OPS = sorted(n for n, d in OPS.items()
                   if d.elementwise and d.scalar is not None and kernels.can_lower(d.scalar))


def run(loop, arrays, outputs, scalars=()):
    fn = kernels.compile_loops([loop]).functions[0]
    return fn(*[a.ctypes.data for a in arrays], *[o.ctypes.data for o in outputs], *scalars,
              arrays[0].size if arrays else outputs[0].size)


def test_every_op_with_a_fused_form_has_a_domain_here():
    assert set(FUSED_OPS) == set(DOMAINS), set(FUSED_OPS) ^ set(DOMAINS)
    # ops whose forms are Python the loops cannot lower would silently run on NumPy
    unlowered = [n for n, d in OPS.items() if d.scalar and not kernels.can_lower(d.scalar)]
    assert not unlowered


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_fused_op_agrees_with_numpy_to_a_few_ulp(dtype, rng):
    dtype = np.dtype(dtype)
    loops, cases = [], []
    for name in FUSED_OPS:
        xs = [make(rng, dtype) for make in DOMAINS[name]]
        want = np.asarray(OPS[name].compute(*xs))
        kinds = ["b" if x.dtype == np.bool_ else "f" for x in xs]
        kind = "b" if want.dtype == np.bool_ else "f"
        body = [(OPS[name].scalar, tuple(("a", i) for i in range(len(xs))), kind)]
        loops.append(kernels.Loop(dtype, kinds, [], body, [0], [None]))
        cases.append((name, xs, want))
    compiled = kernels.compile_loops(loops)  # one module for all: one LLVM run
    for (name, xs, want), fn in zip(cases, compiled.functions):
        got = np.empty_like(want)
        assert fn(*[x.ctypes.data for x in xs], got.ctypes.data, N) == 0, name
        assert got.dtype == want.dtype == (np.bool_ if want.dtype == np.bool_ else dtype), name
        if want.dtype == np.bool_:
            np.testing.assert_array_equal(got, want, err_msg=name)
            continue
        ulp = np.spacing(np.maximum(np.abs(want), np.finfo(dtype).tiny))
        worst = np.max(np.abs(got.astype(np.float64) - want) / ulp)
        assert worst <= ULPS.get(name, {}).get(dtype.type, 4), (name, worst)


def test_scalars_constants_booleans_and_several_outputs(rng):
    x = rng.standard_normal(N)
    flag = rng.random(N) < 0.3
    loop = kernels.Loop(np.dtype(np.float64), ["f", "b"], ["f", "b"], [
        ("{0} * {1}", (("a", 0), ("s", 0)), "f"),           # x * s
        ("{1} if {0} else {2}", (("a", 1), ("v", 0), 2.5), "f"),  # where(flag, x s, 2.5)
        ("{0} > {1}", (("v", 1), 0.0), "b"),
        ("{1} if {0} else {2}", (("s", 1), ("v", 2), False), "b"),
    ], [1, 3], [None, None])
    out, positive_ = np.empty(N), np.empty(N, bool)
    assert run(loop, [x, flag], [out, positive_], [3.0, True]) == 0
    want = np.where(flag, x * 3.0, 2.5)
    np.testing.assert_array_equal(out, want)
    np.testing.assert_array_equal(positive_, want > 0)
    assert run(loop, [x, flag], [out, positive_], [3.0, False]) == 0
    assert not positive_.any()


def test_float32_constants_round_as_numpy_rounds_them():
    x = np.linspace(-3, 3, N, dtype=np.float32)
    loop = kernels.Loop(np.dtype(np.float32), ["f"], [], [("{0} * {1}", (("a", 0), 0.1), "f")],
                        [0], [None])
    out = np.empty(N, np.float32)
    assert run(loop, [x], [out]) == 0
    np.testing.assert_array_equal(out, x * np.float32(0.1))


def test_a_block_with_an_inf_or_a_nan_stops_the_loop_leaving_the_rest_untouched():
    x = np.linspace(0.5, 2.0, N)
    x[3000] = -1.0  # log(-1): NaN
    loop = kernels.Loop(np.dtype(np.float64), ["f"], [], [("log({0})", (("a", 0),), "f")], [0],
                        [None])
    out = np.full(N, 7.0)
    stop = run(loop, [x], [out])
    assert stop > 0
    start = stop - 1
    assert start <= 3000 < start + 4096 and start % 16 == 0
    np.testing.assert_array_equal(out[:start], np.log(x[:start]))
    assert (out[start:] == 7.0).all()
    x[3000] = np.inf  # an inf read counts too, even where the result is finite
    loop.body = [("exp(-{0})", (("a", 0),), "f")]
    out[:] = 7.0
    assert run(loop, [x], [out]) == stop


def test_an_output_written_into_an_input_buffer():
    x = np.linspace(-1, 1, N)
    y = np.linspace(2, 3, N)
    keep = y.copy()
    loop = kernels.Loop(np.dtype(np.float64), ["f", "f"], [], [
        ("{0} * {1}", (("a", 0), ("a", 1)), "f"), ("{0} + {1}", (("v", 0), ("a", 0)), "f"),
    ], [0, 1], [None, 1])  # the sum goes into y's buffer
    prod = np.empty(N)
    assert kernels.compile_loops([loop]).functions[0](x.ctypes.data, y.ctypes.data,
                                                       prod.ctypes.data, N) == 0
    np.testing.assert_array_equal(prod, x * keep)
    np.testing.assert_array_equal(y, x * keep + x)


def test_forms_it_cannot_lower():
    assert kernels.can_lower("{0} * exp({1})")
    assert not kernels.can_lower("gamma({0})")       # not a C library function here
    assert not kernels.can_lower("[{0}][0]")          # not an expression of numbers
    assert not kernels.can_lower("{0} < {1} < {2}")   # chained comparison


def test_block_size_fits_the_stack_for_many_outputs():
    body = [("{0} + {1}", (("a", 0), float(k)), "f") for k in range(300)]
    loop = kernels.Loop(np.dtype(np.float64), ["f"], [], body, list(range(300)),
                        [None] * 300)
    x = np.arange(40.0)
    outs = [np.empty(40) for _ in range(300)]
    assert run(loop, [x], outs) == 0
    assert all(math.isclose(o[7], 7.0 + k) for k, o in enumerate(outs))
