"""Safe checkpoints: chainrule.io.save / load."""

import collections
import json
import math
import os
import pickle
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from chainrule.io import SUPPORTED_DTYPES, CheckpointError, load, save

safetensors_numpy = pytest.importorskip("safetensors.numpy")


# ----- helpers -------------------------------------------------------------------------


def assert_same(loaded, expected, where="root"):
    """Equal in value, type and structure; arrays and floats bit for bit (so nan == nan)."""
    if isinstance(expected, FakeTensor):
        expected = expected.data  # comes back as its plain array
    if isinstance(expected, np.ndarray):
        assert type(loaded) is np.ndarray, where
        assert loaded.dtype == expected.dtype.newbyteorder("="), where  # big-endian input comes back native
        assert loaded.shape == expected.shape, where
        assert loaded.tobytes() == expected.astype(loaded.dtype).tobytes(), where
        return
    if type(expected) in (dict, collections.OrderedDict):
        assert type(loaded) is dict, where
        # Same keys, same order, same key types (0 and "0" are different keys).
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in expected], where
        for key in expected:
            assert_same(loaded[key], expected[key], f"{where}[{key!r}]")
        return
    assert type(loaded) is type(expected), f"{where}: {type(loaded)} is not {type(expected)}"
    if isinstance(expected, (list, tuple)):
        assert len(loaded) == len(expected), where
        for i, (a, b) in enumerate(zip(loaded, expected)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(expected, np.generic):
        assert loaded.dtype == expected.dtype and loaded.tobytes() == expected.tobytes(), where
    elif isinstance(expected, float):
        # Bit for bit, so -0.0 differs from 0.0; any nan matches any nan.
        same_bits = struct.pack("<d", loaded) == struct.pack("<d", expected)
        assert same_bits or (math.isnan(loaded) and math.isnan(expected)), where
    else:
        assert loaded == expected, where


def round_trip(obj):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "checkpoint.safetensors")
        save(obj, path)
        return load(path)


def write_raw(path, tensors, document, checksum=True, extra_metadata=None):
    """Write a safetensors file by hand with any chainrule JSON: for files save() never writes."""
    text = document if isinstance(document, str) else json.dumps(document)
    metadata = {"chainrule": text}
    if checksum:
        metadata["chainrule.crc32"] = str(zlib.crc32(text.encode("utf-8")))
    metadata.update(extra_metadata or {})
    safetensors_numpy.save_file(tensors, str(path), metadata=metadata)


def crc(array):
    return zlib.crc32(np.ascontiguousarray(array).data)


def document(root):
    return {"format": "chainrule.checkpoint", "version": 1, "root": root}


class FakeTensor:
    """Stands in for chainrule.Tensor: anything with a `.data` ndarray is stored as that array."""

    def __init__(self, data):
        self.data = data


# ----- round trips ---------------------------------------------------------------------


def test_model_and_optimizer_state_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    model = collections.OrderedDict(
        [
            ("fc1.weight", rng.standard_normal((4, 3)).astype(np.float32)),
            ("fc1.bias", np.zeros(4, np.float32)),
            ("bn.num_batches_tracked", np.array(7, np.int64)),
        ]
    )
    optimizer = {
        "state": {
            0: {"step": 5, "momentum_buffer": rng.standard_normal((4, 3))},
            1: {"step": np.int64(5), "exp_avg": np.ones(4, np.float32)},
        },
        "param_groups": [
            {
                "lr": 0.1,
                "momentum": 0.9,
                "params": [0, 1],
                "nesterov": False,
                "betas": (0.9, 0.999),
                "weight_decay": 0.0,
                "foreach": None,
                "name": "all",
            }
        ],
    }
    checkpoint = {"model": model, "optimizer": optimizer, "epoch": 3, "history": {"loss": [2.5, 1.25, 0.1, 1e-300]}}

    save(checkpoint, tmp_path / "ckpt.safetensors")  # a pathlib.Path works as well as a str
    loaded = load(tmp_path / "ckpt.safetensors")

    assert_same(loaded, checkpoint)
    assert list(loaded["model"]) == ["fc1.weight", "fc1.bias", "bn.num_batches_tracked"]
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_int_and_str_keys_stay_apart():
    obj = {0: "int zero", "0": "str zero", -3: [], "": {}, 10**30: "big"}
    loaded = round_trip(obj)
    assert_same(loaded, obj)
    assert loaded[0] == "int zero" and loaded["0"] == "str zero"


