"""Coverage of every op, checked rather than hoped for: each op of the registry has a row in
docs/operations.md ("## Every operation"), a forward test case (tests/ops/test_base.py checks
that) and a derivative case (tests/test_grad_ops.py), unless its row documents it has none."""

import re
from pathlib import Path

import symgrad as sg
from symgrad.ops.elementwise import no_grad
from tests.ops.cases import all_cases
from tests.test_grad_ops import GRAD_CASES, INTERNAL

DOC = Path(__file__).resolve().parents[1] / "docs" / "operations.md"


def _rows() -> dict[str, str]:
    """op name -> its row's last cell (the derivative), over every table of the section."""
    section = DOC.read_text().split("\n## Every operation\n", 1)[1]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3 or cells[0] in ("op", "") or \
                set(cells[0]) <= {"-"}:
            continue
        for name in re.findall(r"\w+", cells[0]):
            assert name not in rows, f"{name} has two rows"
            rows[name] = cells[-1]
    return rows


def test_every_op_has_a_row_and_every_row_an_op():
    rows = _rows()
    assert not set(sg.OPS) - set(rows), f"no row for {sorted(set(sg.OPS) - set(rows))}"
    assert not set(rows) - set(sg.OPS), f"rows for unknown ops: {sorted(set(rows) - set(sg.OPS))}"


def test_every_op_has_a_derivative_case_or_a_row_saying_it_has_none():
    rows = _rows()
    tested = {c.op for c in GRAD_CASES} | set(INTERNAL)
    untested = sorted(n for n in sg.OPS if n not in tested)
    undocumented = [n for n in untested if not rows[n].lower().startswith("none")]
    assert not undocumented, f"no derivative case, nor 'none' in its row: {undocumented}"
    documented_none = sorted(n for n in tested if rows[n].lower().startswith("none")
                             and sg.OPS[n].bprop is not no_grad)
    assert not documented_none, f"rows saying 'none' for ops with a derivative: {documented_none}"


def test_every_public_op_has_a_forward_case():
    covered = {c.op for c in all_cases()}
    public = {n for n in sg.ops.__all__ if n in sg.OPS}
    assert not public - covered, sorted(public - covered)
