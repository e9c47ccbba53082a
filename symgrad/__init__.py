"""symgrad: symbol-to-symbol differentiation of static NumPy graphs (Deep Learning book, 6.5)."""

from . import linalg
from .errors import (
    FeedError,
    FormatError,
    GradientError,
    GraphError,
    NonFiniteError,
    ShapeError,
    SymgradError,
)
from .evaluate import Function, evaluate, function
from .export.dot import to_dot, write_dot
from .export.sympy import from_sympy, to_sympy
from .export.text import debugprint
from .grad import grad, gradients, hessian, hvp, jacobian, jvp
from .graph import Graph
from .io import load, save
from .ops import *  # noqa: F403 - the builders of API.md, listed in ops.__all__
from .ops import __all__ as _op_names
from .simplify import DEFAULT_RULES, Rule, count_nodes, simplify
from .tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "FeedError", "FormatError", "Function", "GradientError", "Graph", "GraphError",
    "NonFiniteError", "ShapeError", "SymgradError", "Tensor", "debugprint", "evaluate",
    "from_sympy", "function", "grad", "gradients", "hessian", "hvp", "jacobian", "jvp", "load",
    "save", "to_dot", "to_sympy", "write_dot", "DEFAULT_RULES", "Rule", "count_nodes", "linalg",
    "simplify", *_op_names,
]
