"""ops/contract.py: outer, tensordot and einsum (explicit, implicit, ellipsis, repeated letters)."""

import numpy as np
import pytest

import symgrad as sg

from .cases import OpCase, index, normal


def _einsum_case(subscripts, shapes, label):
    return OpCase("einsum", [normal(s) for s in shapes], {"subscripts": subscripts},
                  lambda *xs, subscripts: np.einsum(subscripts, *xs),
                  builder=lambda *xs, subscripts: sg.einsum(subscripts, *xs), label=label)


def _einsum_embed_ref(u, like, *, subscripts):
    z = np.zeros(like.shape, u.dtype)
    np.einsum(subscripts, z)[...] = u
    return z


CASES = [
    OpCase("outer", [normal((3,)), normal((2, 2))], reference=np.outer),
    OpCase("outer", [normal((3,)), index((2,), 5)], reference=np.outer, label="int"),
    OpCase("tensordot", [normal((2, 3, 4)), normal((3, 4, 5))], reference=np.tensordot),
    OpCase("tensordot", [normal((2, 3, 4)), normal((4, 2))], {"axes": ((0, 2), (1, 0))},
           np.tensordot, label="pairs"),
    OpCase("tensordot", [normal((2, 3)), normal((4,))], {"axes": 0}, np.tensordot,
           label="outer"),
    OpCase("tensordot", [normal((3, 4, 2)), normal((2, 4, 3))], {"axes": ((2, 0), (0, 2))},
           np.tensordot, label="crossed"),
    _einsum_case("ij,jk->ik", [(2, 3), (3, 4)], "matmul"),
    _einsum_case("ij,jk", [(2, 3), (3, 4)], "implicit"),
    _einsum_case("ba", [(2, 3)], "implicit-transpose"),
    _einsum_case("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)], "ellipsis-broadcast"),
    _einsum_case("i...,i->...", [(3, 2, 2), (3,)], "ellipsis-front"),
    _einsum_case("ij->", [(2, 3)], "sum"),
    _einsum_case("ij->j", [(2, 3)], "sum-axis"),
    _einsum_case("ii->i", [(3, 3)], "diagonal"),
    _einsum_case("iij->", [(2, 2, 3)], "trace"),
    _einsum_case("ii,i->i", [(1, 1), (3,)], "diagonal-broadcast"),
    _einsum_case("ij,ij,j->i", [(2, 3), (2, 3), (3,)], "three"),
    _einsum_case("i,j->ij", [(3,), (2,)], "outer"),
    _einsum_case(",ij->ij", [(), (2, 3)], "scalar"),
    _einsum_case("ij,kj->ikj", [(1, 3), (2, 3)], "broadcast-one"),
    OpCase("einsum_embed", [normal((3, 2)), normal((3, 2, 3))], {"subscripts": "aba->ab"},
           _einsum_embed_ref,
           builder=lambda u, like, subscripts: sg.apply("einsum_embed", [u, like],
                                                        subscripts=subscripts)),
]


def _x(shape, name="x"):
    return sg.Graph().placeholder(name, shape)


def test_einsum_subscripts_are_canonical():
    g = sg.Graph()
    a, b = g.placeholder("a", (2, 3)), g.placeholder("b", (3, 4))
    forms = ["ij,jk->ik", "xy,yz->xz", "ij,jk", "...j,jk->...k", "i j , j k -> i k"]
    spelled = {sg.einsum(s, a, b).params["subscripts"] for s in forms}
    assert spelled == {"ab,bc->ac"}
    # implicit mode keeps the ellipsis' dimensions, in front, broadcast and not summed
    assert sg.einsum("i...,...k", a, b).params["subscripts"] == "ab,bc->bac"


def test_einsum_with_ellipsis_and_batches(rng):
    g = sg.Graph()
    a = g.placeholder("a", (None, 5, 2, 3))
    b = g.placeholder("b", (5, 3, 4))
    y = sg.einsum("...ij,...jk->...ik", a, b)
    assert y.shape == (None, 5, 2, 4)
    va, vb = rng.standard_normal((6, 5, 2, 3)), rng.standard_normal((5, 3, 4))
    np.testing.assert_allclose(sg.evaluate(y, {a: va, b: vb}), va @ vb)
    ga, gb = sg.gradients(y.sum(), [a, b])
    got_a, got_b = sg.evaluate([ga, gb], {a: va, b: vb})
    np.testing.assert_allclose(got_a, np.ones((6, 5, 2, 4)) @ np.swapaxes(vb, -1, -2))
    np.testing.assert_allclose(got_b, (np.swapaxes(va, -1, -2) @ np.ones((6, 5, 2, 4)))
                               .sum(axis=0))


def test_einsum_gradient_of_a_repeated_letter_lands_on_the_diagonal(rng):
    x = _x((3, 3))
    got = sg.evaluate(sg.grad(sg.einsum("ii", x), x), {x: rng.standard_normal((3, 3))})
    np.testing.assert_array_equal(got, np.eye(3))


@pytest.mark.parametrize("subscripts, shapes, words", [
    ("ij,jk->ik", [(2, 3), (4, 5)], ["einsum", "(2, 3)", "(4, 5)"]),
    ("ij,jk->ik", [(2, 3)], ["einsum", "2 operand"]),
    ("ijk->i", [(2, 3)], ["einsum", "operand 0"]),
    ("ij->ii", [(2, 3)], ["einsum", "distinct"]),
    ("ij->k", [(2, 3)], ["einsum", "appear"]),
    ("i1->i", [(2, 3)], ["einsum", "letters"]),
    ("...i->i", [(2, 3)], ["einsum", "'...'"]),
])
def test_einsum_errors_name_the_op(subscripts, shapes, words):
    g = sg.Graph()
    xs = [g.placeholder(f"x{i}", s) for i, s in enumerate(shapes)]
    with pytest.raises(sg.ShapeError) as e:
        sg.einsum(subscripts, *xs)
    for w in words:
        assert w in str(e.value)


def test_einsum_wants_a_string_and_an_operand():
    x = _x((2,))
    with pytest.raises(TypeError):
        sg.einsum(x, x)
    with pytest.raises(TypeError):
        sg.einsum("i")


@pytest.mark.parametrize("axes, words", [
    (3, ["tensordot", "3 axes"]),
    (((0,), (0,)), ["tensordot", "(2, 3)", "(3, 2)", "differ"]),
    (((0, 1), (0,)), ["tensordot", "pair"]),
])
def test_tensordot_errors(axes, words):
    g = sg.Graph()
    a, b = g.placeholder("a", (2, 3)), g.placeholder("b", (3, 2))
    with pytest.raises(sg.ShapeError) as e:
        sg.tensordot(a, b, axes)
    for w in words:
        assert w in str(e.value)


def test_outer_of_unknown_sizes():
    g = sg.Graph()
    y = sg.outer(g.placeholder("a", (None, 2)), g.placeholder("b", (3,)))
    assert y.shape == (None, 3)
    got = sg.evaluate(y, {"a": np.ones((2, 2)), "b": np.ones(3)})
    np.testing.assert_array_equal(got, np.ones((4, 3)))
