import functools
import hashlib
import http.server
import threading
from pathlib import Path

import numpy as np
import pytest

from chainrule.data import MNIST, DataLoader, TensorDataset, read_idx, write_idx
from chainrule.data.mnist import DEFAULT_BASE_URL, SHA256

REAL_MNIST = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mnist"
NAMES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def make_split(folder, prefix, n, seed, compress=True):
    """A tiny MNIST split: n random 28x28 uint8 images and labels 0..9."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    suffix = ".gz" if compress else ""
    write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, gzip=compress)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, gzip=compress)
    return images, labels


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server with a tiny MNIST (20 train, 10 test images) and its checksums."""
    served = tmp_path / "served"
    served.mkdir()
    train = make_split(served, "train", 20, seed=1)
    test = make_split(served, "t10k", 10, seed=2)
    checksums = {f"{name}.gz": sha256(served / f"{name}.gz") for name in NAMES}
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def do_GET(self):
            requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield {
            "url": f"http://127.0.0.1:{server.server_address[1]}/",
            "dir": served,
            "checksums": checksums,
            "requests": requests,
            "train": train,
            "test": test,
        }
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def download(root, mirror, **kwargs):
    kwargs.setdefault("checksums", mirror["checksums"])
    return MNIST(root, download=True, base_url=mirror["url"], timeout=5, **kwargs)


def test_download_verifies_and_reads(tmp_path, mirror):
    root = tmp_path / "mnist"  # created by download
    ds = download(root, mirror)
    assert sorted(p.name for p in root.iterdir()) == sorted(f"{n}.gz" for n in NAMES)
    assert len(mirror["requests"]) == 4
    images, labels = mirror["train"]
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)
    assert ds.labels.dtype == np.int64 and len(ds) == 20

    test = MNIST(root, train=False)
    np.testing.assert_array_equal(test.images, mirror["test"][0])


def test_present_files_are_not_downloaded_again(tmp_path, mirror):
    download(tmp_path, mirror)
    assert len(mirror["requests"]) == 4
    download(tmp_path, mirror, train=False)
    assert len(mirror["requests"]) == 4
    # A damaged local copy is replaced.
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"junk")
    download(tmp_path, mirror)
    assert mirror["requests"][4:] == ["/t10k-labels-idx1-ubyte.gz"]
    assert sha256(tmp_path / "t10k-labels-idx1-ubyte.gz") == mirror["checksums"]["t10k-labels-idx1-ubyte.gz"]


def test_corrupt_download_is_rejected_and_not_kept(tmp_path, mirror):
    good = mirror["dir"] / "train-labels-idx1-ubyte.gz"
    good.write_bytes(good.read_bytes()[:-5])  # the server now sends a damaged file
    root = tmp_path / "mnist"
    with pytest.raises(
        ValueError,
        match=r"checksum mismatch for http://127\.0\.0\.1:\d+/train-labels-idx1-ubyte\.gz: "
        r"expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}; the file was not kept",
    ):
        download(root, mirror)
    assert not (root / "train-labels-idx1-ubyte.gz").exists()
    assert not [p for p in root.iterdir() if p.name.endswith(".part")]  # no temporary left behind


