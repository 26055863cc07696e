"""Every gate's backward against central differences, in float64, on hypothesis-drawn shapes.

The bar: ``max_relative_error <= 1e-7`` (see chainrule/check.py for the error measure).
Smooth gates take any value in their domain. Kinked gates (relu, abs, clip, max, ...)
have no derivative at the kink, so their values are drawn at least 0.05 away from it;
central differences with eps=1e-6 are then exact up to rounding.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, mutually_broadcastable_shapes

import chainrule as cr

BAR = 1e-7
# Modest and reproducible: the same examples on every run, so CI never flakes.
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)

shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
nonempty_shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
broadcast_pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


def floats(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def away_from(*kinks, low=-2.0, high=2.0, gap=0.05):
    """Floats in [low, high] at least ``gap`` away from every kink."""
    edges = [low] + sorted(kinks) + [high]
    pieces = []
    for a, b in zip(edges[:-1], edges[1:]):
        a2 = a if a == low else a + gap
        b2 = b if b == high else b - gap
        pieces.append(floats(a2, b2))
    return st.one_of(pieces)


ANY = floats(-2.0, 2.0)
POSITIVE = floats(0.2, 3.0)


def leaf(draw, shape, elements=ANY):
    return cr.tensor(draw(arrays(np.float64, shape, elements=elements)), requires_grad=True)


@st.composite
def tensors(draw, elements=ANY, shape_strategy=shapes):
    return leaf(draw, draw(shape_strategy), elements)


@st.composite
def distinct_tensors(draw, shape):
    """Values on a shuffled grid 0.25 apart: no ties (for max, min and std)."""
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    values = (order - (size - 1) / 2) * 0.25 + draw(floats(-0.1, 0.1))
    return cr.tensor(values.reshape(shape), requires_grad=True)


@st.composite
def axis_and_shape(draw, shape_strategy=shapes):
    """A shape, an axis argument (None, int, negative int or tuple mixing signs) and keepdims."""
    shape = draw(shape_strategy)
    n = len(shape)
    bound = max(n, 1)  # a 0-d tensor accepts axis 0 and -1
    single = st.integers(-bound, bound - 1)
    several = (
        st.lists(st.integers(0, n - 1), min_size=1, max_size=n, unique=True).flatmap(
            lambda axes: st.tuples(*[st.sampled_from([a, a - n]) for a in axes])
        )
        if n
        else st.just(())
    )
    axis = draw(st.one_of(st.none(), single, several))
    return shape, axis, draw(st.booleans())


def assert_gradients_match(fn, inputs, bar=BAR):
    error = cr.max_relative_error(fn, inputs)
    shapes_seen = [tuple(np.shape(x.data)) if isinstance(x, cr.Tensor) else x for x in inputs]
    assert error <= bar, f"max relative error {error:.3g} > {bar} for input shapes {shapes_seen}"


# ----- binary arithmetic, broadcasting ------------------------------------------------------
BINARY = {
    "add": (lambda x, y: x + y, ANY),
    "sub": (lambda x, y: x - y, ANY),
    "mul": (lambda x, y: x * y, ANY),
    "div": (lambda x, y: x / y, POSITIVE),
    "pow": (lambda x, y: x**y, None),  # base positive, exponent anywhere
    "add_function": (cr.add, ANY),
    "mul_function": (cr.mul, ANY),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@SETTINGS
@given(data=st.data(), pair=broadcast_pairs)
def test_binary_gate_with_broadcasting(name, data, pair):
    fn, second = BINARY[name]
    shape_x, shape_y = pair.input_shapes
    if name == "pow":
        x, y = leaf(data.draw, shape_x, POSITIVE), leaf(data.draw, shape_y, floats(-2.0, 2.0))
    else:
        x, y = leaf(data.draw, shape_x), leaf(data.draw, shape_y, second)
    assert fn(x, y).shape == pair.result_shape
    assert_gradients_match(fn, [x, y])


# ----- one input, smooth -------------------------------------------------------------------
SMOOTH = {
    "neg": (lambda x: -x, ANY),
    "add_constant": (lambda x: x + 3.0, ANY),
    "constant_minus": (lambda x: 3.0 - x, ANY),
    "scale": (lambda x: 2.5 * x, ANY),
    "divide_by_constant": (lambda x: x / 4.0, ANY),
    "reciprocal": (lambda x: 1 / x, POSITIVE),
    "reciprocal_negative": (cr.reciprocal, floats(-3.0, -0.2)),
    "constant_over": (lambda x: 3.0 / x, POSITIVE),
    "pow_2": (lambda x: x**2, ANY),
    "pow_3": (lambda x: x**3, ANY),
    "pow_4": (lambda x: x**4, ANY),
    "pow_half": (lambda x: x**0.5, POSITIVE),
    "pow_negative": (lambda x: x**-1.5, POSITIVE),
    "constant_to_the": (lambda x: 2.0**x, ANY),
    "exp": (cr.exp, ANY),
    "log": (cr.log, POSITIVE),
    "sqrt": (cr.sqrt, POSITIVE),
    "sin": (cr.sin, floats(-4.0, 4.0)),
    "cos": (cr.cos, floats(-4.0, 4.0)),
    "tanh": (cr.tanh, ANY),
    "sigmoid": (cr.sigmoid, floats(-6.0, 6.0)),
    "erf": (cr.erf, ANY),
    "gelu": (cr.gelu, ANY),
    "gelu_tanh": (lambda x: cr.gelu(x, approximate="tanh"), ANY),
    "softplus": (cr.softplus, floats(-6.0, 6.0)),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
@SETTINGS
@given(data=st.data())
def test_smooth_elementwise_gate(name, data):
    fn, elements = SMOOTH[name]
    x = data.draw(tensors(elements))
    assert fn(x).shape == x.shape
    assert_gradients_match(fn, [x])


# ----- one input, kinked: drawn away from the kinks ---------------------------------------
KINKED = {
    "abs": (cr.abs, away_from(0.0)),
    "abs_operator": (lambda x: abs(x), away_from(0.0)),
    "relu": (cr.relu, away_from(0.0)),
    "leaky_relu": (lambda x: cr.leaky_relu(x, 0.1), away_from(0.0)),
    "elu": (cr.elu, away_from(0.0)),  # alpha = 1: a continuous slope, but a jump in curvature at 0
    "elu_alpha_2": (lambda x: cr.elu(x, alpha=2.0), away_from(0.0)),
    "clip": (lambda x: cr.clip(x, -1.0, 0.5), away_from(-1.0, 0.5)),
    "clip_low_only": (lambda x: x.clip(min=0.3), away_from(0.3)),
    "clamp_high_only": (lambda x: x.clamp(max=-0.3), away_from(-0.3)),
}


@pytest.mark.parametrize("name", sorted(KINKED))
@SETTINGS
@given(data=st.data())
def test_kinked_elementwise_gate_away_from_kinks(name, data):
    fn, elements = KINKED[name]
    assert_gradients_match(fn, [data.draw(tensors(elements))])


@pytest.mark.parametrize("which", ["maximum", "minimum"])
@SETTINGS
@given(data=st.data(), pair=broadcast_pairs, swap=st.booleans())
def test_maximum_minimum_away_from_ties(which, data, pair, swap):
    fn = getattr(cr, which)
    shape_x, _ = pair.input_shapes
    x = leaf(data.draw, shape_x)
    gap = data.draw(arrays(np.float64, pair.result_shape, elements=away_from(0.0, low=-1.0, high=1.0)))
    y = cr.tensor(x.data + gap, requires_grad=True)  # never within 0.05 of x: no ties
    inputs = [y, x] if swap else [x, y]
    assert_gradients_match(fn, inputs)


@SETTINGS
@given(data=st.data(), pair=broadcast_pairs)
def test_where(data, pair):
    shape_x, shape_y = pair.input_shapes
    x, y = leaf(data.draw, shape_x), leaf(data.draw, shape_y)
    condition = data.draw(arrays(np.bool_, pair.result_shape))
    assert_gradients_match(lambda a, b: cr.where(condition, a, b), [x, y])


def test_where_with_a_constant_branch():
    x = cr.tensor(np.array([-1.0, 2.0, -3.0]), requires_grad=True)
    cr.where(x > 0, x, 0.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])


# ----- reductions -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp"])
@SETTINGS
@given(data=st.data(), spec=axis_and_shape())
def test_smooth_reduction(name, data, spec):
    shape, axis, keepdims = spec
    x = leaf(data.draw, shape)
    fn = getattr(cr, name)
    expected = getattr(np, name)(x.data, axis=axis, keepdims=keepdims) if name != "logsumexp" else None
    out = fn(x, axis=axis, keepdims=keepdims)
    if expected is not None:
        np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda t: fn(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("name", ["amax", "amin"])
@SETTINGS
@given(data=st.data(), spec=axis_and_shape())
def test_amax_amin_reduction_without_ties(name, data, spec):
    shape, axis, keepdims = spec
    x = data.draw(distinct_tensors(shape))
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(out.data, getattr(np, name)(x.data, axis=axis, keepdims=keepdims))
    assert_gradients_match(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("name", ["var", "std"])
@SETTINGS
@given(data=st.data(), spec=axis_and_shape(nonempty_shapes))
def test_var_std(name, ddof, data, spec):
    shape, axis, keepdims = spec
    count = math.prod(shape) // np.sum(np.ones(shape), axis=axis).size  # elements per reduction group
    assume(count - ddof >= 1 and (name == "var" or count >= 2))  # std of one value is 0: sqrt has no slope there
    x = data.draw(distinct_tensors(shape))  # distinct values: std is never 0
    fn = lambda t: getattr(cr, name)(t, axis=axis, keepdims=keepdims, ddof=ddof)  # noqa: E731
    np.testing.assert_allclose(
        fn(x).data, getattr(np, name)(x.data, axis=axis, keepdims=keepdims, ddof=ddof), rtol=1e-12, atol=1e-12
    )
    assert_gradients_match(fn, [x])


@SETTINGS
@given(data=st.data(), spec=axis_and_shape())
def test_prod(data, spec):
    shape, axis, keepdims = spec
    x = leaf(data.draw, shape, away_from(0.0, low=-1.5, high=1.5))
    np.testing.assert_allclose(
        x.prod(axis=axis, keepdims=keepdims).data, np.prod(x.data, axis=axis, keepdims=keepdims), rtol=1e-12
    )
    assert_gradients_match(lambda t: t.prod(axis=axis, keepdims=keepdims), [x])


@SETTINGS
@given(data=st.data(), spec=axis_and_shape(nonempty_shapes))
def test_prod_with_zeros(data, spec):
    shape, axis, keepdims = spec
    values = data.draw(arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.0, -1.5, -0.5, 0.7, 2.0])))
    x = cr.tensor(values, requires_grad=True)
    x.prod(axis=axis, keepdims=keepdims).sum().backward()
    assert np.all(np.isfinite(x.grad)), "prod's gradient must not divide by zero"
    assert_gradients_match(lambda t: t.prod(axis=axis, keepdims=keepdims), [x])


def test_prod_gradient_with_one_and_two_zeros_by_hand():
    x = cr.tensor(np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 5.0]]), requires_grad=True)
    x.prod(axis=1).sum().backward()
    # One zero: only the zero's slope survives (the product of the others); two zeros: all slopes are 0.
    np.testing.assert_array_equal(x.grad, [[6.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


@st.composite
def distinct_magnitudes(draw, shape):
    """Nonzero values whose magnitudes are distinct (>= 0.2 apart), with random signs."""
    size = math.prod(shape)
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    signs = np.array(draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=size, max_size=size)))
    magnitudes = (order + 1) * 0.2 + draw(floats(0.0, 0.1))
    return cr.tensor((signs * magnitudes).reshape(shape), requires_grad=True)


NORMS = {
    2: lambda a, axis, keepdims: np.sqrt((a * a).sum(axis=axis, keepdims=keepdims)),
    1: lambda a, axis, keepdims: np.abs(a).sum(axis=axis, keepdims=keepdims),
    math.inf: lambda a, axis, keepdims: np.abs(a).max(axis=axis, keepdims=keepdims),
}


@pytest.mark.parametrize("ord", [2, 1, math.inf])
@SETTINGS
@given(data=st.data(), spec=axis_and_shape())
def test_norm(ord, data, spec):
    shape, axis, keepdims = spec
    # Away from |x|'s kink (ord 1), from ties (inf) and from a zero norm, where sqrt has no slope (2).
    x = data.draw(distinct_magnitudes(shape))
    fn = lambda t: cr.norm(t, ord=ord, axis=axis, keepdims=keepdims)  # noqa: E731
    np_axis = axis if x.ndim else None  # NumPy's 0-d arrays take no axis 0
    np.testing.assert_allclose(fn(x).data, NORMS[ord](x.data, np_axis, keepdims), rtol=1e-12)
    assert_gradients_match(fn, [x])


def test_max_min_ties_split_the_gradient_evenly():
    x = cr.tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [5.0, -1.0, 0.0]]), requires_grad=True)
    x.amax(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [1, 0, 0]])
    x.grad = None
    x.amin(axis=0).sum().backward()
    np.testing.assert_allclose(x.grad, [[1, 0, 0], [0, 0, 0], [0, 1, 1]])
    x.grad = None
    y = cr.tensor(np.array([4.0, 4.0, 1.0, 4.0]), requires_grad=True)
    y.max().backward()
    np.testing.assert_allclose(y.grad, [1 / 3, 1 / 3, 0, 1 / 3])


def test_maximum_minimum_ties_split_the_gradient_evenly():
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = cr.tensor(np.array([1.0, 5.0, 0.0]), requires_grad=True)
    cr.maximum(x, y).sum().backward()
    np.testing.assert_allclose(x.grad, [0.5, 0, 1])
    np.testing.assert_allclose(y.grad, [0.5, 1, 0])
    x.grad = y.grad = None
    cr.minimum(x, y).sum().backward()
    np.testing.assert_allclose(x.grad, [0.5, 1, 0])
    np.testing.assert_allclose(y.grad, [0.5, 0, 1])


def test_logsumexp_is_stable_for_large_inputs():
    x = cr.tensor(np.array([1000.0, 1000.0, -1000.0]), requires_grad=True)
    out = x.logsumexp()
    out.backward()
    np.testing.assert_allclose(out.item(), 1000.0 + math.log(2.0))
    np.testing.assert_allclose(x.grad, [0.5, 0.5, 0.0])
    rows = cr.tensor(np.array([[1000.0, 999.0], [-1000.0, -1001.0]]), requires_grad=True)
    out = rows.logsumexp(axis=1)
    out.sum().backward()
    np.testing.assert_allclose(out.data, [1000.0 + math.log1p(math.exp(-1)), -1000.0 + math.log1p(math.exp(-1))])
    softmax = np.exp([0.0, -1.0]) / np.exp([0.0, -1.0]).sum()
    np.testing.assert_allclose(rows.grad, [softmax, softmax])
    assert cr.max_relative_error(lambda t: t.logsumexp(axis=-1), [rows]) <= BAR


# ----- shape gates ----------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), x=tensors(shape_strategy=nonempty_shapes))
def test_reshape_and_flatten(data, x):
    targets = [(-1,), (x.numel(), 1), tuple(reversed(x.shape)), (1,) + x.shape + (1,)]
    target = data.draw(st.sampled_from(targets))
    assert_gradients_match(lambda t: t.reshape(target), [x])
    assert_gradients_match(lambda t: cr.reshape(t, *target), [x])
    start = data.draw(st.integers(-x.ndim, x.ndim - 1))
    assert_gradients_match(lambda t: t.flatten(start), [x])
    assert cr.flatten(x, start).shape == np.reshape(x.data, x.shape[: start % x.ndim] + (-1,)).shape


@SETTINGS
@given(data=st.data(), x=tensors(shape_strategy=nonempty_shapes))
def test_transpose_permute_swapaxes(data, x):
    order = data.draw(st.permutations(range(x.ndim)))
    signed = tuple(data.draw(st.sampled_from([a, a - x.ndim])) for a in order)
    assert x.permute(*signed).shape == np.transpose(x.data, order).shape
    assert_gradients_match(lambda t: t.permute(*signed), [x])
    assert_gradients_match(lambda t: cr.permute(t), [x])
    assert_gradients_match(lambda t: t.T, [x])
    np.testing.assert_array_equal(x.T.data, x.data.T)
    a, b = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    np.testing.assert_array_equal(x.swapaxes(a, b).data, np.swapaxes(x.data, a, b))
    np.testing.assert_array_equal(x.transpose(a, b).data, np.swapaxes(x.data, a, b))  # PyTorch's transpose
    assert_gradients_match(lambda t: cr.transpose(t, a, b), [x])


@SETTINGS
@given(data=st.data(), x=tensors())
def test_squeeze_unsqueeze(data, x):
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    grown = x.unsqueeze(axis)
    assert grown.shape == np.expand_dims(x.data, axis).shape
    assert_gradients_match(lambda t: cr.unsqueeze(t, axis), [x])
    assert_gradients_match(lambda t: t.unsqueeze(axis).squeeze(axis), [x])
    assert_gradients_match(lambda t: cr.squeeze(t.unsqueeze(axis)), [x])


@SETTINGS
@given(data=st.data(), pair=broadcast_pairs)
def test_broadcast_to_and_expand(data, pair):
    shape_x, _ = pair.input_shapes
    x = leaf(data.draw, shape_x)
    assert_gradients_match(lambda t: cr.broadcast_to(t, pair.result_shape), [x])
    assert_gradients_match(lambda t: t.expand(*((2,) + pair.result_shape)), [x])


@SETTINGS
@given(data=st.data(), shape=nonempty_shapes, sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3))
def test_concatenate(data, shape, sizes):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    parts = [leaf(data.draw, shape[: axis % len(shape)] + (n,) + shape[axis % len(shape) + 1 :]) for n in sizes]
    out = cr.concatenate(parts, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate([p.data for p in parts], axis=axis))
    assert_gradients_match(lambda *ts: cr.concatenate(ts, axis=axis), parts)


@SETTINGS
@given(data=st.data(), shape=shapes, count=st.integers(1, 3))
def test_stack(data, shape, count):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [leaf(data.draw, shape) for _ in range(count)]
    np.testing.assert_array_equal(cr.stack(parts, axis=axis).data, np.stack([p.data for p in parts], axis=axis))
    assert_gradients_match(lambda *ts: cr.stack(ts, axis=axis), parts)


@SETTINGS
@given(data=st.data(), x=tensors(shape_strategy=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)))
def test_split(data, x):
    # PyTorch's split: an int is the size of each piece (the last may be smaller), a list the size of each piece.
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    n = x.shape[axis]
    cuts = data.draw(st.lists(st.integers(0, n), max_size=2).map(sorted))
    size = data.draw(st.integers(1, n + 1))
    sections = data.draw(st.sampled_from([size, [b - a for a, b in zip([0] + cuts, cuts + [n])]]))
    indices = cuts if isinstance(sections, list) else list(range(size, n, size))
    pieces = cr.split(x, sections, axis=axis)
    assert len(pieces) == len(indices) + 1
    for piece, expected in zip(pieces, np.split(x.data, indices, axis=axis)):
        np.testing.assert_array_equal(piece.data, expected)
    # Weight the pieces differently so a gradient sent to the wrong piece shows.
    assert_gradients_match(lambda t: tuple(p * (i + 1.0) for i, p in enumerate(t.split(sections, axis))), [x])


@SETTINGS
@given(data=st.data(), x=tensors())
def test_pad(data, x):
    widths = [data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2))) for _ in range(x.ndim)]
    value = data.draw(st.sampled_from([0.0, -1.5]))
    expected = np.pad(x.data, widths, constant_values=value) if x.ndim else x.data  # NumPy rejects 0-d
    np.testing.assert_array_equal(cr.pad(x, widths, value).data, expected)
    assert_gradients_match(lambda t: cr.pad(t, widths, value), [x])


@SETTINGS
@given(data=st.data(), spec=axis_and_shape())
def test_flip(data, spec):
    shape, axis, _ = spec
    x = leaf(data.draw, shape)
    if x.ndim:
        np.testing.assert_array_equal(cr.flip(x, axis).data, np.flip(x.data, axis))
    assert_gradients_match(lambda t: t.flip(axis), [x])


@SETTINGS
@given(data=st.data(), x=tensors())
def test_repeat_and_tile(data, x):
    repeats = data.draw(st.integers(0, 3))
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))) if x.ndim else None
    np.testing.assert_array_equal(cr.repeat_interleave(x, repeats, axis).data, np.repeat(x.data, repeats, axis))
    assert_gradients_match(lambda t: t.repeat_interleave(repeats, dim=axis), [x])
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    np.testing.assert_array_equal(cr.tile(x, reps).data, np.tile(x.data, reps))
    assert_gradients_match(lambda t: cr.tile(t, reps), [x])
    if len(reps) >= x.ndim:  # PyTorch's Tensor.repeat tiles, with at least one count per dimension
        np.testing.assert_array_equal(x.repeat(*reps).data, np.tile(x.data, reps))
        assert_gradients_match(lambda t: t.repeat(reps), [x])


GETITEM_CASES = {
    "int": lambda s: 1 if s[0] > 1 else 0,
    "negative_int": lambda s: -1,
    "slice": lambda s: slice(1, None),
    "negative_step_slice": lambda s: slice(None, None, -2),
    "tuple_of_slices": lambda s: (slice(None, -1), slice(0, 2)),
    "ellipsis_and_none": lambda s: (Ellipsis, None, 0),
    "repeated_integers": lambda s: np.array([0, 0, -1, 0, s[0] - 1]),
    "repeated_pairs": lambda s: (np.array([0, 0, 1 % s[0]]), np.array([-1, -1, 0])),
    "list_index": lambda s: [0, 0],
}


@pytest.mark.parametrize("case", sorted(GETITEM_CASES))
@SETTINGS
@given(data=st.data(), shape=array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3))
def test_getitem(case, data, shape):
    x = leaf(data.draw, shape)
    index = GETITEM_CASES[case](shape)
    np.testing.assert_array_equal(x[index].data, x.data[index])
    assert_gradients_match(lambda t: t[index], [x])


@SETTINGS
@given(data=st.data(), x=tensors(shape_strategy=nonempty_shapes))
def test_getitem_boolean_mask(data, x):
    mask = data.draw(arrays(np.bool_, x.shape))
    np.testing.assert_array_equal(x[mask].data, x.data[mask])
    assert_gradients_match(lambda t: t[mask], [x])
    assert_gradients_match(lambda t: t[cr.tensor(mask)], [x])  # a Tensor mask works as well


def test_getitem_repeated_indices_accumulate():
    x = cr.tensor(np.arange(4.0), requires_grad=True)
    x[np.array([0, 0, 3, 0, -1])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 0.0, 2.0])
    m = cr.tensor(np.zeros((2, 3)), requires_grad=True)
    (m[[1, 1, 0], [2, 2, -3]] * cr.tensor(np.array([1.0, 10.0, 100.0]))).sum().backward()
    np.testing.assert_array_equal(m.grad, [[100.0, 0, 0], [0, 0, 11.0]])


# ----- matrix products --------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), pair=mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2, max_side=3))
def test_matmul_1d_2d_batched_with_broadcasting(data, pair):
    shape_x, shape_y = pair.input_shapes
    x, y = leaf(data.draw, shape_x), leaf(data.draw, shape_y)
    out = x @ y
    assert out.shape == pair.result_shape
    np.testing.assert_allclose(out.data, np.matmul(x.data, y.data), rtol=1e-12, atol=1e-12)
    assert_gradients_match(lambda a, b: a @ b, [x, y])
    assert_gradients_match(cr.matmul, [x, y])


@SETTINGS
@given(data=st.data(), n=st.integers(1, 4), m=st.integers(1, 4))
def test_dot_and_outer(data, n, m):
    x, y, z = leaf(data.draw, (n,)), leaf(data.draw, (n,)), leaf(data.draw, (m,))
    np.testing.assert_allclose(cr.dot(x, y).item(), np.dot(x.data, y.data))
    np.testing.assert_allclose(cr.outer(x, z).data, np.outer(x.data, z.data))
    assert_gradients_match(cr.dot, [x, y])
    assert_gradients_match(cr.outer, [x, z])


def test_matmul_with_only_one_input_requiring_grad():
    w = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    x = cr.tensor(np.ones((3, 4)))
    (w @ x).sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 3), 4.0))
    assert x.grad is None
