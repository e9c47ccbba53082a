"""Looking at graphs and leaving symgrad: DOT pictures (dot.py), text listings (text.py),
SymPy expressions (sympy.py)."""
