"""einsum: values against NumPy, gradients of first and second order, PyTorch's values and gradients for
ellipses, repeated indices (traces, diagonals), broadcasting and implicit outputs; the contractions run as
matrix products; errors name the equation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from operation_checks import BAR, SECOND_ORDER_BAR, assert_matches_torch, torch_or_skip

import chainrule as cr
from chainrule.gates import contractions

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]),
    ("bi,bi->b", [(4, 3), (4, 3)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ii->", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ijk->kj", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ab,bc,cd,de->ae", [(2, 3), (3, 2), (2, 4), (4, 3)]),
    ("ij,j", [(2, 3), (3,)]),
    ("ba,ac", [(2, 3), (3, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("b...,b...->b", [(2, 3, 4), (2, 3, 4)]),
    ("i...->...", [(3, 2)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),  # j broadcasts (size 1 against 3)
    ("ijk,ikl->ijl", [(2, 3, 1), (1, 1, 4)]),
    ("i,i->", [(3,), (1,)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("ij,jk,ik->", [(2, 3), (3, 4), (2, 4)]),
    ("abc,cd,bd->a", [(2, 3, 4), (4, 5), (3, 5)]),
    (",i->i", [(), (3,)]),
    ("->", [()]),
]


def operands(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


@pytest.mark.parametrize("equation, shapes", CASES, ids=[c[0] or "scalar" for c in CASES])
def test_values_gradients_and_second_derivatives(equation, shapes):
    arrays = operands(shapes)
    tensors = [cr.tensor(a, requires_grad=True) for a in arrays]
    out = cr.einsum(equation, *tensors)
    # NumPy refuses to sum the dimensions under '...' when the output leaves them out; PyTorch sums them.
    numpy_equation = {"b...,b...->b": "bij,bij->b"}.get(equation, equation)
    np.testing.assert_allclose(out.data, np.einsum(numpy_equation, *arrays), rtol=1e-12, atol=1e-12)
    assert cr.max_relative_error(lambda *ts: cr.einsum(equation, *ts), tensors) <= BAR
    assert (
        cr.max_relative_error(lambda *ts: cr.einsum(equation, *ts) ** 2, tensors, second_order=True) <= SECOND_ORDER_BAR
    )


@pytest.mark.parametrize("equation, shapes", CASES, ids=[c[0] or "scalar" for c in CASES])
def test_matches_pytorch(equation, shapes):
    torch = torch_or_skip()
    assert_matches_torch(
        lambda *ts: cr.einsum(equation, *ts),
        lambda *ts: torch.einsum(equation, *ts),
        *operands(shapes, seed=1),
        rtol=1e-10,
    )


@settings(max_examples=25, deadline=None, derandomize=True)
@given(data=st.data(), ranks=st.lists(st.integers(0, 3), min_size=1, max_size=3))
def test_random_equations(data, ranks):
    letters = "abcd"
    sizes = {c: data.draw(st.integers(1, 3)) for c in letters}
    terms = ["".join(data.draw(st.lists(st.sampled_from(letters), min_size=r, max_size=r))) for r in ranks]
    used = sorted(set("".join(terms)))
    output = "".join(data.draw(st.permutations(used))[: data.draw(st.integers(0, len(used)))])
    equation = ",".join(terms) + "->" + output
    arrays = [np.random.default_rng(len(t)).standard_normal([sizes[c] for c in t]) for t in terms]
    tensors = [cr.tensor(a, requires_grad=True) for a in arrays]
    np.testing.assert_allclose(cr.einsum(equation, *tensors).data, np.einsum(equation, *arrays), rtol=1e-10, atol=1e-12)
    assert cr.max_relative_error(lambda *ts: cr.einsum(equation, *ts), tensors) <= BAR
    assert (
        cr.max_relative_error(lambda *ts: cr.einsum(equation, *ts) ** 2, tensors, second_order=True) <= SECOND_ORDER_BAR
    )


def test_contractions_run_as_matrix_products(monkeypatch):
    calls = []
    original = np.einsum
    monkeypatch.setattr(np, "einsum", lambda *a, **k: calls.append(a[0]) or original(*a, **k))
    a = cr.tensor(np.ones((8, 4, 16, 32)), requires_grad=True)
    b = cr.tensor(np.ones((8, 4, 24, 32)), requires_grad=True)
    cr.einsum("bhqd,bhkd->bhqk", a, b).sum().backward()
    assert calls == []  # forward and both gradients: batched matmul, no NumPy einsum loop
    plan = contractions._plan("bhqd,bhkd->bhqk", ((8, 4, 16, 32), (8, 4, 24, 32)))
    assert [pair.kind for pair in plan[1]] == ["matmul"]


def test_one_gate_per_call_and_float32_kept():
    a = cr.tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    b = cr.tensor(np.ones((4, 5), dtype=np.float32), requires_grad=True)
    c = cr.tensor(np.ones((5, 2), dtype=np.float32), requires_grad=True)
    out = cr.einsum("ij,jk,kl->il", a, b, c)
    assert out.gate.name == "einsum" and out.gate.inputs == (a, b, c) and out.dtype == np.float32
    out.sum().backward()
    assert a.grad.dtype == np.float32 and np.all(a.grad == 10.0)


def test_operands_as_a_list_and_spaces():
    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(cr.einsum("ij -> ji", [x]).data, x.data.T)


def test_output_does_not_alias_the_input():
    x = cr.tensor(np.arange(9.0).reshape(3, 3))
    for equation in ("ij->ij", "ij->ji", "ii->i"):
        out = cr.einsum(equation, x)
        assert not np.shares_memory(out.data, x.data), equation


def test_bad_equations_say_what_is_wrong():
    x = cr.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"einsum: 'ij,jk->ik' names 2 operands but 1 were given"):
        cr.einsum("ij,jk->ik", x)
    with pytest.raises(
        ValueError, match=r"einsum: operand 0 has shape \(2, 3\) \(2 dimensions\) but its subscripts 'ijk'"
    ):
        cr.einsum("ijk->i", x)
    with pytest.raises(
        ValueError,
        match=r"einsum: subscript 'j' has size 2 in operand 1 \(shape \(2, 3\)\) but 3 "
        r"elsewhere",
    ):
        cr.einsum("ij,jk->ik", x, x)
    with pytest.raises(ValueError, match=r"einsum: subscript 'i' repeats in operand 0 .* different sizes"):
        cr.einsum("ii->i", x)
    with pytest.raises(ValueError, match=r"einsum: the output subscripts of 'ij->ik' must be distinct letters"):
        cr.einsum("ij->ik", x)
    with pytest.raises(ValueError, match=r"einsum: 'i1->i' is not an equation of letters"):
        cr.einsum("i1->i", x)
    with pytest.raises(TypeError, match=r"einsum: the equation must be a string"):
        cr.einsum(x, [0, 1])
    with pytest.raises(ValueError, match=r"may hold one '\.\.\.' and letters"):
        cr.einsum("...i...->i", x)
