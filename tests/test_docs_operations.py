"""docs/operations.md, section "Every operation": the shape, indexing and linear-algebra tables
name every op of those families, each under its own family's heading."""

import re
from pathlib import Path

from tests.ops import (
    test_contract,
    test_indexing,
    test_linalg,
    test_matrix,
    test_rearrange,
    test_shape,
    test_updates,
)

DOC = Path(__file__).parents[1] / "docs" / "operations.md"
FAMILIES = {
    "Shape": (test_shape, test_rearrange, test_matrix, test_contract),
    "Indexing": (test_indexing, test_updates),
    "Linear algebra": (test_linalg,),
}


def _table_ops(text: str, heading: str) -> set[str]:
    section = text.split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`(\w+)`", row.split("|")[1])}


def test_every_op_of_the_families_has_a_row():
    text = DOC.read_text()
    assert "\n## Every operation\n" in text
    for heading, modules in FAMILIES.items():
        listed = _table_ops(text, heading)
        ops = {c.op for m in modules for c in m.CASES} | ({"output"} if heading == "Shape"
                                                         else set())
        assert ops <= listed, (heading, sorted(ops - listed))
