"""Compiles a Plan to one straight-line Python function: no interpreter loop, no dict of values.

A value used once is written inside its consumer's call (nesting at most _MAX_DEPTH deep), so
NumPy's temporaries die as soon as they are consumed; other values live in local variables,
deleted (or overwritten) right after their last use. Knows plans, not ops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

_MAX_DEPTH = 24  # Python's parser allows 200 nested parentheses; calls nest two per level


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

    lines = [f"def _run({', '.join(names[i] for i in range(len(plan.inputs)))}):"]
    pending: dict[int, str] = {}  # slot -> expression of a value written into its consumer
    free: list[str] = []
    fresh = 0
    for k, step in enumerate(steps):
        args = ", ".join(pending.pop(a) if a in pending else names[a] for a in step.args)
        expr = f"{fn_names[id(step.fn)]}({args})"
        if root[k] != k:
            pending[step.out] = expr
            continue
        dying = sorted(a for a in stmt_uses.get(k, ()) if last[a] == k and a not in keep
                       and a in names)
        for a in dying:
            if a >= len(plan.inputs):  # the caller holds the inputs: dropping them frees nothing
                expr = _release_at_last_read(expr, names[a])
        dying_names = [names[a] for a in dying]
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
    source = "\n".join(lines)
    exec(compile(source, f"<symgrad function of {len(steps)} steps>", "exec"), namespace)
    return namespace["_run"], source


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
