"""The fused tier: maximal regions of elementwise steps on arrays of one shape, each run as one
compiled loop (kernels.py), the rest of the plan as NumPy calls; compiled in the background.

A region holds steps of ops with a `scalar` form whose values all have one static shape and one
float dtype (booleans allowed, 0-d values broadcast into them); it ends at other steps, and a
value it makes that something else reads becomes one of its outputs. FusingRunner runs the
NumPy plan until the fused one is ready, then swaps it in. Reads op records for their forms;
names no op.
"""

from __future__ import annotations

import collections
import heapq
import math
import operator
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import kernels
from .ops.base import OPS
from .plan import Plan, Step
from .tiers import MIN_OPS

MAX_OPS = 20_000  # LLVM's time grows faster than linearly with a loop's body
# On large arrays a short region gains nothing over NumPy's vectorized ufuncs, and its loop
# also checks every value for inf and NaN: on the book's MLP, regions of 2-3 ops on 130k-400k
# elements ran 5% slower than NumPy (bench/fused.py). Large regions need LARGE_MIN_OPS ops.
LARGE = 16_384  # elements
LARGE_MIN_OPS = 4
_NONFINITE_LIMIT = 16  # calls: a region that met infs or NaNs in half of its calls stops trying
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_BOOL = np.dtype(np.bool_)


@dataclass
class Region:
    """Steps fused into one loop: `steps` (indices into the plan's steps, in order), their
    `shape` and float `dtype`; `arrays` and `scalars` are the slots it reads from outside
    (arrays of `shape`, 0-d values), `outputs` the slots read after it."""

    steps: list[int]
    shape: tuple[int, ...]
    dtype: np.dtype
    arrays: list[int] = field(default_factory=list)
    scalars: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)


@dataclass
class FusedPlan:
    """A plan with its regions fused: `run(*arrays)` returns the outputs as the NumPy plan's
    compiled code does; `seconds` of each stage of making it ("regions", "llvm", "python")."""

    plan: Plan
    run: Callable[..., tuple]
    regions: list[Region]
    loops: list[kernels.Loop]
    source: str
    ir: str
    seconds: dict[str, float]
    counts: list[_Counts]  # per region: calls, and those that ran NumPy for infs or NaNs
    engine: Any  # owns the loops' machine code


# -- regions -----------------------------------------------------------------------------------
def _slot_types(plan: Plan) -> dict[int, tuple[Any, Any]]:
    types: dict[int, tuple[Any, Any]] = {i: (t.shape, t.dtype) for i, t in enumerate(plan.inputs)}
    for slot, value in plan.consts.items():
        v = np.asarray(value)
        types[slot] = (v.shape, v.dtype)
    for step in plan.steps:
        types[step.out] = (step.attrs["shape"], step.attrs["dtype"])
    return types


def _key(step: Step, types: dict) -> tuple | None:
    """(shape, float dtype) of a step that may join a region, else None."""
    a = step.attrs
    shape = a["shape"]
    if not shape or None in shape or a["params"] or math.prod(shape) == 0:
        return None
    opdef = OPS[a["op"]]
    if not opdef.elementwise or opdef.scalar is None or not kernels.can_lower(opdef.scalar):
        return None
    floats = set()
    for slot in (step.out, *step.args):
        s, dtype = types[slot]
        if s != shape and s != ():
            return None  # broadcasting other than of 0-d values: NumPy's
        if dtype in _FLOATS:
            floats.add(dtype)
        elif dtype != _BOOL:
            return None
    return (shape, floats.pop()) if len(floats) == 1 else None


