"""Runs the notebooks here in place, so that their committed outputs match the code.

    python notebooks/execute.py [NOTEBOOK ...]      (default: every notebook in this folder)

Needs the dev extra (nbclient, ipykernel, matplotlib) and graphviz's `dot` for the pictures.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:  # ids and timings change on every run: keep diffs to real changes
        cell.get("metadata", {}).pop("execution", None)
    nbformat.write(nb, path)


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name}")
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