def test_tuples_and_lists_stay_apart():
    obj = {"list": [1, 2], "tuple": (1, 2), "empty_list": [], "empty_tuple": (), "nested": [(), [()], ([],)]}
    assert_same(round_trip(obj), obj)


def test_python_scalars_round_trip():
    obj = [
        None,
        True,
        False,
        0,
        -1,
        2**80,
        1.0,
        -0.0,
        0.1,
        5e-324,
        1e308,
        float("nan"),
        float("inf"),
        float("-inf"),
        "",
        'héllo ☃ \x00 "quoted"',
    ]
    assert_same(round_trip(obj), obj)


@pytest.mark.parametrize("dtype", SUPPORTED_DTYPES)
def test_numpy_scalars_keep_their_dtype(dtype):
    value = np.ones((), dtype)[()]
    loaded = round_trip({"x": value})["x"]
    assert type(loaded) is type(value) and loaded.dtype == value.dtype and loaded == value


@pytest.mark.parametrize("dtype", SUPPORTED_DTYPES)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (1,), (2, 3), (2, 1, 4)])
def test_every_dtype_and_shape(dtype, shape):
    array = (np.arange(math.prod(shape)) % 3).astype(dtype).reshape(shape)
    assert_same(round_trip([array]), [array])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(
        dtype=st.sampled_from(SUPPORTED_DTYPES).flatmap(
            lambda name: st.sampled_from([np.dtype(name), np.dtype(name).newbyteorder(">")])
        ),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4),
    )
)
def test_arrays_round_trip_bit_exact(array):
    # Elements include nan, inf, -0.0 and subnormals; big-endian input comes back native.
    assert_same(round_trip({"a": array}), {"a": array})


def test_non_contiguous_arrays_are_stored_by_value():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    views = {
        "transpose": base.T,
        "strided": base[::2, 1::3],
        "fortran": np.asfortranarray(base),
        "reversed": base[::-1],
        "zero_d_view": base[1, 2, ...],
    }
    assert_same(round_trip(views), {k: np.array(v) for k, v in views.items()})


def test_tensor_like_objects_are_stored_as_their_array():
    weight = np.arange(6, dtype=np.float32).reshape(2, 3)
    loaded = round_trip({"w": FakeTensor(weight)})
    assert_same(loaded, {"w": weight})


def test_loaded_arrays_are_writable_copies(tmp_path):
    path = tmp_path / "ckpt"
    save({"w": np.zeros(3)}, path)
    first = load(path)["w"]
    first[0] = 1.0  # would fail on a read-only view of the file
    assert load(path)["w"][0] == 0.0


# Nested structures: Python scalars, arrays and NumPy scalars inside dicts, lists and tuples.
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    hnp.arrays(st.sampled_from(SUPPORTED_DTYPES), hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)),
    st.sampled_from(SUPPORTED_DTYPES).map(lambda name: np.ones((), name)[()]),
)
_keys = st.one_of(st.text(max_size=5), st.integers(min_value=-(2**63), max_value=2**63))
_nested = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(_keys, children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_nested)
def test_nested_structures_round_trip(obj):
    assert_same(round_trip(obj), obj)


# ----- what save refuses -----------------------------------------------------------------


def test_unsupported_value_names_its_path(tmp_path):
    checkpoint = {"optimizer": {"state": {0: {"x": {1, 2}}}}}
    with pytest.raises(TypeError) as error:
        save(checkpoint, tmp_path / "ckpt")
    assert str(error.value) == "save: cannot store value of type set at ['optimizer']['state'][0]['x']"


@pytest.mark.parametrize(
    "value",
    [
        lambda: 0,
        object(),
        {1, 2},
        frozenset(),
        b"bytes",
        1 + 2j,
        np.zeros(2, np.complex128),
        np.array(["a", "b"]),
        np.array([None], dtype=object),
        np.datetime64("2024-01-01"),
        np.complex128(1),
    ],
)
def test_unsupported_values_raise_type_error(tmp_path, value):
    with pytest.raises(TypeError, match=r"at \['a'\]\[1\]"):
        save({"a": [0, value]}, tmp_path / "ckpt")
    assert os.listdir(tmp_path) == []  # nothing written, not even a temp file


@pytest.mark.parametrize("key", [(1, 2), 1.5, None, True, np.int64(0), b"k"])
def test_dict_keys_must_be_str_or_int(tmp_path, key):
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        save({"model": {key: 1}}, tmp_path / "ckpt")


