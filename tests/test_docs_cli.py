"""docs/cli.md: every `$ symgrad ...` example prints what the page shows, and the page lists
every function that expressions may call."""

import re
import shlex
from pathlib import Path

import pytest

from symgrad.cli import main
from symgrad.expr import FUNCTIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def _examples():
    """(command line, the lines shown after it) for each `$ symgrad` line of a console block."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", DOC.read_text(), re.S):
        for part in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, *shown = part.rstrip("\n").split("\n")
            examples.append((command, shown))
    return examples


def _matches(shown, lines):
    """The shown lines, in order; a "..." line stands for any lines."""
    chunks = "\n".join(shown).split("...")
    text = "\n".join(lines)
    if not chunks[0].strip("\n") or text.startswith(chunks[0].strip("\n")):
        at = 0
        for chunk in chunks:
            chunk = chunk.strip("\n")
            found = text.find(chunk, at)
            if found < 0:
                return False
            at = found + len(chunk)
        return len(chunks) > 1 or text == chunks[0].strip("\n")
    return False


@pytest.mark.parametrize("command, shown", _examples(), ids=[e[0] for e in _examples()])
def test_each_example_prints_what_the_page_shows(capsys, command, shown):
    argv = shlex.split(command)
    assert argv[0] == "symgrad"
    main(argv[1:])
    out, err = capsys.readouterr()
    assert _matches(shown, (out + err).splitlines()), out + err


def test_there_are_examples_of_both_outcomes():
    shown = [line for _, lines in _examples() for line in lines]
    assert any(line.startswith("derivative: ") for line in shown)
    assert any(line.startswith("value: ") for line in shown)
    assert any(line.startswith("latex: ") for line in shown)
    assert any(line.startswith("symgrad diff: error: ") for line in shown)


def test_the_page_lists_every_function_an_expression_may_call():
    syntax = DOC.read_text().split("### The syntax of EXPR", 1)[1].split("###", 1)[0]
    words = set(re.findall(r"\w+", syntax))
    assert not set(FUNCTIONS) - words, sorted(set(FUNCTIONS) - words)
