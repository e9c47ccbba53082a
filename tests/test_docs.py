"""docs/operations.md: the "Every operation" tables list each public op of their families."""

from pathlib import Path

import pytest

import symgrad as sg

DOC = Path(__file__).resolve().parent.parent / "docs" / "operations.md"

# the section that lists each family's ops
SECTIONS = {"elementwise": "Elementwise", "reductions": "Reductions", "nn": "Networks",
            "control": "Other"}


def _rows(section: str) -> set[str]:
    """The op names in the first column of a "### section" table of "## Every operation"."""
    text = DOC.read_text().split("## Every operation", 1)[1]
    body = text.split(f"### {section}\n", 1)[1].split("\n#", 1)[0]
    names: set[str] = set()
    for line in body.splitlines():
        cells = line.split("|")
        if len(cells) > 2 and not set(cells[1].strip()) <= {"-"}:
            names |= {n.strip() for n in cells[1].split(",")}
    return names - {"op"}


@pytest.mark.parametrize("family", list(SECTIONS))
def test_every_public_op_of_a_family_has_a_row(family):
    public = {n for n in sg.ops.__all__ if n in sg.OPS
              and getattr(sg, n).__module__ == f"symgrad.ops.{family}"}
    if family == "elementwise":  # equal and not_equal are listed under Other, as in API.md
        public -= {"equal", "not_equal"}
    if family == "control":
        public |= {"equal", "not_equal"}
    rows = _rows(SECTIONS[family])
    assert public, family
    assert not public - rows, f"no row in docs/operations.md for {sorted(public - rows)}"
    assert not rows - set(sg.OPS), f"rows for unknown ops: {sorted(rows - set(sg.OPS))}"