def test_circular_reference_is_refused(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match=r"circular reference at \['x'\]\[0\]"):
        save({"x": loop}, tmp_path / "ckpt")


def test_too_large_structure_is_refused_with_a_hint(tmp_path, monkeypatch):
    import chainrule.io

    monkeypatch.setattr(chainrule.io, "MAX_HEADER_BYTES", 1000)  # instead of building 100 MB of JSON
    with pytest.raises(ValueError, match="store long lists of numbers as NumPy arrays"):
        save({"loss": [0.1] * 1000}, tmp_path / "ckpt")
    assert os.listdir(tmp_path) == []


def test_same_object_twice_is_fine():
    shared = [1, 2]
    weight = np.ones(2)
    assert_same(
        round_trip({"a": shared, "b": shared, "w": weight, "v": weight}),
        {"a": shared, "b": shared, "w": weight, "v": weight},
    )


# ----- atomic writes -------------------------------------------------------------------


def test_failed_save_leaves_existing_checkpoint_untouched(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    save({"epoch": 1, "w": np.ones(3)}, path)
    before = path.read_bytes()

    with pytest.raises(TypeError):
        save({"epoch": 2, "w": np.zeros(3), "bad": {1}}, path)

    assert path.read_bytes() == before
    assert load(path)["epoch"] == 1
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_crash_while_writing_leaves_existing_checkpoint_untouched(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    save({"epoch": 1}, path)
    before = path.read_bytes()

    def crash_halfway(tensors, filename, metadata=None):
        with open(filename, "wb") as file:
            file.write(b"\x10\x00\x00\x00")  # a few bytes, then the process "dies"
        raise KeyboardInterrupt

    monkeypatch.setattr(safetensors_numpy, "save_file", crash_halfway)
    with pytest.raises(KeyboardInterrupt):
        save({"epoch": 2, "w": np.zeros(3)}, path)

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the temp file is cleaned up


def test_save_overwrites_with_the_permissions_of_an_ordinary_file(tmp_path):
    path = tmp_path / "ckpt"
    save({"epoch": 1}, path)
    save({"epoch": 2}, path)
    assert load(path) == {"epoch": 2}
    ordinary = tmp_path / "ordinary"
    ordinary.write_bytes(b"")  # created as open() creates files, under the current umask
    assert path.stat().st_mode == ordinary.stat().st_mode


# ----- what load refuses ---------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.safetensors"
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        load(path)


def test_directory_is_not_a_checkpoint(tmp_path):
    with pytest.raises(IsADirectoryError):
        load(tmp_path)


def test_truncated_file_is_refused_at_every_cut(tmp_path):
    good = tmp_path / "good"
    save({"model": {"w": np.arange(12, dtype=np.float32)}, "epoch": 3, "loss": [0.5]}, good)
    data = good.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for length in range(len(data)):
        cut.write_bytes(data[:length])
        with pytest.raises(CheckpointError, match="cut.safetensors"):
            load(cut)


def test_damaged_bytes_are_refused(tmp_path):
    good = tmp_path / "good"
    save({"w": np.arange(12, dtype=np.float32), "epoch": 3}, good)
    data = good.read_bytes()
    bad = tmp_path / "bad"
    # Flip one bit of each byte in turn: the length prefix, the safetensors header, the
    # chainrule JSON and the tensor data are all covered (the checksums catch the last two).
    for i in range(len(data)):
        damaged = bytearray(data)
        damaged[i] ^= 0x01
        bad.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError):
            load(bad)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.sampled_from([b"", b"\x10\x00\x00\x00\x00\x00\x00\x00"]))
def test_random_garbage_is_refused(garbage, prefix):
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "garbage.bin")
        with open(path, "wb") as file:
            file.write(prefix + garbage)
        with pytest.raises(CheckpointError, match="garbage.bin"):
            load(path)


