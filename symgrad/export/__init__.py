"""Leaving symgrad: graphs written in other systems' terms (SymPy expressions, sympy.py)."""
