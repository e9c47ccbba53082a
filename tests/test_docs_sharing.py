"""docs/sharing.md: its examples run in order and print what their `# -> ` comments say."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "sharing.md"


def test_the_examples_print_what_the_page_says(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 3
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(DOC), "exec"), namespace)
    said = [m.group(1) for code in blocks for m in re.finditer(r"# -> (.*)$", code, re.M)]
    printed = capsys.readouterr().out.splitlines()
    assert printed == said
