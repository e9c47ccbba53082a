"""Plans whose values are all scalars, compiled to straight-line Python over floats.

Where every value of a plan is 0-d float64 (or boolean) and every op has a `scalar` form
(OpDef.scalar), one NumPy call per node is the wall (~0.5-1 us each): Python's own float
arithmetic and the `math` module cost a tenth of that. IEEE semantics are NumPy's: float64
arithmetic is the same in both, and a call where any value leaves the finite floats (an inf, a
NaN, an exception from `math`: log(0), 1/0, exp(1000)) runs again on the NumPy plan, which
gives NumPy's infs, NaNs and warnings exactly; only the values that may (forms.py: their bound
is not finite) are checked, and the inputs. Results are NumPy scalars (np.float64, np.bool_:
numbers that act as 0-d arrays but cannot be written into; making a 0-d array would cost more
than the whole computation). Knows plans and op records' scalar forms, not ops.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

from .forms import (
    BOOL,
    FINITE,
    UNKNOWN,
    Bound,
    bound,
    canonical,
    is_finite,
    only_called,
    read_once,
    subexpressions,
    template,
)
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
_MAX_DEPTH = 24  # values written inside one another: Python's parser allows 200 parentheses


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


def _literal(v: float | bool) -> str | None:
    """A constant as Python source (a literal is cheaper to read than a global), or None for
    one that has none (inf, NaN)."""
    if isinstance(v, bool):
        return repr(v)
    if not math.isfinite(v):
        return None
    return f"({v!r})" if math.copysign(1.0, v) < 0 else repr(v)  # repr is exact: 17 digits


def _reusing(form: str, slots: list[int], known: dict[str, int], var: dict[int, str]
             ) -> tuple[str, list[int]]:
    """The step's form and operands, reading a value computed already wherever the form
    computes it again (tanh_grad's 1 - y*y beside the product y*y): the same operations, the
    same float. `known`: expression -> the slot holding its value."""
    found = True
    while found:
        found = False
        for sub, rest in subexpressions(form):
            slot = known.get(sub.format(*[var[s] for s in slots]))
            if slot is not None:
                form, slots, found = rest, [*slots, slot], True
                break
    return form, slots


def _body(plan: Plan, forms: list[str], name: dict[int, str], bounds: dict[int, Bound],
          is_float: dict[int, bool]) -> tuple[list[str], list[str]]:
    """The steps as assignments, and the variables to check (those whose bound is not
    finite). A value read once, by a form reading it once and always, is written inside that
    form (fewer variables to store and load), nesting at most _MAX_DEPTH deep. Fills `name`
    with how the code reads each step's value."""
    var = {**name, **{st.out: f"v{st.out}" for st in plan.steps}}
    known: dict[str, int] = {}
    checked: list[int] = []
    reads: Counter[int] = Counter()
    once: set[int] = set()  # read once and always where it is read
    rewritten = []
    for step, form in zip(plan.steps, forms):
        b = bound(template(form), [bounds[s] for s in step.args])
        if is_float[step.out] and not is_finite(b):
            checked.append(step.out)
            b = FINITE  # if it is not, the call runs on NumPy
        bounds[step.out] = b
        form, slots = _reusing(form, list(step.args), known, var)
        known.setdefault(canonical(form).format(*[var[s] for s in slots]), step.out)
        rewritten.append((step.out, form, slots))
        for k, s in enumerate(slots):
            reads[s] += canonical(form).count(f"{{{k}}}")
            if k in read_once(form):
                once.add(s)
    keep = set(plan.outputs) | set(checked)
    depth: dict[int, int] = {}
    body = []
    for out, form, slots in rewritten:
        expr = canonical(form).format(*[name[s] for s in slots])
        depth[out] = 1 + max((depth.get(s, 0) for s in slots), default=0)
        if reads[out] == 1 and out in once and out not in keep and depth[out] < _MAX_DEPTH:
            name[out] = f"({expr})"
        else:
            name[out], depth[out] = var[out], 0
            body.append(f"        {var[out]} = {expr}")
    return body, [var[s] for s in checked]


def compile_scalar(plan: Plan, fallback: Callable[..., Any], single: bool,
                   feed: Callable[[Any, Any], np.ndarray]) -> Callable[..., Any] | None:
    """The plan as a Function's __call__ (self, *values) returning NumPy scalars (one, or a
    list of them), or None when the plan is not all scalars or has an op without a scalar
    form.

    Floats (np.float64 is one) and bools run at once; any other value goes through
    `feed(tensor, value)` (the NumPy backend's checks: FeedError naming the placeholder) and
    then the fast way. `fallback(*values)` (the NumPy way, feeding included) runs a call of
    the wrong number of values, and one whose values leave the finite floats: only the values
    whose bound (forms.py) is not finite are checked, the inputs always."""
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
    if not plan.steps:
        return None  # nothing to compute: the NumPy way costs no more
    n = len(plan.inputs)
    is_float = {i: t.dtype == np.float64 for i, t in enumerate(plan.inputs)}
    is_float.update((st.out, st.attrs["dtype"] == np.float64) for st in plan.steps)
    args = [f"a{i}" for i in range(n)]
    name = dict(enumerate(args))
    bounds = {i: FINITE if is_float[i] else BOOL for i in range(n)}
    namespace: dict[str, Any] = dict(NAMES, _fallback=_as_scalars(fallback, single),
                                     _one=np.float64(1.0), _true=np.True_, _false=np.False_,
                                     _isfinite=math.isfinite, _float=float, _missing=_MISSING)
    for slot, value in plan.consts.items():
        v = np.asarray(value).item()
        is_float[slot] = isinstance(v, float)
        bounds[slot] = (float(v), float(v)) if math.isfinite(v) else UNKNOWN
        name[slot] = _literal(v) or f"c{slot}"
        namespace.setdefault(name[slot], v)  # a literal's entry is never read
    # an input only handed to math functions may stay an np.float64; any other is made a
    # float once, which computes several times faster
    convert = {a for step, form in zip(plan.steps, forms) for k, a in enumerate(step.args)
               if a < n and is_float[a] and k not in only_called(form)}
    body, checked = _body(plan, forms, name, bounds, is_float)
    checked = [name[i] for i in sorted(convert)] + checked

    # a method (Function's __call__, self unused); a wrong number of values, or values that are
    # not plain floats and bools, take the other way, which checks them as NumPy's way does
    plain = " and ".join(f"isinstance({a}, float)" if is_float[i] else f"type({a}) is bool"
                         for i, a in enumerate(args))
    params = "".join(f"{a}=_missing, " for a in args)
    lines = [f"def _run(_self, {params}*_more):",
             f"    if _more{f' or not ({plain})' if plain else ''}:",
             f"        return _convert({''.join(f'{a}, ' for a in args)}*_more)"]
    lines += [f"    {name[i]} = _float({name[i]})" for i in sorted(convert)]
    again = f"        return _fallback({', '.join(args)})"
    lines += ["    try:", *body, "    except (ArithmeticError, ValueError):", again]  # log(0), ...
    # one inf or NaN among the checked values makes their sum non-finite: NumPy's turn then
    tests = [f"_isfinite({a})" for i, a in enumerate(args) if is_float[i] and i not in convert]
    if checked:
        tests.append(f"_isfinite({' + '.join(checked)})")
    if tests:
        lines += [f"    if not ({' and '.join(tests)}):", again]
    outs = [f"_one * {name[s]}" if is_float[s] else f"(_true if {name[s]} else _false)"
            for s in plan.outputs]  # 1.0 * x is x: the cheapest way to make an np.float64
    lines.append(f"    return {outs[0]}" if single else f"    return [{', '.join(outs)}]")
    source = "\n".join(lines)
    exec(compile(source, f"<symgrad scalar function of {len(plan.steps)} steps>", "exec"),
         namespace)
    run = namespace["_run"]

    inputs = plan.inputs

    def _convert(*values: Any) -> Any:
        while values and values[-1] is _MISSING:  # the values not given: always the last ones
            values = values[:-1]
        if len(values) != n:
            return fallback(*values)  # its TypeError says what the function takes
        return run(None, *[feed(t, v).item() for t, v in zip(inputs, values)])

    namespace["_convert"] = _convert
    run.source = source  # type: ignore[attr-defined]
    return run
