"""The README's example runs as printed."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 10  # "a 10-line example"
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    loss, dw, hv = namespace["f"](np.ones((4, 3)), np.array([0.5, -1.0, 2.0]))
    s = 1 / (1 + np.exp(-1.5))  # sigmoid(x @ w) with x = ones, w . 1 = 1.5
    np.testing.assert_allclose(dw, s * np.ones(3) + 0.2 * np.array([0.5, -1.0, 2.0]))
    np.testing.assert_allclose(hv, s * (1 - s) * 3 * np.ones(3) + 0.2)
    assert "array" in capsys.readouterr().out


def _anchor(heading: str) -> str:
    """A markdown heading as code hosts make its anchor."""
    return re.sub(r"[^\w\- ]", "", heading.strip("# ").lower()).replace(" ", "-")


def test_links_in_the_readme_and_docs_lead_somewhere():
    root = README.parent
    for page in [README, *sorted((root / "docs").glob("*.md"))]:
        for link in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if link.startswith(("http://", "https://", "mailto:")):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path) if path else page
            assert target.exists(), f"{page.name}: {link} leads nowhere"
            if anchor and target.suffix == ".md":
                anchors = [_anchor(h) for h in target.read_text().splitlines()
                           if h.startswith("#")]
                assert anchor in anchors, f"{page.name}: no heading for #{anchor}"