class _Groups:
    """Regions being formed: a union-find of region ids, each group's ids as a bitmask, what it
    reads from other regions directly (`reads`) and through steps outside regions
    (`follows`)."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.bits: list[int] = []
        self.members: list[list[int]] = []
        self.reads: list[int] = []
        self.follows: list[int] = []
        self.keys: list[tuple] = []

    def new(self, key: tuple) -> int:
        r = len(self.parent)
        self.parent.append(r)
        self.bits.append(1 << r)
        self.members.append([])
        self.reads.append(0)
        self.follows.append(0)
        self.keys.append(key)
        return r

    def find(self, r: int) -> int:
        parent = self.parent
        while parent[r] != r:
            parent[r] = r = parent[parent[r]]
        return r

    def waits(self, mask: int) -> int:
        """The regions of `mask` and every region they wait for, as they are grouped now."""
        seen, todo = 0, mask
        while todo:
            root = self.find((todo & -todo).bit_length() - 1)
            seen |= self.bits[root]
            todo = (todo | self.reads[root] | self.follows[root]) & ~seen
        return seen

    def can_merge(self, rs: list[int], before: int = 0, outside: int = 0) -> bool:
        """Whether groups `rs` (and a step reading `before` and regions `outside`) may become
        one region: nothing any of them waits for, other than each other, waits for them."""
        inside = reads = follows = 0
        for r in rs:
            inside |= self.bits[r]
            reads |= self.reads[r]
            follows |= self.follows[r]
        return not self.waits(before | outside | follows | (reads & ~inside)) & inside

    def merge(self, into: int, r: int) -> None:
        self.parent[r] = into
        bits = self.bits[into] = self.bits[into] | self.bits[r]
        self.reads[into] = (self.reads[into] | self.reads[r]) & ~bits
        self.follows[into] |= self.follows[r]
        self.members[into] = sorted(self.members[into] + self.members[r])


def find_regions(plan: Plan, min_ops: int | None = None, max_ops: int | None = None
                 ) -> list[Region]:
    """The plan's fusible regions, greedily in plan order: a step joins (and may merge) the
    regions of its inputs that have its key, and regions reading the same value merge, unless
    that would make a region wait for itself (read, through steps outside it, what it makes)."""
    min_ops = MIN_OPS if min_ops is None else min_ops
    max_ops = MAX_OPS if max_ops is None else max_ops
    types = _slot_types(plan)
    groups = _Groups()
    region_of: dict[int, int] = {}  # slot -> region that makes it
    after: dict[int, int] = {}  # slot -> regions it is made from through steps outside them
    for k, step in enumerate(plan.steps):
        before = 0
        read: list[int] = []
        for a in step.args:
            before |= after.get(a, 0)
            if a in region_of:
                read.append(groups.find(region_of[a]))
        key = _key(step, types)
        group = None
        if key is not None:
            for r in dict.fromkeys(read):
                chosen = [r] if group is None else [group, r]
                size = sum(len(groups.members[q]) for q in chosen)
                if groups.keys[r] != key or size >= max_ops:
                    continue
                inside = 0
                for q in chosen:
                    inside |= groups.bits[q]
                outside = 0
                for q in read:
                    if not groups.bits[q] & inside:
                        outside |= groups.bits[q]
                if groups.can_merge(chosen, before, outside):
                    if group is None:
                        group = r
                    else:
                        groups.merge(group, r)
            if group is None:
                group = groups.new(key)
            groups.members[group].append(k)
            region_of[step.out] = group
            for q in read:
                q = groups.find(q)
                if q != group:
                    groups.reads[group] |= groups.bits[q]
            groups.follows[group] |= before
            if before:
                after[step.out] = before
        else:
            for q in read:
                before |= groups.bits[groups.find(q)]
            if before:
                after[step.out] = before
    _merge_siblings(plan, groups, region_of, max_ops)
    regions = _describe([(groups.keys[r], groups.members[r]) for r in range(len(groups.parent))
                         if groups.find(r) == r and len(groups.members[r]) >= min_ops],
                        plan, types)
    return [r for r in regions if len(r.steps) >= LARGE_MIN_OPS or math.prod(r.shape) <= LARGE]


def _merge_siblings(plan: Plan, groups: _Groups, region_of: dict[int, int], max_ops: int
                    ) -> None:
    """Regions of one key reading the same value become one: one pass over that value."""
    readers: dict[int, list[int]] = collections.defaultdict(list)
    for step in plan.steps:
        r = region_of.get(step.out)
        if r is not None:
            for a in step.args:
                readers[a].append(r)
    for rs in readers.values():
        for r in rs[1:]:
            a, b = groups.find(rs[0]), groups.find(r)
            if (a != b and groups.keys[a] == groups.keys[b]
                    and len(groups.members[a]) + len(groups.members[b]) <= max_ops
                    and groups.can_merge([a, b])):
                groups.merge(a, b)


def _describe(groups: list[tuple[tuple, list[int]]], plan: Plan, types: dict) -> list[Region]:
    steps = plan.steps
    readers: dict[int, set[int]] = collections.defaultdict(set)  # slot -> steps reading it
    for k, step in enumerate(steps):
        for a in step.args:
            readers[a].add(k)
    outputs = set(plan.outputs)
    regions = []
    for (shape, dtype), ks in groups:
        inside = set(ks)
        made = {steps[k].out for k in ks}
        region = Region(ks, shape, dtype)
        for k in ks:
            for a in steps[k].args:
                if a in made or a in region.arrays or a in region.scalars:
                    continue
                if types[a][0] == ():
                    if a not in plan.consts:  # 0-d constants are written into the loop
                        region.scalars.append(a)
                else:
                    region.arrays.append(a)
        region.outputs = [steps[k].out for k in ks
                          if steps[k].out in outputs or readers[steps[k].out] - inside]
        regions.append(region)
    return regions


# -- the fused plan --------------------------------------------------------------------------
def _loop(plan: Plan, region: Region, types: dict) -> kernels.Loop:
    def kind(slot: int) -> str:
        return "b" if types[slot][1] == _BOOL else "f"

    loop = kernels.Loop(region.dtype, [kind(s) for s in region.arrays],
                        [kind(s) for s in region.scalars])
    where: dict[int, Any] = {s: ("a", i) for i, s in enumerate(region.arrays)}
    where.update({s: ("s", i) for i, s in enumerate(region.scalars)})
    for k in region.steps:
        step = plan.steps[k]
        operands = []
        for a in step.args:
            if a in where:
                operands.append(where[a])
            else:  # a 0-d constant
                operands.append(np.asarray(plan.consts[a]).item())
        where[step.out] = ("v", len(loop.body))
        loop.body.append((OPS[step.attrs["op"]].scalar, tuple(operands), kind(step.out)))
    loop.outputs = [where[s][1] for s in region.outputs]
    return loop


class _Counts:
    """A region's calls, and those whose values were not all finite (it ran NumPy then)."""

    def __init__(self) -> None:
        self.calls = self.nonfinite = 0
        self.off = False


