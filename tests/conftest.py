import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI runs are reproducible: the same examples every time, no wall-clock deadlines.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: The real MNIST files on the project's machines (not needed by the library itself).
MNIST_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


@pytest.fixture
def mnist_dir():
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(f"real MNIST files not found at {MNIST_DIR}")
    return MNIST_DIR


@pytest.fixture
def mnist_dir_or_none():
    return MNIST_DIR if (MNIST_DIR / "train-images-idx3-ubyte.gz").exists() else None