class _Payload:
    """Unpickling this would create the marker file: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_file_is_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.pt"
    for protocol in range(0, pickle.HIGHEST_PROTOCOL + 1):
        path.write_bytes(pickle.dumps({"model": _Payload(str(marker))}, protocol=protocol))
        with pytest.raises(CheckpointError, match="model.pt"):
            load(path)
        assert not marker.exists()

    # The payload is real: plain pickle does run it.
    pickle.loads(path.read_bytes())["model"].close()
    assert marker.exists()


def test_huge_declared_header_is_refused(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(struct.pack("<Q", 2**62) + b'{"__metadata__":{}}')
    with pytest.raises(CheckpointError, match="declares a 4611686018427387904-byte header"):
        load(path)


def test_plain_safetensors_file_loads_as_a_dict_of_arrays(tmp_path):
    path = tmp_path / "weights.safetensors"
    safetensors_numpy.save_file({"w": np.ones(2, np.float32), "b": np.arange(3)}, str(path))
    loaded = load(path)
    assert sorted(loaded) == ["b", "w"] and loaded["w"].dtype == np.float32
    np.testing.assert_array_equal(loaded["b"], np.arange(3))
    loaded["w"][0] = 5  # a private, writable copy


def test_metadata_referring_to_a_missing_tensor(tmp_path):
    path = tmp_path / "tampered"
    w = np.ones(2, np.float32)
    root = {
        "type": "dict",
        "items": [
            ["w", {"type": "array", "tensor": "t0", "dtype": "float32", "shape": [2], "crc32": crc(w)}],
            ["v", {"type": "array", "tensor": "t7", "dtype": "float32", "shape": [2], "crc32": crc(w)}],
        ],
    }
    write_raw(path, {"t0": w}, document(root))
    with pytest.raises(CheckpointError, match="refers to tensor 't7', which is not in the file"):
        load(path)


def _array_node(name, array):
    return {"type": "array", "tensor": name, "dtype": array.dtype.name, "shape": list(array.shape), "crc32": crc(array)}


W = np.arange(4, dtype=np.float32)


@pytest.mark.parametrize(
    "text, tensors, message",
    [
        ("[1, 2]", {}, "not a JSON object"),
        ('"just a string"', {}, "not a JSON object"),
        ("{not json", {}, "not valid JSON"),
        (json.dumps({"format": "chainrule.checkpoint", "version": 99, "root": None}), {}, "version 99"),
        (json.dumps({"format": "pickle", "version": 1, "root": None}), {}, "has format 'pickle'"),
        (json.dumps({"format": "chainrule.checkpoint", "version": 1}), {}, "no 'root'"),
        (json.dumps(document({"type": "exec", "code": "print(1)"})), {}, "unknown node type 'exec'"),
        (json.dumps(document({"type": ["dict"], "items": []})), {}, "unknown node type"),
        (json.dumps(document({"type": "list", "items": {}})), {}, "items are not a list"),
        (json.dumps(document({"type": "list", "items": [], "extra": 1})), {}, "list node has fields"),
        (json.dumps(document({"type": "dict", "items": [[1.5, None]]})), {}, "is not a str or int"),
        (json.dumps(document({"type": "dict", "items": [["a", 1], ["a", 2]]})), {}, "appears twice"),
        (json.dumps(document({"type": "dict", "items": [["a"]]})), {}, "not a \\[key, value\\] pair"),
        (json.dumps(document({"type": "float", "value": "1e5"})), {}, "float node has value"),
        (json.dumps(document([1, 2])), {}, "got JSON list"),
        ('{"format": "chainrule.checkpoint", "version": 1, "root": NaN}', {}, "non-JSON constant NaN"),
        (
            json.dumps(document({"type": "list", "items": [_array_node("t0", W), _array_node("t0", W)]})),
            {"t0": W},
            "referred to twice",
        ),
        (json.dumps(document({"type": "list", "items": []})), {"t0": W}, "never refers to"),
        (json.dumps(document({**_array_node("t0", W), "shape": [2, 2]})), {"t0": W}, "but the metadata says"),
        (json.dumps(document({**_array_node("t0", W), "dtype": "int32"})), {"t0": W}, "but the metadata says"),
        (json.dumps(document({**_array_node("t0", W), "shape": "4"})), {"t0": W}, "not a list of integers"),
        (json.dumps(document({**_array_node("t0", W), "crc32": 0})), {"t0": W}, "does not match its checksum"),
        ("[" * 100_000 + "]" * 100_000, {}, "nested too deeply"),
    ],
)
def test_tampered_metadata_is_refused(tmp_path, text, tensors, message):
    path = tmp_path / "tampered"
    write_raw(path, tensors, text)
    with pytest.raises(CheckpointError, match=message):
        load(path)


def test_metadata_checksum_mismatch(tmp_path):
    path = tmp_path / "tampered"
    write_raw(path, {}, document(1), extra_metadata={"chainrule.crc32": "12345"})
    with pytest.raises(CheckpointError, match="metadata does not match its checksum"):
        load(path)


def test_unreadable_tensor_dtype_is_refused(tmp_path):
    # A hand-made file whose tensor has a dtype NumPy cannot represent (bfloat16).
    text = json.dumps(document({"type": "array", "tensor": "t0", "dtype": "bfloat16", "shape": [2], "crc32": 0}))
    header = json.dumps(
        {
            "__metadata__": {"chainrule": text, "chainrule.crc32": str(zlib.crc32(text.encode()))},
            "t0": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
        }
    ).encode()
    path = tmp_path / "bf16"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(4))
    with pytest.raises(CheckpointError, match="bf16"):
        load(path)


_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=4),
        st.sampled_from(["dict", "list", "tuple", "float", "array", "scalar", "t0", "nan", "float32"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.sampled_from(["type", "items", "tensor", "dtype", "shape", "value", "crc32"]), children, max_size=5
        ),
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_json)
def test_arbitrary_metadata_loads_or_raises_checkpoint_error(root):
    # Whatever JSON the metadata holds, load either returns a value or raises CheckpointError.
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "fuzz")
        write_raw(path, {"t0": np.array(1.0, np.float32)}, document(root))
        try:
            load(path)
        except CheckpointError:
            pass


# ----- without safetensors ---------------------------------------------------------------


def test_clear_import_error_without_safetensors(tmp_path, monkeypatch):
    # A None entry in sys.modules makes `import safetensors` raise ImportError.
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[extras\]'"):
        save({"a": 1}, tmp_path / "ckpt")
    with pytest.raises(ImportError, match="need the 'safetensors' package"):
        load(tmp_path / "ckpt")


# ----- bad files and bad runs (found by fuzzing) ---------------------------------------


def test_oversized_metadata_is_refused_before_it_is_parsed(tmp_path):
    import chainrule.io

    path = tmp_path / "amplifier"
    # Valid JSON with a valid checksum that json.loads would turn into a million lists (hundreds of MB).
    write_raw(path, {}, "[" + "[]," * ((chainrule.io.MAX_METADATA_BYTES + 3) // 3) + "[]]")
    tracemalloc.start()
    try:
        with pytest.raises(
            CheckpointError,
            match=r"holds \d+ bytes of metadata, more than any checkpoint save\(\) "
            r"writes \(limit 16777216\)",
        ):
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * chainrule.io.MAX_METADATA_BYTES  # the text itself, not the lists it describes


def test_save_refuses_what_load_would_refuse(tmp_path, monkeypatch):
    import chainrule.io

    monkeypatch.setattr(chainrule.io, "MAX_METADATA_BYTES", 1000)
    with pytest.raises(ValueError, match="limits: 1000 bytes of JSON"):
        save({"history": list(range(1000))}, tmp_path / "ckpt")


def test_a_write_error_from_safetensors_is_a_checkpoint_error(tmp_path, monkeypatch):
    import safetensors

    path = tmp_path / "ckpt.safetensors"
    save({"epoch": 1}, path)

    def full_disk(tensors, filename, metadata=None):
        raise safetensors.SafetensorError("Error while serializing: IoError(No space left on device (os error 28))")

    monkeypatch.setattr(safetensors_numpy, "save_file", full_disk)
    with pytest.raises(CheckpointError, match=r"save: could not write .*ckpt.safetensors.*No space left on device"):
        save({"epoch": 2}, path)
    assert load(path) == {"epoch": 1}
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


KILLED_SAVE = """
import os, signal, sys
import safetensors.numpy
from chainrule.io import save

