"""debugprint: a graph as an indented text listing, in the spirit of PyTensor's debugprint."""

from __future__ import annotations

from typing import Any

from .describe import head, is_small, result_marks, select, shape_text, value_text


def debugprint(ys: Any) -> str:
    """One line per node, its inputs indented below it in argument order.

    A line reads `op{params} #id 'name' shape dtype [origin]`. A small constant shows its
    value after the name (`= 0.01`), a multi-output node the shape and dtype of each output,
    and a node that is not the user's where it comes from (`[gradient, pass 1, rule of #6]`:
    made by derivative pass 1, by the rule of node 6). A result of `gradients` ends with what
    it is (`∂J/∂W1`). A node met again is printed as `op #id 'name' (see above)`, without its
    inputs. Given a Graph, every node that nothing consumes is a root.
    """
    graph, roots, _ = select(ys, "debugprint")
    nodes = graph.nx.nodes
    marks = result_marks(graph)
    lines: list[str] = []
    done: set[int] = set()
    # (node, prefix of its own line, prefix for its inputs' lines); iterative: chains are deep
    todo: list[tuple[int, str, str]] = [(r, "", "") for r in reversed(roots)]
    while todo:
        nid, first, rest = todo.pop()
        a = nodes[nid]
        if nid in done:
            name = f" {a['name']!r}" if a["name"] is not None else ""
            lines.append(f"{first}{a['op']} #{nid}{name} (see above)")
            continue
        done.add(nid)
        lines.append(first + _line(nid, a, marks.get(nid, ())))
        inputs = a["inputs"]
        for k in reversed(range(len(inputs))):
            last = k == len(inputs) - 1
            todo.append((inputs[k], rest + ("└─ " if last else "├─ "),
                         rest + ("   " if last else "│  ")))
    return "\n".join(lines)


def _line(nid: int, a: dict, marks: Any) -> str:
    words = [head(a), f"#{nid}"]
    if a["name"] is not None:
        words.append(repr(a["name"]))
    if is_small(a):
        words.append("= " + value_text(a["value"]).replace("\n", ""))
    words.append(f"-> {shape_text(a)}" if "outputs" in a else shape_text(a))
    if a["origin"] != "user":
        words.append(f"[{_origin(a)}]")
    words.extend(marks)
    return " ".join(words)


def _origin(a: dict) -> str:
    words = [a["origin"]]
    if a.get("grad_pass") is not None:
        words.append(f"pass {a['grad_pass']}")
    if a.get("grad_of") is not None:
        words.append(f"rule of #{a['grad_of']}")
    return ", ".join(words)
