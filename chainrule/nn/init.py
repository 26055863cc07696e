"""Weight initialisation, with PyTorch's names, defaults and formulas.

Every function fills a tensor's array in place (a Parameter, a Tensor or a NumPy
array), keeps its dtype, bumps its ``_version`` and returns it. The random ones draw
from one module-level NumPy Generator, so ``manual_seed(0)`` before building a model
makes its initial weights reproducible (layers' default initialisations use it too);
each also takes ``generator=`` to draw from a Generator of your own.

Like PyTorch's, the default generator starts from a fixed seed, so a fresh process
builds the same model every time until you call ``manual_seed``.

Why the scales: a layer computing ``sum_i w_i x_i`` over ``fan_in`` inputs multiplies
the variance of its inputs by ``fan_in * Var(w)``. Kaiming (He) init picks
``Var(w) = gain^2 / fan_in`` so signals keep their size through ReLU layers going
forward (``mode="fan_in"``) or gradients going backward (``mode="fan_out"``); Xavier
(Glorot) init compromises between the two with ``2 / (fan_in + fan_out)``.
"""

import math
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from .. import checks, random
from ..backend import xp

# The one generator lives in chainrule.random (seeded there); nn.init names it too, as PyTorch's does.
from ..random import DEFAULT_SEED as DEFAULT_SEED
from ..random import default_generator as default_generator
from ..random import manual_seed as manual_seed
from ..tensor import Tensor
from ..types import Array, Number

#: What the init functions fill in place and return: a Tensor (or Parameter) or a NumPy array.
_Filled = TypeVar("_Filled", bound=Tensor | Array)


# ----- gains and fans -----------------------------------------------------------------
def calculate_gain(nonlinearity: str, param: Number | None = None) -> float:
    """The factor by which to scale the standard deviation for a nonlinearity (as in PyTorch):
    1 for linear/conv/sigmoid, 5/3 for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for
    leaky_relu (``param`` is the slope, default 0.01), 3/4 for selu."""
    linear = (
        "linear",
        "identity",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif checks.is_real(param):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
        f"{list(linear) + ['tanh', 'relu', 'leaky_relu', 'selu']}"
    )


def _calculate_fan_in_and_fan_out(tensor: Tensor | Array) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shaped (out, in, *kernel): inputs and outputs of one unit
    times the kernel size. Needs at least 2 dimensions."""
    shape = tuple(tensor.shape)
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out need a tensor with at least 2 dimensions; got shape {shape}")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _calculate_correct_fan(tensor: Tensor | Array, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


# ----- writing into the tensor ------------------------------------------------------------
def _array(t: object, where: str, floating: bool = True) -> Array:
    array = t.data if isinstance(t, Tensor) else t
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"{where}: expected a Tensor, Parameter or NumPy array, got {type(t).__name__}")
    if floating and array.dtype.kind != "f":
        raise TypeError(f"{where}: expected a floating-point tensor, got dtype {array.dtype} (shape {array.shape})")
    return array


def _fill(t: _Filled, values: npt.ArrayLike) -> _Filled:
    # Assigning into the existing array keeps its dtype and any views of it valid.
    _array(t, "init", floating=False)[...] = values
    if isinstance(t, Tensor):
        t._bump_version()
    return t


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return random.generator_or_default(generator, "init")


# ----- constants ---------------------------------------------------------------------------
def constant_(t: _Filled, val: Number) -> _Filled:
    _array(t, "constant_", floating=False)
    return _fill(t, val)


def zeros_(t: _Filled) -> _Filled:
    return constant_(t, 0)


def ones_(t: _Filled) -> _Filled:
    return constant_(t, 1)


def eye_(t: _Filled) -> _Filled:
    """The identity matrix (a 2-d tensor)."""
    array = _array(t, "eye_", floating=False)
    if array.ndim != 2:
        raise ValueError(f"eye_: expected a 2-d tensor, got shape {array.shape}")
    return _fill(t, xp.eye(*array.shape))


# ----- random ---------------------------------------------------------------------------
def uniform_(t: _Filled, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> _Filled:
    """Uniform values in [a, b)."""
    array = _array(t, "uniform_")
    if not a <= b:
        raise ValueError(f"uniform_: needs a <= b, got a={a}, b={b}")
    return _fill(t, _rng(generator).uniform(a, b, size=array.shape))


def normal_(t: _Filled, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None) -> _Filled:
    """Normal values with the given mean and standard deviation."""
    array = _array(t, "normal_")
    if not std >= 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    return _fill(t, _rng(generator).normal(mean, std, size=array.shape))


def trunc_normal_(
    t: _Filled,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: np.random.Generator | None = None,
) -> _Filled:
    """Normal values redrawn until they lie in [a, b] (absolute bounds, as in PyTorch)."""
    array = _array(t, "trunc_normal_")
    if not a < b:
        raise ValueError(f"trunc_normal_: needs a < b, got a={a}, b={b}")
    rng = _rng(generator)
    values = rng.normal(mean, std, size=array.shape)
    outside = (values < a) | (values > b)
    for _ in range(1000):
        if not outside.any():
            return _fill(t, values)
        values[outside] = rng.normal(mean, std, size=int(outside.sum()))
        outside = (values < a) | (values > b)
    raise ValueError(
        f"trunc_normal_: [a, b] = [{a}, {b}] holds almost none of N({mean}, {std}^2); choose bounds nearer the mean"
    )


def xavier_uniform_(t: _Filled, gain: float = 1.0, generator: np.random.Generator | None = None) -> _Filled:
    """Glorot uniform: U(-bound, bound) with bound = gain * sqrt(6 / (fan_in + fan_out))."""
    array = _array(t, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    if array.size == 0:
        return t
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(t, _rng(generator).uniform(-bound, bound, size=array.shape))


def xavier_normal_(t: _Filled, gain: float = 1.0, generator: np.random.Generator | None = None) -> _Filled:
    """Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    array = _array(t, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(array)
    if array.size == 0:
        return t
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(t, _rng(generator).normal(0.0, std, size=array.shape))


def kaiming_uniform_(
    t: _Filled,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> _Filled:
    """He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain from ``nonlinearity``
    (``a`` is the leaky_relu slope) and fan from ``mode`` ('fan_in' or 'fan_out')."""
    array = _array(t, "kaiming_uniform_")
    fan = _calculate_correct_fan(array, mode)
    if array.size == 0:
        return t
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _fill(t, _rng(generator).uniform(-bound, bound, size=array.shape))


def kaiming_normal_(
    t: _Filled,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> _Filled:
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    array = _array(t, "kaiming_normal_")
    fan = _calculate_correct_fan(array, mode)
    if array.size == 0:
        return t
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _fill(t, _rng(generator).normal(0.0, std, size=array.shape))


def orthogonal_(t: _Filled, gain: float = 1.0, generator: np.random.Generator | None = None) -> _Filled:
    """A (semi-)orthogonal matrix, scaled by ``gain``; dimensions after the first are flattened."""
    array = _array(t, "orthogonal_")
    if array.ndim < 2:
        raise ValueError(f"orthogonal_: expected at least 2 dimensions, got shape {array.shape}")
    if array.size == 0:
        return t
    rows, cols = array.shape[0], array.size // array.shape[0]
    flat = _rng(generator).normal(0.0, 1.0, size=(rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    q *= xp.sign(xp.diag(r))  # makes the result uniformly distributed over orthogonal matrices
    if rows < cols:
        q = q.T
    return _fill(t, gain * q.reshape(array.shape))