def _numpy_way(plan: Plan, region: Region) -> Callable[..., Any]:
    """The region's steps on NumPy (where its values are not finite, or its inputs are not
    what the loop was compiled for)."""
    steps = [plan.steps[k] for k in region.steps]
    slots = region.arrays + region.scalars
    consts = {a: plan.consts[a] for step in steps for a in step.args if a in plan.consts}
    outs = region.outputs

    def run(*values: Any) -> Any:
        regs = dict(consts)
        regs.update(zip(slots, values))
        for step in steps:
            regs[step.out] = step.fn(*[regs[a] for a in step.args])
        return regs[outs[0]] if len(outs) == 1 else tuple([regs[s] for s in outs])
    return run


def _region_call(region: Region, loop: kernels.Loop, function: Callable, types: dict,
                 numpy_way: Callable[..., Any]) -> tuple[Callable[..., Any], _Counts]:
    """A Python function of the region's inputs returning its outputs: NumPy's steps for arrays
    not of the shape and dtype the loop was compiled for, else the loop (on C-ordered copies of
    views), and NumPy for the elements from its first block that was not all finite."""
    ins = [f"i{k}" for k in range(len(region.arrays))]
    scal = [f"s{k}" for k in range(len(region.scalars))]
    outs = [f"o{k}" for k in range(len(region.outputs))]
    counts = _Counts()

    def fallback(start: int, inputs: tuple, outputs: tuple) -> Any:
        counts.nonfinite += 1
        if counts.nonfinite >= _NONFINITE_LIMIT and 2 * counts.nonfinite >= counts.calls:
            counts.off = True
        flat = [a.reshape(-1)[start:] for a in inputs[:len(ins)]]  # C order: views
        got = numpy_way(*flat, *inputs[len(ins):])
        for out, value in zip(outputs, got if len(outputs) > 1 else (got,)):
            out.reshape(-1)[start:] = value
        return outputs if len(outputs) > 1 else outputs[0]

    ns: dict[str, Any] = {"_numpy": numpy_way, "_fallback": fallback, "_loop": function,
                          "_counts": counts, "_empty": np.empty, "_copy": np.array,
                          "_S": region.shape, "_N": math.prod(region.shape)}
    checks, layout = [], []
    for k, kind in enumerate(loop.arrays):
        ns[f"_D{k}"] = _BOOL if kind == "b" else region.dtype
        checks.append(f"i{k}.shape == _S and i{k}.dtype == _D{k}")
        # a view (a transpose, a slice) is copied: one pass, where NumPy would make several
        flags = f"i{k}.flags.c_contiguous" + (f" and i{k}.flags.writeable" if k in loop.into
                                              else "")
        layout += [f"    if not ({flags}):", f"        i{k} = _copy(i{k}, order='C')"]
    lines = [f"def _region({', '.join(ins + scal)}):",
             "    _counts.calls += 1",
             f"    if _counts.off or not ({' and '.join(checks) or 'True'}):",
             f"        return _numpy({', '.join(ins + scal)})",
             *layout]
    own = []
    for k, (slot, j) in enumerate(zip(region.outputs, loop.into)):
        if j is None:
            ns[f"_E{k}"] = types[slot][1]
            lines.append(f"    o{k} = _empty(_S, _E{k})")
            own.append(f"o{k}")
        else:
            lines.append(f"    o{k} = i{j}")
    convert = [f"float({s})" if kind == "f" else f"bool({s})"
               for s, kind in zip(scal, loop.scalars)]
    ptrs = [f"{v}.ctypes.data" for v in ins + own]
    lines += [f"    stop = _loop({', '.join(ptrs + convert)}, _N)",
              "    if stop:",
              f"        return _fallback(stop - 1, ({', '.join(ins + scal)},), "
              f"({', '.join(outs)},))",
              f"    return {', '.join(outs)}{',' * (len(outs) > 1)}"]  # a tuple of several
    exec(compile("\n".join(lines), f"<symgrad fused region of {len(region.steps)} steps>", "exec"),
         ns)
    return ns["_region"], counts


