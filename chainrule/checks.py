"""Argument checks, written once: each returns the checked value (normalised) or raises an error that
names the function or layer (``where``), the argument, what it got and what it expected.

Layers check their constructor arguments here and ``functional`` checks its inputs here, so
a rule such as "a number, not a bool" or "padding='same' needs stride 1" has one wording.
"""

import numbers

from . import backend
from .backend import xp
from .gates.common import as_tensor, data, is_number

__all__ = ["is_number", "is_integer", "is_real", "number", "size", "pair", "float_dtype", "positive", "probability", "reduction",
           "optional_array", "conv_padding", "image_batch", "unbatch", "same_shape", "constant"]


def is_integer(value):
    """An int (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value):
    """A real number (Python's or NumPy's), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(where, name, value):
    """A real number (not a bool) as a float."""
    if not is_number(value):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    return float(value)


def size(where, name, value, minimum=1):
    """An int >= ``minimum`` (sizes, channels, kernel sides)."""
    if not is_integer(value) or value < minimum:
        raise ValueError(f"{where}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def pair(where, name, value, minimum=1):
    """An int or a pair of ints, each >= ``minimum``, as a pair: 3 -> (3, 3)."""
    values = (value, value) if is_integer(value) else value
    if (not isinstance(values, (tuple, list)) or len(values) != 2 or not all(is_integer(v) for v in values)
            or min(values) < minimum):
        raise ValueError(f"{where}: {name} must be an integer or a pair of integers, each at least {minimum}; "
                         f"got {value!r}")
    return int(values[0]), int(values[1])


def float_dtype(where, dtype):
    """A floating NumPy dtype (float32 or float64)."""
    try:
        dtype = xp.dtype(dtype)
    except TypeError:
        raise TypeError(f"{where}: dtype must be a floating NumPy dtype, got {dtype!r}") from None
    if dtype.kind != "f":
        raise TypeError(f"{where}: dtype must be floating point (float32 or float64), got {dtype}")
    return dtype


def positive(where, name, value):
    if not is_real(value) or not value > 0:
        raise ValueError(f"{where}: {name} must be a positive number, got {value!r}")
    return float(value)


def probability(where, name, value, top_included=False):
    """A number in [0, 1) (or [0, 1] with ``top_included``): dropout's p, label smoothing."""
    if (not is_real(value) or not 0 <= value <= 1
            or (value == 1 and not top_included)):
        raise ValueError(f"{where}: {name} must be a probability in [0, 1{']' if top_included else ')'}, "
                         f"got {value!r}")
    return float(value)


def reduction(where, value):
    if value not in ("mean", "sum", "none"):
        raise ValueError(f"{where}: reduction must be 'mean', 'sum' or 'none', got {value!r}")
    return value


def optional_array(value):
    """A class-weight argument: None, or its values as a NumPy array (kept as a buffer)."""
    if value is None:
        return None
    return backend.as_array(data(value)).copy()  # a list of Python floats becomes float32


def conv_padding(where, padding, kernel, stride, dilation):
    """A convolution's padding as an (H, W) pair: ints, "valid" (none) or "same" (the output keeps the input's
    size, which needs stride 1 and an even reach ``dilation * (kernel - 1)`` on each side)."""
    if padding == "valid":
        return (0, 0)
    if padding != "same":
        return pair(where, "padding", padding, minimum=0)
    if tuple(stride) != (1, 1):
        raise ValueError(f"{where}: padding='same' needs stride 1, got stride {tuple(stride)}")
    reach = [d * (k - 1) for k, d in zip(kernel, dilation)]
    if reach[0] % 2 or reach[1] % 2:
        raise ValueError(f"{where}: padding='same' with kernel_size {tuple(kernel)} and dilation {tuple(dilation)} "
                         "would need uneven padding, which is not supported; pad explicitly with F.pad")
    return reach[0] // 2, reach[1] // 2


def image_batch(x, where):
    """(N, C, H, W) input as a Tensor, and whether it came as a single (C, H, W) image."""
    x = as_tensor(x)
    if x.ndim == 3:
        return x.reshape((1,) + x.shape), True
    if x.ndim != 4:
        raise ValueError(f"{where}: input must be 4-d (N, C, H, W) or 3-d (C, H, W), got shape {x.shape}")
    return x, False


def unbatch(out, unbatched):
    """``image_batch``'s inverse for the result."""
    return out.reshape(out.shape[1:]) if unbatched else out


def same_shape(x, target, where, names=("input", "target")):
    if x.shape != target.shape:
        raise ValueError(f"{where}: {names[0]} has shape {x.shape} but {names[1]} has shape {target.shape}; "
                         "they must be the same (no broadcasting)")


def constant(value, like, where, name, expected_shape=None):
    """An optional constant argument (class weights, pos_weight) as an array of ``like``'s dtype."""
    if value is None:
        return None
    array = xp.asarray(data(value), dtype=like.dtype)
    if expected_shape is not None and array.shape != expected_shape:
        raise ValueError(f"{where}: {name} must have shape {expected_shape}, got {array.shape}")
    return array
