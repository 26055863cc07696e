"""The IDX file format (MNIST's): read and write, plain or gzip-compressed.

Layout: two zero bytes, a type code byte, a byte with the number of dimensions, one
big-endian uint32 per dimension, then the values in C order, big-endian.
"""

import gzip as gzip_module
import io
import math
import os
import struct
import zlib
from typing import Any

import numpy as np
import numpy.typing as npt

from ..types import Array

# Type code -> big-endian dtype, as the format defines them.
IDX_TYPES: dict[int, np.dtype[Any]] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_TYPE_NAMES = ", ".join(f"0x{code:02X} {dtype.name}" for code, dtype in IDX_TYPES.items())
_GZIP_MAGIC = b"\x1f\x8b"
# Bytes asked of the file per read: a gzip stream hands back each read as a new bytes object
# before it is copied into the result, so this bounds that second copy of the data.
_CHUNK = 2**18


def _read_exactly(f: io.BufferedIOBase, n: int) -> bytes:
    """Up to n bytes: stops early only at the end of the file."""
    chunks: list[bytes] = []
    size = 0
    while size < n:
        chunk = f.read(n - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _read_payload(f: io.BufferedIOBase, size: int, known: bool) -> tuple[npt.NDArray[np.uint8], bool]:
    """Up to ``size`` bytes from ``f`` as a uint8 array (shorter only at the end of the file), and whether
    anything follows them (one byte more is read to tell, never the rest).

    With ``known`` (the file is known to hold exactly ``size`` bytes more) the array is allocated
    at once; otherwise (gzip, whose size shows only by inflating it) it grows, doubling, with
    the data actually found, so a header that claims gigabytes costs only what the file holds."""
    data = np.empty(size if known else min(size, _CHUNK), dtype=np.uint8)
    filled = 0
    while filled < size:
        if filled == len(data):
            data.resize(min(2 * len(data), size), refcheck=False)  # realloc: no copy held beside it on Linux
        n = f.readinto(data.data[filled : filled + _CHUNK])
        if not n:
            break
        filled += n
    return data[:filled], bool(f.read(1))


def _parse(f: io.BufferedIOBase, name: str, available: int | None = None) -> Array:
    header = _read_exactly(f, 4)
    if len(header) < 4:
        raise ValueError(f"{name}: too short for an IDX file ({len(header)} bytes; the header alone has 4)")
    zero0, zero1, code, ndim = header
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"{name}: not an IDX file: it must start with two zero bytes, found 0x{header[:2].hex()}")
    if code not in IDX_TYPES:
        raise ValueError(f"{name}: unknown IDX data type code 0x{code:02X} (known: {_TYPE_NAMES})")
    if ndim == 0:
        raise ValueError(f"{name}: the IDX header says 0 dimensions; expected at least 1")
    dims = _read_exactly(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(
            f"{name}: the header promises {ndim} dimension sizes ({4 * ndim} bytes), found {len(dims)} bytes"
        )
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = IDX_TYPES[code]
    expected = math.prod(shape) * dtype.itemsize
    wrong_size = f"{name}: expected {expected} bytes of data for shape {shape} ({dtype.name}), found"
    # For a plain file the payload size is known up front: a bad header fails before any allocation.
    if available is not None and available - len(header) - len(dims) != expected:
        raise ValueError(f"{wrong_size} {available - len(header) - len(dims)}")

    # Read straight into the result's memory: no intermediate copy of a 47 MB payload.
    data, more = _read_payload(f, expected, known=available is not None)
    if len(data) != expected or more:
        raise ValueError(f"{wrong_size} {'more' if more else len(data)}")
    array = data.view(dtype).reshape(shape)
    native = dtype.newbyteorder("=")
    if native != dtype:  # swap in place rather than copy: native byte order is what NumPy computes with fast
        array = array.byteswap(inplace=True).view(native)
    return array


def read_idx(path: str | os.PathLike[str]) -> Array:
    """Read an IDX file into a NumPy array (native byte order).

    Gzip compression is recognised by the file's first bytes, not its name. Raises
    ValueError naming the file when the header is malformed or the data size does not
    match the dimensions exactly (a truncated or padded file). Memory follows the data
    the file actually holds, never the header's claim, and a gzip stream is inflated at
    most one byte past the promised data, a quarter MiB at a time.
    """
    name = os.fspath(path)
    with open(path, "rb") as raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _parse(raw, name, available=os.fstat(raw.fileno()).st_size)
        try:
            with gzip_module.GzipFile(fileobj=raw) as f:
                return _parse(f, name)
        except (OSError, EOFError, zlib.error) as error:
            raise ValueError(f"{name}: the gzip data is corrupt or truncated ({error})") from error


def write_idx(path: str | os.PathLike[str], array: npt.ArrayLike, gzip: bool = False) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when ``gzip=True``).

    Supported dtypes: uint8, int8, int16, int32, float32, float64 (the format has no
    others); cast first, e.g. ``labels.astype(np.uint8)``.
    """
    array = np.asarray(array)
    codes = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"write_idx: IDX cannot store dtype {array.dtype}; supported: {_TYPE_NAMES}")
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"write_idx: IDX stores 1 to 255 dimensions, got shape {array.shape}")
    code = codes[native]
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    opener = gzip_module.open if gzip else open
    with opener(path, "wb") as f:
        f.write(header)
        f.write(payload)