def _donate(plan: Plan, order: list[int | Region], loops: list[kernels.Loop],
            regions: list[Region], types: dict) -> None:
    """Sets each loop's `into`: an output goes into the buffer of an array input that dies in
    its region (its last reader, no view of it read later or in the region, made fresh by a
    ufunc or a region, of the output's shape and dtype), as codegen's `out=` does."""
    from .codegen import _makes_one_array

    fresh = {step.out for step in plan.steps if _makes_one_array(step.fn)}
    fresh.update(s for r in regions for s in r.outputs)
    last: dict[int, int] = {}
    views: dict[int, set[int]] = {}  # slot -> fresh slots whose memory it may share
    reads = []
    for n, item in enumerate(order):
        if isinstance(item, Region):
            args, outs = item.arrays + item.scalars, item.outputs
        else:
            step = plan.steps[item]
            args, outs = list(step.args), [step.out]
        reads.append(args)
        for a in args:
            last[a] = n
        for out in outs:
            views[out] = {out} if out in fresh else set().union(*(views.get(a, ()) for a in args))
    alias_until: dict[int, float] = {}
    for slot, shared in views.items():
        until = math.inf if slot in plan.outputs else last.get(slot, -1)
        for f in shared:
            alias_until[f] = max(alias_until.get(f, -1), until)
    position = {id(item): n for n, item in enumerate(order)}
    for region, loop in zip(regions, loops):
        n = position[id(region)]
        taken: set[int] = set()
        loop.into = []
        for out in region.outputs:
            pick = None
            for j, a in enumerate(region.arrays):
                if (j not in taken and a in fresh and types[a] == types[out]
                        and alias_until.get(a, -1) <= n
                        and not any(a in views.get(b, ()) for b in region.arrays if b != a)):
                    pick = j
                    break
            if pick is not None:
                taken.add(pick)
            loop.into.append(pick)


