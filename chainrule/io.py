"""Safe checkpoints: ``save(obj, path)`` and ``load(path)``.

A checkpoint is a safetensors file. Every NumPy array in ``obj`` becomes one tensor in
the file (named ``t0``, ``t1``, ...), and the shape of ``obj`` around those arrays
(dicts, lists, tuples, Python scalars, None) is written as JSON in the file's metadata
under the key ``"chainrule"``. Loading only parses JSON and safetensors: it never runs
code from the file, unlike pickle.

What can be stored:

* dicts (keys ``str`` or ``int``, order kept), lists, tuples;
* ``None``, ``bool``, ``int``, ``float`` (nan and inf included), ``str``;
* NumPy arrays and NumPy scalars of dtype bool, int8..int64, uint8..uint64 and
  float16/32/64, bit for bit with their shape (0-d and empty arrays included);
* any object with a ``.data`` attribute that is a NumPy array (a ``Tensor``): its
  array is stored, and comes back as a plain array.

The JSON, for ``{"w": array, "epoch": 3, "betas": (0.9, 0.999)}``::

    {"format": "chainrule.checkpoint", "version": 1,
     "root": {"type": "dict", "items": [
         ["w", {"type": "array", "tensor": "t0", "dtype": "float32", "shape": [2, 3], "crc32": 1234}],
         ["epoch", 3],
         ["betas", {"type": "tuple", "items": [0.9, 0.999]}]]}}

``null``, booleans, strings, integers and finite floats are written as themselves (JSON
tells ``3`` from ``3.0``); everything else is an object with a ``"type"``: ``dict``
(items are ``[key, value]`` pairs, so int keys stay ints), ``list``, ``tuple``,
``float`` (``"nan"``, ``"inf"``, ``"-inf"``), ``array`` and ``scalar`` (a NumPy scalar,
stored as a 0-d tensor). A CRC-32 of each tensor's bytes, and one of the JSON text (under
the metadata key ``"chainrule.crc32"``), catch damaged files: safetensors has no checksum.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import secrets
import stat
import time
import zipfile
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any, NoReturn, TypeAlias

import numpy as np

from .types import Array

__all__ = ["save", "load", "CheckpointError"]

FORMAT_NAME = "chainrule.checkpoint"
FORMAT_VERSION = 1
METADATA_KEY = "chainrule"
CHECKSUM_KEY = "chainrule.crc32"  # of the METADATA_KEY text, so damaged JSON is caught too

# The dtypes every safetensors release since 0.4 reads and writes.
SUPPORTED_DTYPES = (
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "float32",
    "float64",
)

# safetensors refuses headers over 100 MB; checking first gives clearer messages.
MAX_HEADER_BYTES = 100_000_000
# The JSON around the arrays: kilobytes in real checkpoints (a long training history is a few hundred).
# Capped before it is parsed, because parsing multiplies it: 99 MB of "[[],[],...]" becomes gigabytes of lists.
MAX_METADATA_BYTES = 16 * 2**20
# A temporary file that a killed save left behind (".NAME.<16 hex digits>.tmp", beside NAME) is removed
# by a later save of NAME once it has not been written for this long. A save writes its temporary file
# from start to rename in one go, so none in progress looks this old; if a stopped one is resumed after
# its file was removed, its rename fails with an error and NAME keeps the previous checkpoint.
STALE_TEMP_SECONDS = 10 * 60

_MISSING_SAFETENSORS = "chainrule.save/load need the 'safetensors' package: pip install 'chainrule[extras]'"


#: A node of the JSON that save writes around the arrays.
Node: TypeAlias = "None | bool | int | float | str | list[Node] | dict[str, Node]"
#: The arrays of a checkpoint, by their names in the file (t0, t1, ...).
Tensors: TypeAlias = "dict[str, Array]"


class CheckpointError(ValueError):
    """A file that is not a readable chainrule checkpoint: truncated, corrupt, or tampered with."""


def _safetensors() -> ModuleType:
    # Imported here, not at the top: safetensors is an optional dependency.
    try:
        import safetensors
        import safetensors.numpy
    except ImportError as error:
        raise ImportError(_MISSING_SAFETENSORS) from error
    return safetensors


# ----- saving --------------------------------------------------------------------------


def save(obj: object, path: str | os.PathLike[str]) -> None:
    """Write ``obj`` (a state dict, or nested dicts/lists/tuples of arrays and scalars) to ``path``.

    The file is written to a temporary name in the same directory (``.NAME.<hex>.tmp``) and
    then moved over ``path`` in one step, so ``path`` always holds either the old checkpoint
    or the new one, never half of one. Saving over a checkpoint keeps its permissions. Temporary
    files of the same ``path`` left by a save that was killed are removed once they are
    STALE_TEMP_SECONDS old. Raises TypeError, naming where in ``obj`` it is, for a value
    that cannot be stored (a set, a function, a Module rather than its ``state_dict()``, a
    dict key that is not str or int, an array of an unsupported dtype), ValueError for a
    container that contains itself or a structure too large for the file's header, and
    CheckpointError when the file cannot be written (a full disk, as safetensors reports it).
    """
    safetensors = _safetensors()
    path = os.fspath(path)

    # Turn obj into JSON + arrays first: an unsupported value fails before any file is touched.
    tensors: Tensors = {}
    root = _encode(obj, tensors, path_in_obj="", active=set())
    document = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root}
    # allow_nan=False: non-finite floats were already encoded as strings; keep the JSON standard.
    text = json.dumps(document, allow_nan=False, separators=(",", ":"))
    metadata = {METADATA_KEY: text, CHECKSUM_KEY: str(zlib.crc32(text.encode("utf-8")))}
    # load() refuses more JSON than MAX_METADATA_BYTES; the JSON also goes, quoted, into a header
    # that safetensors caps, with ~100 bytes per tensor entry.
    if len(text) > MAX_METADATA_BYTES or len(json.dumps(text)) + 100 * len(tensors) > MAX_HEADER_BYTES:
        raise ValueError(
            f"save: the structure around the arrays is too large for a checkpoint header ({len(text)} bytes "
            f"of JSON around {len(tensors)} arrays; limits: {MAX_METADATA_BYTES} bytes of JSON, {MAX_HEADER_BYTES} "
            "bytes of header); store long lists of numbers as NumPy arrays"
        )

    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    _remove_stale_temp_files(directory, name)
    temp_path = os.path.join(directory, f".{name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL: never reuse someone else's file; mode 0o666 lets the umask decide permissions.
    os.close(os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    mode = _existing_mode(path) or os.stat(temp_path).st_mode  # saving over a checkpoint keeps its permissions
    try:
        try:
            safetensors.numpy.save_file(tensors, temp_path, metadata=metadata)
        except safetensors.SafetensorError as error:  # a full disk, say: raised as one error type callers catch
            raise CheckpointError(f"save: could not write {path!r}: {error}") from error
        # safetensors may recreate the file as owner-only; give it the intended permissions back.
        os.chmod(temp_path, mode)
        # Make the bytes durable before the rename makes them visible under `path`.
        with open(temp_path, "r+b") as file:
            os.fsync(file.fileno())
        os.replace(temp_path, path)
    except BaseException:
        # Whatever went wrong (even Ctrl-C), `path` is untouched; do not leave the temp file behind.
        try:
            os.remove(temp_path)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _existing_mode(path: str) -> int | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return stat.S_IMODE(info.st_mode) if stat.S_ISREG(info.st_mode) else None


def _remove_stale_temp_files(directory: str, name: str) -> None:
    """Remove what killed saves of ``name`` left: only our own regular files named as save() names
    them, not written for STALE_TEMP_SECONDS. Best effort: a file that cannot be removed stays."""
    pattern = re.compile(re.escape(f".{name}.") + "[0-9a-f]{16}" + re.escape(".tmp"))
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    cutoff = time.time() - STALE_TEMP_SECONDS
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff and info.st_uid == os.geteuid():
                os.remove(entry.path)
        except OSError:
            pass


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open directories, and it is only best effort.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _describe(path_in_obj: str) -> str:
    return f"at {path_in_obj}" if path_in_obj else "at the top level"


def _encode(value: object, tensors: Tensors, path_in_obj: str, active: set[int]) -> Node:
    """Return the JSON node for ``value``, adding its arrays to ``tensors``."""
    # Order matters: bool before int (bool is an int), str and NumPy scalars before
    # float (np.str_ is a str, np.float64 is a float).
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value, tensors, path_in_obj)
    if isinstance(value, np.generic):
        _check_dtype(value.dtype, "NumPy scalar", path_in_obj)
        array = np.asarray(value)
        name = _add_tensor(tensors, array)
        return {"type": "scalar", "tensor": name, "dtype": array.dtype.name, "crc32": _crc32(array)}
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        value = float(value)
        return value if math.isfinite(value) else {"type": "float", "value": repr(value)}
    if isinstance(value, (dict, list, tuple)):
        # A container that contains itself would recurse forever.
        if id(value) in active:
            raise ValueError(f"save: circular reference {_describe(path_in_obj)}")
        active.add(id(value))
        try:
            return _encode_container(value, tensors, path_in_obj, active)
        finally:
            active.discard(id(value))
    data = getattr(value, "data", None)
    if isinstance(data, np.ndarray):  # a Tensor, or anything else that wraps an array
        return _encode_array(data, tensors, path_in_obj)
    if callable(getattr(value, "state_dict", None)):  # a Module or an optimizer: its state is what can be stored
        raise TypeError(
            f"save: cannot store a {type(value).__name__} itself {_describe(path_in_obj)}; store its "
            f"state_dict() instead, e.g. cr.save(model.state_dict(), path)"
        )
    raise TypeError(f"save: cannot store value of type {type(value).__name__} {_describe(path_in_obj)}")


def _encode_container(
    value: dict[Any, Any] | list[Any] | tuple[Any, ...], tensors: Tensors, path_in_obj: str, active: set[int]
) -> Node:
    if isinstance(value, dict):
        items: list[Node] = []
        for key, item in value.items():
            # Only str and int keys: JSON keeps them apart, and they are what state dicts use.
            if not (isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))):
                raise TypeError(
                    f"save: dict keys must be str or int, got key {key!r} of type {type(key).__name__} "
                    f"{_describe(path_in_obj)}"
                )
            key = str(key) if isinstance(key, str) else int(key)
            items.append([key, _encode(item, tensors, f"{path_in_obj}[{key!r}]", active)])
        return {"type": "dict", "items": items}
    elements = [_encode(item, tensors, f"{path_in_obj}[{i}]", active) for i, item in enumerate(value)]
    return {"type": "list" if isinstance(value, list) else "tuple", "items": elements}


def _encode_array(array: Array, tensors: Tensors, path_in_obj: str) -> Node:
    _check_dtype(array.dtype, "array", path_in_obj)
    # safetensors writes the raw buffer: a strided view (a transpose, a slice) must be made
    # dense first. (Not np.ascontiguousarray: it turns 0-d arrays into 1-d ones.)
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    name = _add_tensor(tensors, array)
    return {
        "type": "array",
        "tensor": name,
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "crc32": _crc32(array),
    }


def _check_dtype(dtype: np.dtype[Any], what: str, path_in_obj: str) -> None:
    if dtype.name not in SUPPORTED_DTYPES:
        raise TypeError(
            f"save: cannot store {what} of dtype {dtype} {_describe(path_in_obj)} "
            f"(supported: {', '.join(SUPPORTED_DTYPES)})"
        )


def _crc32(array: Array) -> int:
    # safetensors has no checksum of its own; this catches flipped or overwritten data bytes.
    # Computed over the little-endian bytes, which is what the file holds.
    return zlib.crc32(array.astype(array.dtype.newbyteorder("<"), copy=False).data)


def _add_tensor(tensors: Tensors, array: Array) -> str:
    name = f"t{len(tensors)}"
    tensors[name] = array
    return name


# ----- loading -------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str],
    map_location: object = None,
    weights_only: bool | None = None,
    mmap: bool | None = None,
) -> Any:
    """Read a checkpoint written by ``save`` and return the object, with fresh arrays.

    Dicts come back as plain dicts (in the saved order), tuples as tuples, NumPy scalars
    with their dtype, and arrays (including Tensors' arrays) as writable NumPy arrays.
    A safetensors file that another program wrote (PyTorch's
    ``safetensors.torch.save_file(model.state_dict(), path)``) comes back as a dict from
    tensor name to array, ready for ``load_state_dict``. ``map_location``, ``weights_only``
    and ``mmap`` are accepted for PyTorch's signature and change nothing: everything loads
    onto the CPU, and only data is ever loaded.

    Raises FileNotFoundError if ``path`` does not exist, and CheckpointError for anything
    that is not an intact checkpoint, including a file PyTorch pickled (``torch.save``),
    with the one line that converts it. Never executes code from the file.
    """
    safetensors = _safetensors()
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "chainrule.load: no such checkpoint file", path) from None
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "chainrule.load: expected a checkpoint file, got a directory", path)
    if not stat.S_ISREG(mode):  # reading a FIFO would wait forever for a writer; a device never ends
        raise CheckpointError(
            f"chainrule.load: {path!r} is {_file_kind(mode)}, not a regular file; "
            "a checkpoint is a file written by chainrule.save"
        )

    _refuse_pickle(path)
    _check_header_size(path)
    try:
        with safetensors.safe_open(path, framework="np") as file:
            metadata = file.metadata() or {}
            tensor_names = set(file.keys())
            if METADATA_KEY not in metadata and CHECKSUM_KEY not in metadata:
                return _plain_tensors(file, path)
            if METADATA_KEY not in metadata:
                raise CheckpointError(
                    f"chainrule.load: {path!r} has a checksum but no {METADATA_KEY!r} metadata (it is damaged)"
                )
            text = metadata[METADATA_KEY]
            if len(text) > MAX_METADATA_BYTES:  # before parsing it, or checksumming it (a copy)
                raise CheckpointError(
                    f"chainrule.load: {path!r} holds {len(text)} bytes of metadata, more than "
                    f"any checkpoint save() writes (limit {MAX_METADATA_BYTES})"
                )
            if metadata.get(CHECKSUM_KEY) != str(zlib.crc32(text.encode("utf-8"))):
                raise CheckpointError(f"chainrule.load: {path!r} metadata does not match its checksum (it is damaged)")
            root = _read_document(text, path)
            decoder = _Decoder(file, tensor_names, path)
            result = decoder.decode(root)
            # Every tensor in the file is used exactly once; leftovers mean the file was altered.
            unused = tensor_names - decoder.used
            if unused:
                raise CheckpointError(
                    f"chainrule.load: {path!r} holds tensors the metadata never refers to: {sorted(unused)[:5]}"
                )
            return result
    except (CheckpointError, MemoryError):  # MemoryError: a real checkpoint too big for RAM, not a bad file
        raise
    except RecursionError as error:
        raise CheckpointError(f"chainrule.load: {path!r} is nested too deeply to read") from error
    except Exception as error:
        # safetensors and NumPy report malformed files with many exception types
        # (SafetensorError, TypeError for an unknown dtype, ...): all mean "bad file".
        raise CheckpointError(f"chainrule.load: {path!r} is not a valid checkpoint: {error}") from error


def _file_kind(mode: int) -> str:
    kinds: list[tuple[Callable[[int], bool], str]] = [
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def _plain_tensors(file: Any, path: str) -> Tensors:
    """A safetensors file without chainrule's metadata (a state dict PyTorch or another library wrote): its
    tensors by name, as fresh arrays."""
    tensors: Tensors = {}
    for name in file.keys():
        try:
            tensors[name] = np.array(file.get_tensor(name), copy=True)
        except TypeError as error:  # a dtype NumPy has no type for, such as bfloat16
            raise CheckpointError(
                f"chainrule.load: tensor {name!r} in {path!r} has a dtype NumPy cannot hold ({error}); convert it "
                "in PyTorch first, e.g. {k: v.float() for k, v in state_dict.items()}"
            ) from error
    return tensors


#: How PyTorch's ``torch.save`` files begin: a zip archive holding data.pkl (since PyTorch 1.6), or before that
#: a protocol-2 pickle whose first object is PyTorch's magic number 0x1950a86a20f9469cfc6c.
_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")


def _refuse_pickle(path: str) -> None:
    """Say so when ``path`` is a pickle (a PyTorch ``torch.save`` file), reading only its first bytes and, for a
    zip archive, its list of names: nothing is unpickled."""
    with open(path, "rb") as file:
        start = file.read(len(_LEGACY_MAGIC))
    if start[:4] == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as archive:
                pickled = any(name.endswith("data.pkl") for name in archive.namelist())
        except zipfile.BadZipFile:
            return
    else:
        pickled = start == _LEGACY_MAGIC
    if pickled:
        raise CheckpointError(
            f"chainrule.load: {path!r} is a PyTorch pickle (written by torch.save), and chainrule never unpickles: "
            "loading a pickle can run any code. Convert it once, where PyTorch is installed: "
            "from safetensors.torch import save_file; "
            "save_file(model.state_dict(), 'model.safetensors') "
            f"(or save_file(torch.load({path!r}, weights_only=True), 'model.safetensors') for a saved state dict); "
            "then chainrule.load('model.safetensors') gives the state dict."
        )


def _check_header_size(path: str) -> None:
    # A safetensors file starts with an 8-byte little-endian header length, then the JSON
    # header. Checking it here turns "random bytes" and "pickle" into a readable message.
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        prefix = file.read(8)
    if len(prefix) < 8:
        raise CheckpointError(f"chainrule.load: {path!r} is too short ({size} bytes) to be a checkpoint")
    header_size = int.from_bytes(prefix, "little")
    if header_size > MAX_HEADER_BYTES or header_size > size - 8:
        raise CheckpointError(
            f"chainrule.load: {path!r} is not a safetensors file or is truncated: it declares a "
            f"{header_size}-byte header but is {size} bytes long"
        )


def _read_document(text: str, path: str) -> Any:
    def reject_constant(name: str) -> NoReturn:  # NaN / Infinity are not JSON; save never writes them
        raise CheckpointError(f"chainrule.load: {path!r} metadata contains the non-JSON constant {name}")

    try:
        document = json.loads(text, parse_constant=reject_constant)
    except ValueError as error:  # bad JSON, or an integer too long to parse safely
        raise CheckpointError(f"chainrule.load: {path!r} metadata is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise CheckpointError(f"chainrule.load: {path!r} metadata is not a JSON object")
    if document.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"chainrule.load: {path!r} metadata has format {document.get('format')!r}, expected {FORMAT_NAME!r}"
        )
    version = document.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise CheckpointError(
            f"chainrule.load: {path!r} has checkpoint format version {version!r}; "
            f"this chainrule reads version {FORMAT_VERSION}"
        )
    if "root" not in document:
        raise CheckpointError(f"chainrule.load: {path!r} metadata has no 'root'")
    return document["root"]


# The exact fields each kind of node has; anything else is not a file save() wrote.
_NODE_FIELDS: dict[str, set[str]] = {
    "dict": {"type", "items"},
    "list": {"type", "items"},
    "tuple": {"type", "items"},
    "float": {"type", "value"},
    "array": {"type", "tensor", "dtype", "shape", "crc32"},
    "scalar": {"type", "tensor", "dtype", "crc32"},
}


class _Decoder:
    """Turns the JSON tree back into Python objects, reading each referenced tensor once."""

    def __init__(self, file: Any, tensor_names: set[str], path: str) -> None:
        self.file = file  # safetensors' safe_open handle
        self.tensor_names = tensor_names
        self.path = path
        self.used: set[str] = set()

    def fail(self, message: str) -> NoReturn:
        raise CheckpointError(f"chainrule.load: {self.path!r} is corrupt: {message}")

    def decode(self, node: Any) -> Any:
        """The object a JSON node (as json.loads gives it, so of any type until checked) stands for."""
        # JSON keeps these apart exactly as save wrote them (3 is an int, 3.0 a float).
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            self.fail(f"expected a value or an object, got JSON {type(node).__name__}")
        kind = node.get("type")
        if not isinstance(kind, str) or kind not in _NODE_FIELDS:
            self.fail(f"unknown node type {kind!r}")
        if set(node) != _NODE_FIELDS[kind]:
            self.fail(f"{kind} node has fields {sorted(node)}, expected {sorted(_NODE_FIELDS[kind])}")

        if kind == "dict":
            result: dict[str | int, Any] = {}
            for pair in self.items_of(node):
                if not (isinstance(pair, list) and len(pair) == 2):
                    self.fail("dict item is not a [key, value] pair")
                key, value = pair
                if not (isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool))):
                    self.fail(f"dict key {key!r} is not a str or int")
                if key in result:
                    self.fail(f"dict key {key!r} appears twice")
                result[key] = self.decode(value)
            return result
        if kind == "list":
            return [self.decode(item) for item in self.items_of(node)]
        if kind == "tuple":
            return tuple(self.decode(item) for item in self.items_of(node))
        if kind == "float":
            if node["value"] not in ("nan", "inf", "-inf"):
                self.fail(f"float node has value {node['value']!r}, expected 'nan', 'inf' or '-inf'")
            return float(node["value"])
        if kind == "array":
            shape = node["shape"]
            if not (isinstance(shape, list) and all(isinstance(n, int) and not isinstance(n, bool) for n in shape)):
                self.fail(f"array shape {shape!r} is not a list of integers")
            return self.tensor(node, tuple(shape))
        # kind == "scalar": a 0-d tensor in the file; [()] turns it into a NumPy scalar.
        return self.tensor(node, ())[()]

    def items_of(self, node: dict[str, Any]) -> list[Any]:
        if not isinstance(node["items"], list):
            self.fail(f"{node['type']} node's items are not a list")
        return node["items"]

    def tensor(self, node: dict[str, Any], shape: tuple[int, ...]) -> Array:
        name, dtype = node["tensor"], node["dtype"]
        if not isinstance(name, str) or name not in self.tensor_names:
            self.fail(f"metadata refers to tensor {name!r}, which is not in the file")
        if name in self.used:
            self.fail(f"tensor {name!r} is referred to twice")
        self.used.add(name)
        array = self.file.get_tensor(name)
        # The tensor must be what the metadata says it is, or the file was altered.
        if array.dtype.name != dtype or array.shape != shape:
            self.fail(f"tensor {name!r} is {array.dtype.name} {array.shape}, but the metadata says {dtype} {shape}")
        if _crc32(array) != node["crc32"]:
            self.fail(f"tensor {name!r} does not match its checksum (the data bytes are damaged)")
        # A private, writable copy that does not depend on the file staying open.
        copy: Array = np.array(array, copy=True)
        return copy
