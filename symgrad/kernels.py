"""Elementwise loops compiled by LLVM (llvmlite, `pip install symgrad[fast]`): one loop over
the flattened elements of C-contiguous arrays computing a list of per-element expressions.

The expressions are the ops' `scalar` forms (OpDef.scalar: Python expressions over the math
module's names), lowered here to LLVM IR: arithmetic and comparisons become IEEE instructions
(no fast-math: the same roundings as NumPy), the math functions the C library's (`tanh`, or
`tanhf` in float32). Each loop returns 1 when any value it made or read was an inf or a NaN, where
the forms need not agree with NumPy: the caller then runs NumPy instead. Knows forms and LLVM,
not plans or ops; llvmlite is imported only when loops are compiled.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import ctypes.util
import struct
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from .forms import template

# names of the C library (float64; float32 adds "f") and LLVM's intrinsics that forms may call
_LIBM = {"exp", "log", "log1p", "expm1", "exp2", "log2", "log10", "sin", "cos", "tan", "asin",
         "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "erf", "erfc",
         "atan2", "hypot", "pow"}
_INTRINSICS = {"sqrt": "sqrt", "fabs": "fabs", "floor": "floor", "ceil": "ceil",
               "trunc": "trunc", "copysign": "copysign"}
# helpers of scalar.py, as forms of their own: NumPy's logaddexp(0, t), one exp and one log1p
_MACROS = {"logaddexp0": "({0} > 0) * {0} + log1p(exp(-fabs({0})))"}
_COMPARE = {ast.Lt: ("olt", "ult"), ast.LtE: ("ole", "ule"), ast.Gt: ("ogt", "ugt"),
            ast.GtE: ("oge", "uge"), ast.Eq: ("oeq", "eq"), ast.NotEq: ("une", "ne")}
_SUMS = 4  # accumulators of the finiteness check: a chain of adds would be as long as the body
_ARITH = {ast.Add: "fadd", ast.Sub: "fsub", ast.Mult: "fmul", ast.Div: "fdiv"}


class Unsupported(Exception):
    """A form this module cannot lower (syntax or a function it does not know)."""


Operand = tuple[str, int] | bool | float  # ("a", i) array i, ("s", i) scalar i, ("v", j) value j


@dataclass
class Loop:
    """What one loop computes per element.

    `dtype` is the type of its float values (float32 or float64); `arrays` and `scalars` give
    the kind of each input ("f" float, "b" bool); each `body` entry is (form, operands, kind of
    its result), an operand being ("a", i), ("s", i), ("v", j) (an earlier entry) or a
    constant; `outputs` are the body entries stored, in order."""

    dtype: np.dtype
    arrays: list[str] = field(default_factory=list)
    scalars: list[str] = field(default_factory=list)
    body: list[tuple[str, tuple[Operand, ...], str]] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)
    into: list[int | None] = field(default_factory=list)  # per output: the array input whose
    # buffer it is written into (that input's value dies here), or None: a buffer of its own


@cache
@cache
def can_lower(form: str) -> bool:
    """Whether a scalar form uses only what this module lowers."""
    try:
        _Lowering(np.dtype(np.float64)).expr(template(form), [("%x", "f")] * 10)
    except (Unsupported, SyntaxError, IndexError, KeyError):
        return False
    return True


class _Lowering:
    """Writes the IR of expressions into `lines`, one SSA value per instruction."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype
        self.ty = "double" if dtype == np.float64 else "float"
        self.suffix = "" if dtype == np.float64 else "f"
        self.lines: list[str] = []
        self.declared: set[str] = set()
        self.count = 0

    def new(self, text: str) -> str:
        self.count += 1
        name = f"%t{self.count}"
        self.lines.append(f"  {name} = {text}")
        return name

    def literal(self, value: float) -> str:
        """A float constant in LLVM's hex form (float32 rounded first, as NumPy rounds a
        Python number beside float32 arrays)."""
        value = float(np.float32(value)) if self.ty == "float" else float(value)
        return "0x" + struct.pack(">d", value).hex().upper()

    def as_float(self, v: tuple[str, str]) -> str:
        return v[0] if v[1] == "f" else self.new(f"uitofp i1 {v[0]} to {self.ty}")

    def as_bool(self, v: tuple[str, str]) -> str:  # truth as NumPy's: nonzero (NaN is true)
        return v[0] if v[1] == "b" else self.new(f"fcmp une {self.ty} {v[0]}, 0.0")

    def call(self, name: str, args: list[str]) -> str:
        if name in _INTRINSICS:
            symbol = f"llvm.{_INTRINSICS[name]}.{'f64' if self.ty == 'double' else 'f32'}"
        elif name in _LIBM:
            symbol = name + self.suffix
        else:
            raise Unsupported(name)
        params = ", ".join([self.ty] * len(args))
        self.declared.add(f"declare {self.ty} @{symbol}({params})")
        return self.new(f"call {self.ty} @{symbol}({', '.join(f'{self.ty} {a}' for a in args)})")

    def expr(self, node: ast.expr, env: Sequence[tuple[str, str]]) -> tuple[str, str]:
        """The IR value of an expression node and its kind ("f" or "b")."""
        ty = self.ty
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            return env[int(node.id[1:])]
        if isinstance(node, ast.Constant) and type(node.value) in (bool, int, float):
            if type(node.value) is bool:
                return ("true" if node.value else "false"), "b"
            return self.literal(node.value), "f"
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            x = self.as_float(self.expr(node.left, env))
            y = self.as_float(self.expr(node.right, env))
            return self.new(f"{_ARITH[type(node.op)]} {ty} {x}, {y}"), "f"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            return self.call("pow", [self.as_float(self.expr(node.left, env)),
                                     self.as_float(self.expr(node.right, env))]), "f"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self.new(f"fneg {ty} {self.as_float(self.expr(node.operand, env))}"), "f"
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return self.new(f"xor i1 {self.as_bool(self.expr(node.operand, env))}, true"), "b"
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            x, y = self.expr(node.left, env), self.expr(node.comparators[0], env)
            fcmp, icmp = _COMPARE[type(node.ops[0])]
            if x[1] == y[1] == "b":  # False < True, as in Python and NumPy
                return self.new(f"icmp {icmp} i1 {x[0]}, {y[0]}"), "b"
            return self.new(f"fcmp {fcmp} {ty} {self.as_float(x)}, {self.as_float(y)}"), "b"
        if isinstance(node, ast.IfExp):
            test = self.as_bool(self.expr(node.test, env))
            a, b = self.expr(node.body, env), self.expr(node.orelse, env)
            if a[1] == b[1] == "b":
                return self.new(f"select i1 {test}, i1 {a[0]}, i1 {b[0]}"), "b"
            return self.new(f"select i1 {test}, {ty} {self.as_float(a)}, {ty} "
                            f"{self.as_float(b)}"), "f"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            args = [self.expr(a, env) for a in node.args]
            if node.func.id in _MACROS:
                return self.expr(template(_MACROS[node.func.id]), args)
            return self.call(node.func.id, [self.as_float(a) for a in args]), "f"
        raise Unsupported(ast.dump(node))