def test_download_error_names_the_url(tmp_path, mirror):
    (mirror["dir"] / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(OSError, match=r"could not download http://127\.0\.0\.1:\d+/t10k-images-idx3-ubyte\.gz: .*404"):
        download(tmp_path, mirror)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_checksums_must_cover_every_file(tmp_path, mirror):
    with pytest.raises(ValueError, match="no SHA-256 for train-images-idx3-ubyte.gz"):
        download(tmp_path, mirror, checksums={})


def test_known_checksums_match_the_shared_copy():
    sums = REAL_MNIST / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip(f"no MNIST at {REAL_MNIST}")
    listed = dict(reversed(line.split()) for line in sums.read_text().splitlines() if line.strip())
    assert listed == SHA256


def test_missing_files_say_where_and_how(tmp_path):
    message = (
        rf"train-images-idx3-ubyte \(or train-images-idx3-ubyte\.gz\) not found in {tmp_path}\. "
        rf"Pass download=True .*{DEFAULT_BASE_URL}train-images-idx3-ubyte\.gz"
    )
    with pytest.raises(FileNotFoundError, match=message):
        MNIST(tmp_path)
    make_split(tmp_path, "train", 3, seed=0)
    with pytest.raises(FileNotFoundError, match=r"t10k-images-idx3-ubyte \(or"):
        MNIST(tmp_path, train=False)


def test_plain_and_gzip_files(tmp_path):
    images, labels = make_split(tmp_path, "t10k", 5, seed=3, compress=False)
    ds = MNIST(tmp_path, train=False)
    np.testing.assert_array_equal(ds.images, images)
    np.testing.assert_array_equal(ds.labels, labels)


def test_samples_and_arrays(tmp_path):
    images, labels = make_split(tmp_path, "train", 6, seed=4)
    ds = MNIST(tmp_path)
    image, label = ds[2]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    np.testing.assert_allclose(image[0], images[2] / 255, rtol=1e-6)
    assert label == labels[2] and isinstance(label, int)
    assert ds[-1][1] == labels[-1]
    with pytest.raises(TypeError):
        ds[1:3]

    X, y = ds.arrays()
    assert X.shape == (6, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0 <= X.min() and X.max() <= 1
    np.testing.assert_allclose(X[:, 0], images / 255, rtol=1e-6)
    X_flat, _ = ds.arrays(flatten=True)
    assert X_flat.shape == (6, 784)
    np.testing.assert_array_equal(X_flat, X.reshape(6, 784))
    y[:] = 0  # the arrays are the caller's own
    assert (ds.labels == labels).all()


def test_normalize(tmp_path):
    images, _ = make_split(tmp_path, "train", 4, seed=5)
    X, _ = MNIST(tmp_path, normalize=True).arrays()
    np.testing.assert_allclose(X[:, 0], (images / 255 - 0.1307) / 0.3081, rtol=1e-5, atol=1e-6)
    image, _ = MNIST(tmp_path, normalize=(0.5, 0.5))[0]
    np.testing.assert_allclose(image[0], images[0] / 255 * 2 - 1, rtol=1e-5, atol=1e-6)
    for bad in [(0.5, 0), (0.5,), "yes", 1.0]:
        with pytest.raises(ValueError, match="normalize must be False, True or .mean, std. with std > 0"):
            MNIST(tmp_path, normalize=bad)


def test_wrong_contents_are_rejected(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 27), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match=r"holds uint8 of shape \(3, 28, 27\); expected uint8 of shape \(N, 28, 28\)"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="has 3 images but .*train-labels-idx1-ubyte has 4 labels"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.int32))
    with pytest.raises(ValueError, match=r"holds int32 of shape \(3,\); expected uint8"):
        MNIST(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.array([1, 2, 12], np.uint8))
    with pytest.raises(ValueError, match="has a label 12; digits are 0..9"):
        MNIST(tmp_path)


def test_loader_over_mnist_arrays(tmp_path):
    pytest.importorskip("chainrule.tensor")
    make_split(tmp_path, "train", 20, seed=6)
    loader = DataLoader(TensorDataset(*MNIST(tmp_path).arrays(flatten=True)), batch_size=8, shuffle=True, seed=0)
    shapes = [(xb.shape, yb.shape) for xb, yb in loader]
    assert shapes == [((8, 784), (8,)), ((8, 784), (8,)), ((4, 784), (4,))]


@pytest.mark.skipif(not REAL_MNIST.is_dir(), reason=f"no MNIST at {REAL_MNIST}")
def test_real_mnist():
    train = MNIST(REAL_MNIST)
    assert train.images.shape == (60000, 28, 28) and train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    assert np.bincount(train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    test = MNIST(REAL_MNIST, train=False)
    assert test.images.shape == (10000, 28, 28)
    np.testing.assert_array_equal(test.labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    # The uncompressed train labels as published (their SHA-256 is in the folder's README).
    labels = read_idx(REAL_MNIST / "train-labels-idx1-ubyte.gz")
    header = bytes([0, 0, 8, 1]) + (60000).to_bytes(4, "big")
    assert hashlib.sha256(header + labels.tobytes()).hexdigest() == (
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
    )
