"""The simplifier: rewrite rules as data (rules.py), the pattern language (pattern.py) and the
one driver that applies them (driver.py)."""

from .driver import Rewrite, count_nodes, simplify
from .pattern import CONSTANT_INPUTS, Match, Rule
from .rules import DEFAULT_RULES

__all__ = ["CONSTANT_INPUTS", "DEFAULT_RULES", "Match", "Rewrite", "Rule", "count_nodes",
           "simplify"]