def loop_ir(loop: Loop, name: str) -> tuple[str, set[str]]:
    """The LLVM IR of one loop as function `name`, and the declarations it needs.

    `i64 name(ptr in..., ptr out..., scalars..., i64 n)` (no `out` for an output written into
    an input's buffer, `into`). Blocks of elements are computed into buffers on the stack
    and copied out when all their values are finite; at the first block that is not, the
    loop stops and returns 1 + its first element: what follows, in every array, is as it was.
    """
    low = _Lowering(loop.dtype)
    ty = low.ty
    size = {"f": loop.dtype.itemsize, "b": 1}
    into = loop.into or [None] * len(loop.outputs)
    written = {j for j in into if j is not None}
    params = [f"ptr noalias nocapture{'' if k in written else ' readonly'} %in{k}"
              for k in range(len(loop.arrays))]
    targets = []
    for k, j in enumerate(into):
        if j is None:
            params.append(f"ptr noalias nocapture writeonly %out{k}")
        targets.append(f"%out{k}" if j is None else f"%in{j}")
    params += [f"{ty} %s{k}" if kind == "f" else f"i8 zeroext %s{k}"
               for k, kind in enumerate(loop.scalars)]
    kinds = [loop.body[j][2] for j in loop.outputs]
    block = max(16, min(4096, 32768 // max(1, 8 * len(loop.outputs))) // 16 * 16)
    scalars = []
    for k, kind in enumerate(loop.scalars):
        scalars.append((f"%s{k}", "f") if kind == "f" else
                       (low.new(f"icmp ne i8 %s{k}, 0"), "b"))
    for k, kind in enumerate(kinds):
        low.lines.append(f"  %buf{k} = alloca [{block} x {ty if kind == 'f' else 'i8'}], "
                         "align 64")
    entry, low.lines = low.lines, []
    checked: list[str] = [v for v, kind in scalars if kind == "f"]
    arrays = []
    for k, kind in enumerate(loop.arrays):
        at = low.new(f"getelementptr inbounds {ty if kind == 'f' else 'i8'}, ptr %in{k}, i64 %i")
        if kind == "f":
            arrays.append((low.new(f"load {ty}, ptr {at}"), "f"))
            checked.append(arrays[-1][0])
        else:
            arrays.append((low.new(f"icmp ne i8 {low.new(f'load i8, ptr {at}')}, 0"), "b"))
    # v - v is 0 for a finite v and NaN for an inf or a NaN: summed into a few accumulators
    # as each value is made (a value kept for a check at the end would stay live all along)
    sums = ["0.0"] * _SUMS
    n_checked = 0

    def check(v: str) -> None:
        nonlocal n_checked
        k = n_checked % _SUMS
        n_checked += 1
        sums[k] = low.new(f"fadd {ty} {sums[k]}, {low.new(f'fsub {ty} {v}, {v}')}")
    for v in checked:
        check(v)
    values: list[tuple[str, str]] = []
    for form, operands, kind in loop.body:
        env = []
        for op in operands:
            if isinstance(op, tuple):
                env.append({"a": arrays, "s": scalars, "v": values}[op[0]][op[1]])
            elif type(op) is bool:
                env.append(("true" if op else "false", "b"))
            else:
                env.append((low.literal(op), "f"))
        v = low.expr(template(form), env)
        v = (low.as_float(v), "f") if kind == "f" else (low.as_bool(v), "b")
        values.append(v)
        if kind == "f":
            check(v[0])
    for k, j in enumerate(loop.outputs):
        v, kind = values[j]
        t = ty if kind == "f" else "i8"
        at = low.new(f"getelementptr inbounds [{block} x {t}], ptr %buf{k}, i64 0, i64 %j")
        if kind == "b":
            v = low.new(f"zext i1 {v} to i8")
        low.lines.append(f"  store {t} {v}, ptr {at}")
    total = sums[0]
    for k in range(1, _SUMS):
        total = low.new(f"fadd {ty} {total}, {sums[k]}")
    bad = low.new(f"fcmp uno {ty} {total}, 0.0")
    body, low.lines = low.lines, []
    for k, kind in enumerate(kinds):  # the block's results, out to their arrays
        to = low.new(f"getelementptr inbounds i8, ptr {targets[k]}, i64 "
                     f"{low.new(f'mul nuw nsw i64 %base, {size[kind]}')}")
        nbytes = low.new(f"mul nuw nsw i64 %len, {size[kind]}")
        low.lines.append(f"  call void @llvm.memcpy.p0.p0.i64(ptr {to}, ptr %buf{k}, "
                         f"i64 {nbytes}, i1 false)")
    low.declared.add("declare void @llvm.memcpy.p0.p0.i64(ptr, ptr, i64, i1)")
    lines = [f"define i64 @{name}({', '.join(params)}, i64 %n) {{", "entry:", *entry,
             "  br label %block", "block:",
             "  %base = phi i64 [0, %entry], [%base.next, %copy]",
             "  %rest = sub i64 %n, %base",
             f"  %short = icmp ult i64 %rest, {block}",
             f"  %len = select i1 %short, i64 %rest, i64 {block}",
             "  br label %loop", "loop:",
             "  %j = phi i64 [0, %block], [%j.next, %loop]",
             "  %bad = phi i1 [false, %block], [%bad.next, %loop]",
             "  %i = add nuw nsw i64 %base, %j",
             *body,
             f"  %bad.next = or i1 %bad, {bad}",
             "  %j.next = add nuw nsw i64 %j, 1",
             "  %more = icmp ult i64 %j.next, %len",
             "  br i1 %more, label %loop, label %checked", "checked:",
             "  br i1 %bad.next, label %stop, label %copy", "copy:",
             *low.lines,
             "  %base.next = add nuw nsw i64 %base, %len",
             "  %end = icmp uge i64 %base.next, %n",
             "  br i1 %end, label %exit, label %block",
             "stop:", "  %first = add nuw nsw i64 %base, 1", "  ret i64 %first",
             "exit:", "  ret i64 0", "}"]
    return "\n".join(lines), low.declared


def _ctype(kind: str, dtype: np.dtype) -> Any:
    if kind == "b":
        return ctypes.c_uint8
    return ctypes.c_double if dtype == np.float64 else ctypes.c_float


@dataclass
class Compiled:
    """Compiled loops: `functions[k](in ptrs..., out ptrs..., scalars..., n)` returning 0, or
    1 + the first element not computed (ctypes: the GIL is released while they run);
    `engine` owns their machine code."""

    functions: list[Callable[..., int]]
    engine: Any
    ir: str


_LLVM_LOCK = threading.Lock()  # llvmlite's set-up is not meant to run twice at once


@cache
def _llvm() -> Any:
    import llvmlite.binding as llvm

    with contextlib.suppress(RuntimeError):  # needed before llvmlite 0.45, refused after
        llvm.initialize()
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    libm = ctypes.util.find_library("m")
    if libm:  # tanh, erf, ...: usually in the process already; else from the C math library
        llvm.load_library_permanently(libm)
    return llvm


def compile_loops(loops: Sequence[Loop]) -> Compiled:
    """Compiles the loops into one module for this machine's CPU; raises on failure (ImportError
    without llvmlite, RuntimeError from LLVM, Unsupported for a form)."""
    with _LLVM_LOCK:
        llvm = _llvm()
    declared: set[str] = set()
    parts = []
    for k, loop in enumerate(loops):
        ir, needs = loop_ir(loop, f"loop{k}")
        parts.append(ir)
        declared |= needs
    ir = "\n".join([*sorted(declared), *parts])
    target = llvm.Target.from_default_triple()
    machine = target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                           features=llvm.get_host_cpu_features().flatten(),
                                           opt=2)
    module = llvm.parse_assembly(ir)
    module.triple = llvm.get_process_triple()
    module.data_layout = str(machine.target_data)
    module.verify()
    tuning = llvm.create_pipeline_tuning_options(speed_level=2)  # loops vectorized, as at -O2
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)
    engine = llvm.create_mcjit_compiler(module, machine)
    engine.finalize_object()
    functions = []
    for k, loop in enumerate(loops):
        own = sum(j is None for j in loop.into or [None] * len(loop.outputs))
        argtypes = [ctypes.c_void_p] * (len(loop.arrays) + own)
        argtypes += [_ctype(kind, loop.dtype) for kind in loop.scalars] + [ctypes.c_int64]
        address = engine.get_function_address(f"loop{k}")
        if not address:
            raise RuntimeError(f"LLVM made no code for loop{k}")
        function = ctypes.CFUNCTYPE(ctypes.c_int64, *argtypes)(address)
        function.engine = engine  # the machine code lives as long as a function calling it
        functions.append(function)
    return Compiled(functions, engine, ir)
