"""Compiles a Plan to one straight-line Python function: no interpreter loop, no dict of values.

A value used once is written inside its consumer's call (nesting at most _MAX_DEPTH deep), so
NumPy's temporaries die as soon as they are consumed; other values live in local variables,
deleted (or overwritten) right after their last use; an elementwise NumPy ufunc writes its
result into the buffer of an input dying there (`out=`), saving an allocation, and a large
intermediate that no result can reach is written into a buffer kept between calls. Knows plans
and NumPy; of ops, reads only whether their records say they return views.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import numpy as np

from .ops.base import OPS

_MAX_DEPTH = 24  # Python's parser allows 200 nested parentheses; a level nests at most three
SCRATCH_MIN = 1 << 16  # bytes: smaller results come from malloc's heap (and NumPy's cache)
SCRATCH_LIMIT = 1 << 28  # bytes a Function may keep between calls (256 MB)
SCRATCH_PEAK = 1.5  # at most this times a call's peak memory without kept buffers


def compile_plan(plan: Any) -> tuple[Callable[..., tuple], str]:
    """The plan as a function of the input arrays returning a tuple of outputs, and its source."""
    steps = plan.steps
    namespace: dict[str, Any] = {}
    names: dict[int, str] = {}  # slot -> name of the variable, parameter or constant holding it
    for i in range(len(plan.inputs)):
        names[i] = f"a{i}"
    for slot, value in plan.consts.items():
        names[slot] = f"c{slot}"
        namespace[names[slot]] = value

    fn_names: dict[int, str] = {}
    for step in steps:
        if id(step.fn) not in fn_names:
            fn_names[id(step.fn)] = name = f"f{len(fn_names)}"
            namespace[name] = step.fn

    root = _inline_roots(plan)
    last: dict[int, int] = {}  # slot -> index of the statement that uses it last
    stmt_uses: dict[int, set[int]] = {}  # statement -> slots it reads, inlined calls included
    for k, step in enumerate(steps):
        for a in step.args:
            last[a] = max(last.get(a, -1), root[k])
            stmt_uses.setdefault(root[k], set()).add(a)
    keep = set(plan.outputs) | set(plan.consts)
    donor, takes_temp = _donors(plan, root, last, keep)
    into = _into(plan, donor, takes_temp)
    scratch, specs = _scratch(plan, root, keep, into)

    lines = [f"def _run({', '.join(names[i] for i in range(len(plan.inputs)))}):"]
    pending: dict[int, str] = {}  # slot -> expression of a value written into its consumer
    free: list[str] = []
    fresh = 0
    n_temps: dict[int, int] = {}  # statement -> temporaries named in it so far
    for k, step in enumerate(steps):
        args = []
        out = f", out=_s{scratch[k]}" if k in scratch else ""  # a buffer kept between calls
        temp = ""
        for a in step.args:
            if a not in pending:
                args.append(names[a])
            elif a == into.get(k):
                n = n_temps[root[k]] = n_temps.get(root[k], 0) + 1
                temp = f"_t{n - 1}"  # an inner call's fresh result
                args.append(f"({temp} := {pending.pop(a)})")
                out = f", out={temp}"
            else:
                args.append(pending.pop(a))
        expr = f"{fn_names[id(step.fn)]}({', '.join(args)}{out})"
        if temp:  # the name lets go of the buffer at once: only the result holds it now
            expr = f"({expr}, {temp} := None)[0]"
        if root[k] != k:
            pending[step.out] = expr
            continue
        dying = sorted(a for a in stmt_uses.get(k, ()) if last[a] == k and a not in keep
                       and a in names)
        for a in dying:
            if a >= len(plan.inputs):  # the caller holds the inputs: dropping them frees nothing
                expr = _release_at_last_read(expr, names[a])
        dying_names = [names[a] for a in dying]
        if k in donor and into.get(k) == donor[k]:  # into the dying input's own buffer
            name = names[donor[k]]
            expr = f"{expr[:-1]}, out={name})"
            dying_names.remove(name)
            dying_names.append(name)
        if dying_names:
            target = dying_names.pop()  # overwriting a dead value frees it
        elif free:
            target = free.pop()
        else:
            target, fresh = f"v{fresh}", fresh + 1
        names[step.out] = target
        lines.append(f"    {target} = {expr}")
        if dying_names:
            lines.append(f"    del {', '.join(dying_names)}")
            free.extend(dying_names)
    outs = ", ".join(names[s] for s in plan.outputs)
    lines.append(f"    return ({outs},)")
    if specs:
        lines = _with_buffers(lines, specs, namespace)
    source = "\n".join(lines)
    exec(compile(source, f"<symgrad function of {len(steps)} steps>", "exec"), namespace)
    return namespace["_run"], source


def _donors(plan: Any, root: list[int], last: dict[int, int], keep: set[int]
            ) -> tuple[dict[int, int], dict[int, set[int]]]:
    """Where an elementwise ufunc may write its result into an input's buffer (`out=`).

    Returns (statement -> variable slot, step -> temporary slots). Either input must have the
    result's static shape and dtype and be a fresh array made by a ufunc (not a view). A
    variable must be read for the last time by that statement, with no value that may be a
    view of it still to be read; a temporary (an inlined call's result) has no other reader.
    """
    made = {s.out: s for s in plan.steps}
    named = {s.out for k, s in enumerate(plan.steps) if root[k] == k}  # not inlined

    def fresh(slot: int) -> bool:
        step = made.get(slot)
        return step is not None and _makes_one_array(step.fn)

    views: dict[int, set[int]] = {}  # slot -> the fresh slots whose memory it may share
    alias_until: dict[int, float] = {}  # fresh slot -> last statement reading a possible view
    for k, step in enumerate(plan.steps):
        if fresh(step.out):
            views[step.out] = {step.out}
            continue
        views[step.out] = set().union(*(views.get(a, ()) for a in step.args))
        until = float("inf") if step.out in keep else last.get(step.out, root[k])
        for s in views[step.out]:
            alias_until[s] = max(alias_until.get(s, -1), until)

    donor: dict[int, int] = {}
    takes_temp: dict[int, set[int]] = {}
    for k, step in enumerate(plan.steps):
        if not _is_elementwise_ufunc(step.fn):
            continue
        want = step.attrs
        if not want["shape"] or None in want["shape"]:
            continue
        takes_temp[k] = {
            a for a in step.args
            if a in made and a not in named and _makes_one_array(made[a].fn)
            and made[a].attrs["shape"] == want["shape"]
            and made[a].attrs["dtype"] == want["dtype"]}
        if root[k] != k:
            continue
        for a in step.args:
            got = made[a].attrs if fresh(a) else None
            if (got is not None and a in named and last[a] == k and a not in keep
                    and got["shape"] == want["shape"] and got["dtype"] == want["dtype"]
                    and alias_until.get(a, -1) < k):
                donor[k] = a
                break
    return donor, takes_temp


def _into(plan: Any, donor: dict[int, int], takes_temp: dict[int, set[int]]) -> dict[int, int]:
    """Step -> the slot whose buffer its result is written into: an inlined argument's fresh
    result (the first of takes_temp's), else the statement's donor."""
    into: dict[int, int] = {}
    for k, step in enumerate(plan.steps):
        temps = takes_temp.get(k, ())
        first = next((a for a in step.args if a in temps), None)
        if first is not None:
            into[k] = first
        elif k in donor:
            into[k] = donor[k]
    return into


def _scratch(plan: Any, root: list[int], keep: set[int], into: dict[int, int]
             ) -> tuple[dict[int, int], list[tuple[tuple, np.dtype]]]:
    """Which steps write their result into a buffer the function keeps between calls (step ->
    buffer), and each buffer's (shape, dtype).

    A fresh result of SCRATCH_MIN bytes or more (a ufunc's, static shape) whose memory no
    output may hold (through views, or results written into it) gets one: a new array of that
    size costs a page fault per 4 KB, which on the book's MLP took about as long as computing.
    Results whose lives do not overlap (in the order the calls run) share a buffer; buffers
    stop being added once they would hold more than SCRATCH_LIMIT bytes in all.
    """
    steps = plan.steps
    if not any(_makes_one_array(step.fn) and _nbytes(step.attrs) >= SCRATCH_MIN
               for step in steps):
        return {}, []  # the common case of small arrays: no need to work out lives
    made_by = {step.out: k for k, step in enumerate(steps)}
    tick = _call_order(plan, root, made_by)
    mem: dict[int, frozenset[int]] = {}  # slot -> the fresh results whose memory it may use
    read: dict[int, int] = {}  # slot -> the tick of its last reader
    for k, step in enumerate(steps):
        for a in step.args:
            read[a] = max(read.get(a, -1), tick[k])
        if k in into:
            mem[step.out] = mem[into[k]]
        elif _makes_one_array(step.fn):
            mem[step.out] = frozenset((k,))
        else:  # a view of an input, or a new array: assumed the former
            mem[step.out] = frozenset().union(*(mem.get(a, frozenset()) for a in step.args))
    end: dict[int, float] = {}  # fresh result -> the last tick that may read its memory
    for slot, fresh in mem.items():
        until = float("inf") if slot in keep else read.get(slot, tick[made_by[slot]])
        for j in fresh:
            end[j] = max(end.get(j, -1), until)
    # the arrays a call makes: step -> (bytes, first tick, last tick); a step that is not a
    # ufunc counts as making its result and, while it runs, a temporary of that size, unless
    # its op's record says it returns views
    last_tick = len(steps)
    made: dict[int, tuple[int, int, float]] = {}
    inside: list[tuple[int, int, float]] = []
    for k, step in enumerate(steps):
        opdef = OPS.get(step.attrs["op"])  # None for a fused region
        if k in into or (opdef is not None and opdef.views):
            continue
        size = _nbytes(step.attrs)
        if _makes_one_array(step.fn):
            made[k] = (size, tick[k], min(end[k], last_tick))
        else:
            until = float("inf") if step.out in keep else read.get(step.out, tick[k])
            made[k] = (size, tick[k], min(until, last_tick))
            inside.append((size, tick[k], tick[k]))
    scratch: dict[int, int] = {}
    specs: list[tuple[tuple, np.dtype]] = []
    ends: list[float] = []  # buffer -> the last tick reading what it holds now
    held = 0
    for k in sorted(range(len(steps)), key=tick.__getitem__):
        a = steps[k].attrs
        shape, dtype = a["shape"], a["dtype"]
        if (k in into or not _makes_one_array(steps[k].fn) or end[k] == float("inf")
                or not shape or None in shape or np.dtype(dtype).kind not in "biufc"):
            continue
        spec = (tuple(shape), np.dtype(dtype))
        size = made[k][0]
        if size < SCRATCH_MIN:
            continue
        b = next((b for b, s in enumerate(specs) if s == spec and ends[b] < tick[k]), None)
        if b is None:
            if held + size > SCRATCH_LIMIT:
                continue
            held += size
            b = len(specs)
            specs.append(spec)
            ends.append(end[k])
        ends[b] = end[k]
        scratch[k] = b
    # kept buffers sit idle while other arrays are made: used only where they raise the call's
    # peak memory by at most SCRATCH_PEAK (the book's MLP gradient: 8.8 MB against 7.5 MB, hand
    # NumPy 9.7 MB; its HVP 9.8 against 7.5, NumPy 10.9; ops that are not ufuncs between
    # ufuncs, whose arrays cannot go into kept buffers, may need many more)
    rest = _peak([*(v for k, v in made.items() if k not in scratch), *inside])
    if held + rest > SCRATCH_PEAK * _peak([*made.values(), *inside]):
        return {}, []
    return scratch, specs


def _peak(arrays: Any) -> int:
    """The most bytes alive at once of arrays given as (bytes, first tick, last tick)."""
    events = sorted(e for size, first, last in arrays for e in ((first, size), (last + 0.5, -size)))
    peak = alive = 0
    for _, change in events:
        alive += change
        peak = max(peak, alive)
    return peak


def _nbytes(attrs: dict) -> int:
    shape, dtype = attrs["shape"], attrs["dtype"]
    if shape is None or None in shape or dtype is None:
        return 0
    return math.prod(shape) * np.dtype(dtype).itemsize


def _call_order(plan: Any, root: list[int], made_by: dict[int, int]) -> list[int]:
    """Each step's place in the order the compiled function calls them: statement by
    statement, and in a statement inner calls first, arguments left to right."""
    steps = plan.steps
    tick = [0] * len(steps)
    n = 0
    for k in range(len(steps)):
        if root[k] != k:
            continue
        todo = [(k, False)]
        while todo:
            m, ready = todo.pop()
            if ready:
                tick[m], n = n, n + 1
                continue
            todo.append((m, True))
            inner = [made_by[a] for a in steps[m].args if a in made_by
                     and made_by[a] != root[made_by[a]] == k]
            todo.extend((j, False) for j in reversed(inner))
    return tick


def _with_buffers(lines: list[str], specs: list[tuple[tuple, np.dtype]],
                  namespace: dict[str, Any]) -> list[str]:
    """The function's lines taking its buffers from a pool for the call (made at the first
    call; calls at once from several threads each get their own) and handing them back."""
    pool: deque[tuple] = deque(maxlen=2)
    namespace["_pool"] = pool
    namespace["_buffers"] = lambda: tuple(np.empty(shape, dtype) for shape, dtype in specs)
    names = ", ".join(f"_s{b}" for b in range(len(specs))) + ("," if len(specs) == 1 else "")
    return [lines[0], "    try:", f"        {names} = _pool.pop()", "    except IndexError:",
            f"        {names} = _buffers()", "    try:", *(f"    {line}" for line in lines[1:]),
            "    finally:", f"        _pool.append(({names}))"]


def _makes_one_array(fn: Any) -> bool:
    """A ufunc of one output: its result is a fresh array (matmul's included)."""
    return isinstance(fn, np.ufunc) and fn.nout == 1


def _is_elementwise_ufunc(fn: Any) -> bool:
    return _makes_one_array(fn) and fn.signature is None  # not matmul's (n,k),(k,m)->(n,m)


def _release_at_last_read(expr: str, name: str) -> str:
    """Drops the local `name` at its last read in `expr` when that read is inside an inner call.

    In `f(g(v), h(w))` the local v would outlive g until the statement ends, one more array
    alive while h and f run; `f(g((v, v := None)[0]), h(w))` lets it die when g returns.
    """
    at = len(expr)
    while True:  # the last place `name` stands as an argument (not inside a longer name)
        at = expr.rfind(name, 0, at)
        if at < 0:
            return expr
        end = at + len(name)
        if expr[at - 1] in "( " and expr[end] in ",)":
            break
    if expr.count("(", 0, at) - expr.count(")", 0, at) < 2:  # an argument of the outer call
        return expr
    return f"{expr[:at]}({name}, {name} := None)[0]{expr[end:]}"


def _inline_roots(plan: Any) -> list[int]:
    """For each step, the index of the statement that computes it (itself unless inlined)."""
    steps = plan.steps
    uses = Counter(a for step in steps for a in step.args)
    outputs = set(plan.outputs)
    consumer = {a: k for k, step in enumerate(steps) for a in step.args if uses[a] == 1}
    depth: dict[int, int] = {}
    inlined: set[int] = set()
    for step in steps:
        d = 1 + max((depth[a] for a in step.args if a in inlined), default=0)
        depth[step.out] = d
        if uses[step.out] == 1 and step.out not in outputs and d < _MAX_DEPTH:
            inlined.add(step.out)
    root = list(range(len(steps)))
    for k in range(len(steps) - 1, -1, -1):
        out = steps[k].out
        if out in inlined:
            root[k] = root[consumer[out]]
    return root
