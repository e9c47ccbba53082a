"""docs/scaling.md: its examples run in order (the cluster one on a real LocalCluster) and print
what their `# -> ` comments say."""

import re
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"


def test_the_examples_print_what_the_page_says(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), namespace)
    said = [m.group(1) for code in blocks for m in re.finditer(r"# -> (.*)$", code, re.M)]
    printed = capsys.readouterr().out.splitlines()
    assert printed == said
