import gzip
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from chainrule.data import read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    array=st.sampled_from(DTYPES).flatmap(
        lambda dtype: arrays(dtype, array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5))
    ),
    compress=st.booleans(),
)
def test_round_trip(tmp_path, array, compress):
    path = tmp_path / "a.idx"
    write_idx(path, array, gzip=compress)
    back = read_idx(path)
    assert back.dtype == array.dtype and back.dtype.isnative
    assert back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    back[...] = 0  # the result is an ordinary writable array


def test_layout_is_big_endian(tmp_path):
    path = tmp_path / "x"
    write_idx(path, np.array([[1, 2, 3]], dtype=np.int16))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0B, 2])
    assert struct.unpack(">2I", raw[4:12]) == (1, 3)
    assert raw[12:] == b"\x00\x01\x00\x02\x00\x03"


def test_compression_is_detected_by_content_not_name(tmp_path):
    data = np.arange(10, dtype=np.uint8)
    gz_named_plain = tmp_path / "labels.gz"
    plain_named_gz = tmp_path / "labels-idx1-ubyte"
    write_idx(gz_named_plain, data, gzip=False)
    write_idx(plain_named_gz, data, gzip=True)
    np.testing.assert_array_equal(read_idx(gz_named_plain), data)
    np.testing.assert_array_equal(read_idx(plain_named_gz), data)
    assert plain_named_gz.read_bytes()[:2] == b"\x1f\x8b"


def _header(code, shape):
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.mark.parametrize("compress", [False, True])
def test_truncated_payload_names_file_sizes_and_shape(tmp_path, compress):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    content = _header(0x08, (60000, 28, 28)) + bytes(1000)
    path.write_bytes(gzip.compress(content) if compress else content)
    message = (
        r"train-images-idx3-ubyte\.gz: expected 47040000 bytes of data for shape \(60000, 28, 28\) \(uint8\), "
        r"found 1000$"
    )
    with pytest.raises(ValueError, match=message):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True])
def test_extra_payload_is_an_error(tmp_path, compress):
    path = tmp_path / "f"
    content = _header(0x0C, (2,)) + bytes(8 + 3)
    path.write_bytes(gzip.compress(content) if compress else content)
    found = "more" if compress else "11"  # a gzip stream is read one byte past the data, never to its end
    with pytest.raises(ValueError, match=rf"expected 8 bytes of data for shape \(2,\) \(int32\), found {found}$"):
        read_idx(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "too short for an IDX file .0 bytes"),
        (b"\x00\x00", "too short for an IDX file .2 bytes"),
        (b"\x01\x00\x08\x01" + bytes(8), "not an IDX file: it must start with two zero bytes, found 0x0100"),
        (b"\x00\x00\x07\x01" + bytes(8), "unknown IDX data type code 0x07 .known: 0x08 uint8"),
        (b"\x00\x00\x08\x00", "the IDX header says 0 dimensions; expected at least 1"),
        (b"\x00\x00\x08\x03" + bytes(5), r"the header promises 3 dimension sizes \(12 bytes\), found 5 bytes"),
    ],
)
def test_malformed_headers(tmp_path, content, message):
    path = tmp_path / "broken-idx"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=f"broken-idx: {message}"):
        read_idx(path)


def test_absurd_header_fails_without_allocating(tmp_path):
    path = tmp_path / "huge"
    path.write_bytes(_header(0x0E, (2**32 - 1, 2**32 - 1, 2**32 - 1)) + bytes(8))
    with pytest.raises(ValueError, match="huge: expected .* bytes of data"):
        read_idx(path)
    gz = tmp_path / "huge.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    with pytest.raises(ValueError, match="huge.gz: expected .* bytes of data .*, found 8$"):
        read_idx(gz)


def peak_bytes_while(function, *args):
    """The most memory (Python's and NumPy's allocations) in use at once while ``function`` runs."""
    tracemalloc.start()
    try:
        function(*args)
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_a_tiny_gzip_claiming_two_gigabytes_fails_fast_without_allocating_them(tmp_path):
    path = tmp_path / "claims-2GB.gz"
    path.write_bytes(gzip.compress(_header(0x08, (2000, 1000, 1000))))
    assert path.stat().st_size < 40

    def read():
        with pytest.raises(ValueError, match=r"claims-2GB.gz: expected 2000000000 bytes of data .*, found 0$"):
            read_idx(path)

    assert peak_bytes_while(read) < 4 * 2**20


def test_data_followed_by_a_flood_of_zeros_is_not_inflated_to_the_end(tmp_path):
    path = tmp_path / "padded.gz"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    parts = [compressor.compress(_header(0x08, (10, 10)) + bytes(100))]
    parts += [compressor.compress(bytes(2**20)) for _ in range(200)]  # 200 MiB of zeros, 200 KB compressed
    path.write_bytes(b"".join(parts) + compressor.flush())

    def read():
        with pytest.raises(ValueError, match=r"padded.gz: expected 100 bytes of data .*, found more$"):
            read_idx(path)

    assert peak_bytes_while(read) < 4 * 2**20


def test_a_gzip_file_is_not_held_twice_while_read(tmp_path):
    payload = np.arange(8_000_000, dtype=np.uint8).reshape(8000, 1000)
    path = tmp_path / "images.gz"
    write_idx(path, payload, gzip=True)
    assert peak_bytes_while(read_idx, path) < 1.3 * payload.nbytes
    assert np.array_equal(read_idx(path), payload)


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(_header(0x08, (100,)) + bytes(range(100)))
    truncated = tmp_path / "truncated.gz"
    truncated.write_bytes(good[: len(good) // 2])
    with pytest.raises(ValueError, match="truncated.gz: the gzip data is corrupt or truncated"):
        read_idx(truncated)
    garbled = tmp_path / "garbled.gz"
    garbled.write_bytes(good[:10] + bytes(len(good) - 10))
    with pytest.raises(ValueError, match="garbled.gz: the gzip data is corrupt or truncated"):
        read_idx(garbled)


def test_missing_file():
    with pytest.raises(FileNotFoundError):
        read_idx("/nonexistent/train-images-idx3-ubyte")


def test_write_rejects_what_idx_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="IDX cannot store dtype int64; supported: 0x08 uint8"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(ValueError, match=r"1 to 255 dimensions, got shape \(\)"):
        write_idx(tmp_path / "x", np.uint8(3))


def test_write_accepts_big_endian_input(tmp_path):
    array = np.arange(4, dtype=">f4")
    write_idx(tmp_path / "x", array)
    back = read_idx(tmp_path / "x")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, array)