def killed_while_writing(tensors, filename, metadata=None):
    with open(filename, "wb") as file:
        file.write(b"half a checkpoint")
    os.kill(os.getpid(), signal.SIGKILL)

safetensors.numpy.save_file = killed_while_writing
save({"epoch": 2}, sys.argv[1])
"""


def test_temp_files_of_killed_saves_are_removed_once_stale(tmp_path):
    import chainrule.io

    path = tmp_path / "ckpt.safetensors"
    save({"epoch": 1}, path)
    for _ in range(2):
        killed = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], env={**os.environ, "PATH": ""})
        assert killed.returncode == -signal.SIGKILL
    leftovers = sorted(tmp_path.glob(".ckpt.safetensors.*.tmp"))
    assert len(leftovers) == 2 and load(path) == {"epoch": 1}
    old = time.time() - chainrule.io.STALE_TEMP_SECONDS - 60
    os.utime(leftovers[0], (old, old))  # one killed long ago, one perhaps still being written
    unrelated = [
        tmp_path / ".other.safetensors.0123456789abcdef.tmp",
        tmp_path / ".ckpt.safetensors.notmine.tmp",
        tmp_path / ".ckpt.safetensors.0123456789abcdef.tmp.keep",
    ]
    for other in unrelated:
        other.write_bytes(b"x")
        os.utime(other, (old, old))

    save({"epoch": 3}, path)
    assert not leftovers[0].exists() and leftovers[1].exists()
    assert all(other.exists() for other in unrelated)
    assert load(path) == {"epoch": 3}


@pytest.mark.parametrize("mode", [0o600, 0o640])
def test_saving_over_a_checkpoint_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "private.safetensors"
    save({"epoch": 1}, path)
    os.chmod(path, mode)
    save({"epoch": 2}, path)
    assert stat.S_IMODE(path.stat().st_mode) == mode and load(path) == {"epoch": 2}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_named_pipe_is_refused_instead_of_waited_on(tmp_path):
    fifo = tmp_path / "pipe.safetensors"
    os.mkfifo(fifo)
    outcome = []

    def try_loading():
        try:
            load(fifo)
        except CheckpointError as error:
            outcome.append(str(error))

    reader = threading.Thread(target=try_loading, daemon=True)
    reader.start()
    reader.join(10)
    assert outcome and "is a named pipe (FIFO), not a regular file" in outcome[0]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="a character device")
def test_a_device_is_refused():
    with pytest.raises(CheckpointError, match="'/dev/null' is a character device, not a regular file"):
        load("/dev/null")


def test_saving_a_module_suggests_its_state_dict(tmp_path):
    from chainrule import nn

    with pytest.raises(
        TypeError,
        match=r"save: cannot store a Sequential itself at the top level; store its "
        r"state_dict\(\) instead, e\.g\. cr\.save\(model\.state_dict\(\), path\)",
    ):
        save(nn.Sequential(nn.Linear(2, 2)), tmp_path / "model")
    with pytest.raises(TypeError, match=r"cannot store a SGD itself at \['optimizer'\]"):
        from chainrule import optim

        save({"optimizer": optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)}, tmp_path / "model")


# ----- PyTorch's files ------------------------------------------------------------------------------


def test_pytorch_pickles_are_named_with_the_conversion_and_never_unpickled(tmp_path):
    import zipfile

    marker = tmp_path / "pwned"
    payload = pickle.dumps({"weight": _Payload(str(marker))}, protocol=2)
    archive = tmp_path / "model.pt"  # torch.save's format since PyTorch 1.6: a zip holding <name>/data.pkl
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model/data.pkl", payload)
        zf.writestr("model/version", "3\n")
    legacy = tmp_path / "legacy.pt"  # before: a pickle of PyTorch's magic number, then the object
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[:-1] + payload[2:])
    for path in (archive, legacy):
        with pytest.raises(CheckpointError) as error:
            load(path, map_location="cpu", weights_only=True)
        message = str(error.value)
        assert "is a PyTorch pickle (written by torch.save)" in message and path.name in message
        assert "save_file(model.state_dict(), 'model.safetensors')" in message
        assert not marker.exists()
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("readme.txt", "not a model")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load(other_zip)


def test_a_state_dict_pytorch_wrote_with_safetensors_loads_into_the_same_architecture(tmp_path):
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    import chainrule as cr
    from chainrule import nn

    def build(nn):
        return nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 5 * 5, 3),
            nn.LayerNorm(3),
        )

    torch.manual_seed(0)
    theirs = build(torch.nn)
    with torch.no_grad():
        theirs(torch.randn(8, 1, 5, 5))  # move the running statistics off their starting values
    theirs.eval()
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_file(theirs.state_dict(), str(path))
    state = cr.load(path)
    assert state.keys() == theirs.state_dict().keys()
    ours = build(nn)
    ours.load_state_dict(state)
    ours.eval()
    x = np.random.default_rng(0).normal(size=(2, 1, 5, 5)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(cr.tensor(x)).data, expected, rtol=1e-5, atol=1e-5)
    assert int(ours[1].num_batches_tracked) == 1
