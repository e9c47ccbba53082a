"""docs/api.md documents every public name, and only public names; the docs' links hold.

An entry is a list item that starts with a backticked name. The names in backticks in its
head (its text up to the first ": " outside backticks, over wrapped lines) are what it
documents: `sg.name(...)` or `sg.linalg.name(...)` for the public names (several may share an
item), `Graph.name`, `Tensor.name` or `Function.name` for members."""

import re
from pathlib import Path

import symgrad as sg

DOCS = Path(__file__).resolve().parents[1] / "docs"
API = DOCS / "api.md"
ITEM_START = re.compile(r"^(\s*)- ")
SPAN = re.compile(r"`([^`]+)`")
NAME = re.compile(r"^(sg(?:\.linalg)?|Graph|Tensor|Function)\.(\w+)")
MENTION = re.compile(r"\bsg\.(linalg\.)?(\w+)")
MEMBERS = {"Graph": sg.Graph, "Tensor": sg.Tensor, "Function": sg.Function}


def _items(text: str) -> list[str]:
    """Each list item's text, its wrapped lines joined."""
    items: list[str] = []
    indent = None
    for line in text.splitlines():
        start = ITEM_START.match(line)
        if start:
            items.append(line[start.end():])
            indent = len(start.group(1))
        elif indent is not None and line.strip() and len(line) - len(line.lstrip()) > indent \
                and not line.lstrip().startswith("|"):
            items[-1] += " " + line.strip()
        else:
            indent = None
    return items


def _head(item: str) -> str:
    """The item up to its first ": " outside backticks."""
    quoted = False
    for i, c in enumerate(item):
        if c == "`":
            quoted = not quoted
        elif c == ":" and not quoted and item[i + 1:i + 2] in (" ", ""):
            return item[:i]
    return item


def _entries(text: str) -> set[tuple[str, str]]:
    """(owner, name) of each entry: ("sg", "exp"), ("sg.linalg", "inv"), ("Graph", "nx")."""
    found = set()
    for item in _items(text):
        if not item.startswith("`"):
            continue
        for span in SPAN.findall(_head(item)):
            m = NAME.match(span)
            if m:
                found.add((m.group(1), m.group(2)))
    return found


def _public() -> set[tuple[str, str]]:
    return {("sg", n) for n in sg.__all__} | {("sg.linalg", n) for n in sg.linalg.__all__}


def test_the_public_names_exist():
    assert not [n for n in sg.__all__ if not hasattr(sg, n)]
    assert sg.linalg.__all__ and not [n for n in sg.linalg.__all__ if not hasattr(sg.linalg, n)]


def test_every_public_name_has_an_entry():
    missing = _public() - _entries(API.read_text())
    assert not missing, f"docs/api.md has no entry for {sorted(missing)}"


def test_every_entry_is_a_public_name():
    entries = {e for e in _entries(API.read_text()) if e[0].startswith("sg")}
    unknown = entries - _public()
    assert not unknown, f"docs/api.md documents names that are not public: {sorted(unknown)}"


def test_every_member_entry_exists():
    members = {e for e in _entries(API.read_text()) if e[0] in MEMBERS}
    assert {owner for owner, _ in members} == set(MEMBERS)
    unknown = [f"{o}.{n}" for o, n in members if not hasattr(MEMBERS[o], n)
               and n not in _instance_attributes(o)]
    assert not unknown, f"docs/api.md documents members that do not exist: {unknown}"


def _instance_attributes(owner: str) -> set[str]:
    """What instances hold that their class does not declare (Graph.nx, Function.source)."""
    g = sg.Graph()
    x = g.placeholder("x")
    made = {"Graph": g, "Tensor": x, "Function": sg.function([x], x * 2.0)}[owner]
    return set(vars(made)) if hasattr(made, "__dict__") else set()


def test_the_reference_and_the_guide_mention_only_public_names():
    for doc in (API, DOCS / "guide.md"):
        for m in MENTION.finditer(doc.read_text()):
            if m.group(2).startswith("_"):
                continue  # sg.__all__
            owner = "sg.linalg" if m.group(1) else "sg"
            assert (owner, m.group(2)) in _public() | {("sg", "linalg")}, (doc.name, m.group(0))


def test_entries_are_read_as_the_convention_says():
    text = ("- `sg.exp(x)`, `sg.log(x)` (natural),\n  `sg.log2(x)`: logs, not `sg.sin`\n"
            "  - `Graph.nx`: the graph\n- `Graph.label(n) -> str`\n\n  `sg.cos` is no entry\n"
            "- see `sg.tan` here\n")
    assert _entries(text) == {("sg", "exp"), ("sg", "log"), ("sg", "log2"), ("Graph", "nx"),
                              ("Graph", "label")}


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def test_the_links_between_the_docs_lead_somewhere():
    broken = []
    for doc in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"\w+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            if not linked.exists():
                broken.append(f"{doc.name}: {target}")
            elif anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.*)$", linked.read_text(), re.M)
                if anchor not in {_anchor(h) for h in headings}:
                    broken.append(f"{doc.name}: {target}")
    assert not broken, broken
