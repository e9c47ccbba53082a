"""The code examples of the pages in docs/ run, in order, one namespace per page, and print what
the page says (scaling.md's on a real dask LocalCluster).

What a ```python block prints is written either as `# -> ` comments at the end of the lines
that print (one printed line each), or, for longer output, in a ```text block right after it,
which holds all of it.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

import symgrad as sg

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = ["guide.md", "api.md", "derivatives.md", "operations.md", "simplify.md", "sharing.md",
         "scaling.md"]
NEEDS = {"scaling.md": "distributed"}  # a page's examples need this extra's module
BLOCK = re.compile(r"```python\n(.*?)```\n(?:```text\n(.*?)```\n)?", re.S)
SAID = re.compile(r"# -> (.*)$", re.M)


def examples(text: str) -> list[tuple[str, list[str]]]:
    """(code, the lines it should print) for each python block of a page."""
    found = []
    for m in BLOCK.finditer(text):
        code, shown = m.group(1), m.group(2)
        said = SAID.findall(code)
        assert not (said and shown is not None), f"both # -> and a text block:\n{code}"
        found.append((code, shown.splitlines() if shown is not None else said))
    return found


@pytest.fixture
def own_ops():
    """Ops a page registers are forgotten afterwards (meta-tests read sg.OPS)."""
    saved = dict(sg.OPS)
    yield
    sg.OPS.clear()
    sg.OPS.update(saved)


@pytest.mark.parametrize("page", PAGES)
def test_the_examples_print_what_the_page_says(page, own_ops, tmp_path, monkeypatch):
    if page in NEEDS:
        pytest.importorskip(NEEDS[page], reason="its extra is not installed")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    blocks = examples((DOCS / page).read_text())
    assert blocks, f"docs/{page} has no python examples"
    namespace: dict = {}
    for code, want in blocks:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, str(DOCS / page), "exec"), namespace)
        assert out.getvalue().splitlines() == want, code


def test_both_ways_of_writing_output_are_read():
    page = ("```python\nprint(1)  # -> 1\n```\n\n```python\nprint('a\\nb')\n```\n"
            "```text\na\nb\n```\n```python\nx = 1\n```\n")
    assert examples(page) == [("print(1)  # -> 1\n", ["1"]), ("print('a\\nb')\n", ["a", "b"]),
                              ("x = 1\n", [])]