def _order(plan: Plan, regions: list[Region]) -> list[int | Region]:
    """The steps outside regions and the regions, in an order where each comes after what it
    reads (Kahn's algorithm; ties in plan order)."""
    steps = plan.steps
    node_of: list[int] = list(range(len(steps)))  # step -> node: itself, or len(steps) + region
    for r, region in enumerate(regions):
        for k in region.steps:
            node_of[k] = len(steps) + r
    maker = {step.out: node_of[k] for k, step in enumerate(steps)}
    needs: dict[int, set[int]] = collections.defaultdict(set)
    for k, step in enumerate(steps):
        for a in step.args:
            m = maker.get(a)
            if m is not None and m != node_of[k]:
                needs[node_of[k]].add(m)
    waiting = {n: len(needs[n]) for n in set(node_of)}
    readers: dict[int, list[int]] = collections.defaultdict(list)
    for n, ms in needs.items():
        for m in ms:
            readers[m].append(n)
    first = {}
    for k, n in enumerate(node_of):
        first.setdefault(n, k)
    ready = [(first[n], n) for n, w in waiting.items() if w == 0]
    heapq.heapify(ready)
    order: list[int | Region] = []
    while ready:
        _, n = heapq.heappop(ready)
        order.append(n if n < len(steps) else regions[n - len(steps)])
        for m in readers[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                heapq.heappush(ready, (first[m], m))
    if len(order) != len(waiting):
        raise RuntimeError("fused regions wait for each other (a cycle)")
    return order


def build(plan: Plan) -> FusedPlan | None:
    """The plan with its regions fused and compiled; None if it has none worth fusing."""
    from .codegen import compile_plan

    t0 = time.perf_counter()
    regions = find_regions(plan)
    if not regions:
        return None
    types = _slot_types(plan)
    loops = [_loop(plan, r, types) for r in regions]
    order = _order(plan, regions)
    _donate(plan, order, loops, regions, types)
    t1 = time.perf_counter()
    compiled = kernels.compile_loops(loops)
    t2 = time.perf_counter()
    steps: list[Step] = []
    counts = []
    n_slots = plan.n_slots
    for item in order:
        if isinstance(item, int):
            steps.append(plan.steps[item])
            continue
        r = regions.index(item)
        call, count = _region_call(item, loops[r], compiled.functions[r], types,
                                   _numpy_way(plan, item))
        counts.append(count)
        last = plan.steps[item.steps[-1]]
        attrs = {"op": "fused", "name": None, "inputs": (), "shape": None, "dtype": None}
        args = tuple(item.arrays + item.scalars)
        if len(item.outputs) == 1:
            steps.append(Step(last.nid, call, args, item.outputs[0], attrs))
            continue
        steps.append(Step(last.nid, call, args, n_slots, attrs))
        for j, slot in enumerate(item.outputs):
            steps.append(Step(last.nid, operator.itemgetter(j), (n_slots,), slot, attrs))
        n_slots += 1
    fused = Plan(plan.graph, plan.inputs, steps, plan.consts, plan.outputs, n_slots)
    run, source = compile_plan(fused)
    fused.source = source
    t3 = time.perf_counter()
    return FusedPlan(fused, run, regions, loops, source, compiled.ir,
                     {"regions": t1 - t0, "llvm": t2 - t1, "python": t3 - t2}, counts,
                     compiled.engine)
