"""Plans whose values are all scalars, compiled to straight-line Python over floats.

Where every value of a plan is 0-d float64 (or boolean) and every op has a `scalar` form
(OpDef.scalar), one NumPy call per node is the wall (~0.5-1 us each): Python's own float
arithmetic and the `math` module cost a tenth of that. IEEE semantics are NumPy's: float64
arithmetic is the same in both, and a call where any value leaves the finite floats (an inf, a
NaN, an exception from `math`: log(0), 1/0, exp(1000)) runs again on the NumPy plan, which
gives NumPy's infs, NaNs and warnings exactly. Results are NumPy scalars (np.float64, np.bool_:
numbers that act as 0-d arrays but cannot be written into; making a 0-d array would cost more
than the whole computation). Knows plans and op records' scalar forms, not ops.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .ops.base import OPS
from .plan import Plan


def _logaddexp0(t: float) -> float:
    """log(1 + e^t), as NumPy's logaddexp(0, t) computes it."""
    if t > 0:
        return t + math.log1p(math.exp(-t))
    if t == 0:
        return math.log(2.0)
    return math.log1p(math.exp(t))


# the names scalar forms may use: the math module's, and NumPy's logaddexp(0, .)
NAMES: dict[str, Any] = {k: v for k, v in vars(math).items() if not k.startswith("_")}
NAMES["logaddexp0"] = _logaddexp0
_MISSING = object()  # a value not given


def _dtype_of(plan: Plan, slot: int) -> np.dtype:
    """The dtype of the value in a slot: an input's, a constant's or a step's."""
    if slot < len(plan.inputs):
        return plan.inputs[slot].dtype
    if slot in plan.consts:
        return np.asarray(plan.consts[slot]).dtype
    return next(st.attrs["dtype"] for st in plan.steps if st.out == slot)


def _as_scalars(call: Callable[..., Any], single: bool) -> Callable[..., Any]:
    """The NumPy way's results as NumPy scalars, as the fast way gives them."""
    def run(*values: Any) -> Any:
        out = call(*values)
        return out[()] if single else [r[()] for r in out]
    return run


def _scalar_dtype(dtype: np.dtype) -> bool:
    """float64 and bool only: Python's int would not wrap as int64, its float not round as
    float32."""
    return dtype == np.float64 or dtype == np.bool_


def compile_scalar(plan: Plan, fallback: Callable[..., Any], single: bool
                   ) -> Callable[..., Any] | None:
    """The plan as a Function's __call__ (self, *values) returning NumPy scalars (one, or a
    list of them), or None when the plan is not all scalars or has an op without a scalar
    form. `fallback(*values)` (the NumPy way, feeding included) runs a
    call whose inputs are not plain floats and one whose values leave the finite floats."""
    for t in plan.inputs:
        if t.shape != () or not _scalar_dtype(t.dtype):
            return None
    for value in plan.consts.values():
        v = np.asarray(value)
        if v.shape != () or not _scalar_dtype(v.dtype):
            return None
    forms = []
    for step in plan.steps:
        a = step.attrs
        form = OPS[a["op"]].scalar
        if form is None or a["params"] or a["shape"] != () or not _scalar_dtype(a["dtype"]):
            return None
        forms.append(form)
    n = len(plan.inputs)
    args = [f"a{i}" for i in range(n)]
    name = {i: f"x{i}" for i in range(n)}
    namespace: dict[str, Any] = dict(NAMES, _fallback=_as_scalars(fallback, single),
                                     _f64=np.float64, _bool=np.bool_,
                                     _isfinite=math.isfinite, _missing=_MISSING, _float=float)
    for slot, value in plan.consts.items():
        name[slot] = f"c{slot}"
        namespace[name[slot]] = np.asarray(value).item()
    floats = [name[i] for i in range(n) if plan.inputs[i].dtype == np.float64]
    # a method (Function's __call__, self unused): a wrong number of values goes the slow way,
    # whose error says what the function takes
    params = ", ".join(f"{a}=_missing" for a in args)
    lines = [f"def _run(_self, {params}{', ' if params else ''}*_more):"]
    given = f"*[v for v in ({''.join(f'{a}, ' for a in args)}) if v is not _missing]"
    lines.append(f"    if _more{''.join(f' or {a} is _missing' for a in args)}:")
    lines.append(f"        return _fallback({given}, *_more)")
    if not plan.steps:
        return None  # nothing to compute: the NumPy way costs no more
    # a plain float (np.float64 is one) goes the fast way; anything else is checked by the
    # NumPy backend's feeding and run there
    plain = " and ".join(f"isinstance({a}, float)" if t.dtype == np.float64
                         else f"type({a}) is bool" for a, t in zip(args, plan.inputs))
    if plain:
        lines.append(f"    if not ({plain}):")
        lines.append(f"        return _fallback({', '.join(args)})")
    for i in range(n):
        lines.append(f"    x{i} = _float({args[i]})" if plan.inputs[i].dtype == np.float64
                     else f"    x{i} = {args[i]}")  # np.float64 computes slower than float
    lines.append("    try:")
    for step, form in zip(plan.steps, forms):
        target = f"v{step.out}"
        name[step.out] = target
        lines.append(f"        {target} = {form.format(*[name[s] for s in step.args])}")
        if step.attrs["dtype"] == np.float64:
            floats.append(target)
    lines.append("    except (ArithmeticError, ValueError):")  # log(0), 1/0, exp(1000), ...
    lines.append(f"        return _fallback({', '.join(args)})")
    if floats:  # one inf or NaN anywhere makes the sum non-finite: NumPy's turn then
        lines.append(f"    if not _isfinite({' + '.join(floats)}):")
        lines.append(f"        return _fallback({', '.join(args)})")
    outs = [f"{'_f64' if _dtype_of(plan, s) == np.float64 else '_bool'}({name[s]})"
            for s in plan.outputs]
    lines.append(f"    return {outs[0]}" if single else f"    return [{', '.join(outs)}]")
    source = "\n".join(lines)
    exec(compile(source, f"<symgrad scalar function of {len(plan.steps)} steps>", "exec"),
         namespace)
    run = namespace["_run"]
    run.source = source  # type: ignore[attr-defined]
    return run
