"""sg.linalg: linear algebra as numpy.linalg has it (and scipy.linalg's solve_triangular),
batched over leading axes, in float32 and float64. The records live in ops/linalg.py."""

from .ops.linalg import cholesky, det, inv, slogdet, solve, solve_triangular

__all__ = ["cholesky", "det", "inv", "slogdet", "solve", "solve_triangular"]
