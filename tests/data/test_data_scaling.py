import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chainrule.data import MinMaxScaler, StandardScaler

matrices = st.tuples(st.sampled_from([np.float32, np.float64]), st.integers(1, 30), st.integers(1, 6)).flatmap(
    lambda spec: arrays(spec[0], spec[1:], elements=st.floats(-1e6, 1e6, width=np.finfo(spec[0]).bits))
)


def assert_round_trip(back, X):
    # Rounding errors scale with the magnitude of the data and the precision of its dtype.
    tolerance = 100 * np.finfo(X.dtype).eps * max(1.0, float(np.abs(X).max()))
    assert back.dtype == X.dtype
    np.testing.assert_allclose(back, X, rtol=0, atol=tolerance)


@given(X=matrices)
def test_standard_scaler_round_trip(X):
    scaler = StandardScaler().fit(X)
    assert_round_trip(scaler.inverse_transform(scaler.transform(X)), X)


@given(X=matrices)
def test_min_max_scaler_round_trip_and_range(X):
    scaler = MinMaxScaler(feature_range=(-1, 2)).fit(X)
    Z = scaler.transform(X)
    slack = 100 * np.finfo(X.dtype).eps
    assert Z.min() >= -1 - slack and Z.max() <= 2 + slack
    assert_round_trip(scaler.inverse_transform(Z), X)


def test_standard_scaler_statistics():
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, size=(500, 4)).astype(np.float32)
    scaler = StandardScaler()
    Z = scaler.fit_transform(X)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(scaler.mean_, X.astype(np.float64).mean(axis=0))
    np.testing.assert_allclose(scaler.scale_, X.astype(np.float64).std(axis=0))
    np.testing.assert_allclose(scaler.var_, scaler.scale_**2)
    assert scaler.n_features_in_ == 4 and scaler.n_samples_seen_ == 500


def test_standard_scaler_constant_feature_keeps_scale_one():
    X = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]], dtype=np.float32)
    scaler = StandardScaler().fit(X)
    assert scaler.scale_[1] == 1.0
    Z = scaler.transform(X)
    assert np.isfinite(Z).all()
    np.testing.assert_array_equal(Z[:, 1], 0)
    # 0.1 is not exact in binary: the float mean is not exactly 0.1, but the column is still constant.
    scaler = StandardScaler().fit(np.full((1000, 1), 0.1))
    assert scaler.scale_[0] == 1.0


def test_standard_scaler_with_mean_and_with_std_switches():
    X = np.array([[1.0], [3.0]])
    np.testing.assert_allclose(StandardScaler(with_mean=False).fit_transform(X), X / 1.0)
    np.testing.assert_allclose(StandardScaler(with_std=False).fit_transform(X), [[-1.0], [1.0]])
    scaler = StandardScaler(with_std=False).fit(X)
    assert scaler.scale_ is None
    np.testing.assert_allclose(scaler.inverse_transform([[0.0]]), [[2.0]])


def test_transform_uses_training_statistics_only():
    train = np.array([[0.0], [10.0]])
    test = np.array([[20.0]])
    scaler = MinMaxScaler().fit(train)
    np.testing.assert_allclose(scaler.transform(test), [[2.0]])  # outside the range, not clipped
    assert scaler.data_min_[0] == 0 and scaler.data_max_[0] == 10
    np.testing.assert_allclose(scaler.scale_, [0.1])
    np.testing.assert_allclose(scaler.min_, [0.0])


def test_min_max_constant_feature_maps_to_low_end():
    X = np.array([[4.0, 1.0], [4.0, 2.0]])
    Z = MinMaxScaler(feature_range=(-1, 1)).fit_transform(X)
    np.testing.assert_allclose(Z, [[-1, -1], [-1, 1]])


def test_dtypes_follow_the_input():
    X32 = np.arange(6, dtype=np.float32).reshape(3, 2)
    for scaler in (StandardScaler(), MinMaxScaler()):
        assert scaler.fit_transform(X32).dtype == np.float32
        assert scaler.inverse_transform(X32).dtype == np.float32
        assert scaler.fit_transform(np.arange(6).reshape(3, 2)).dtype == np.float64  # integers -> float64


def test_transform_does_not_modify_its_input():
    X = np.arange(6, dtype=np.float64).reshape(3, 2)
    before = X.copy()
    for scaler in (StandardScaler(), MinMaxScaler()):
        scaler.fit_transform(X)
        scaler.inverse_transform(X)
    np.testing.assert_array_equal(X, before)


def test_accepts_tensor_like_inputs():
    class FakeTensor:
        def __init__(self, data):
            self.data = data

    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    Z = StandardScaler().fit(FakeTensor(X)).transform(FakeTensor(X))
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float32


def test_accepts_real_tensors():
    Tensor = pytest.importorskip("chainrule.tensor").Tensor
    X = np.arange(6, dtype=np.float32).reshape(3, 2)
    Z = MinMaxScaler().fit_transform(Tensor(X))
    assert isinstance(Z, np.ndarray) and Z.dtype == np.float32


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
def test_used_before_fit(cls, method):
    with pytest.raises(RuntimeError, match=rf"^{cls.__name__}\.{method} called before fit; call fit\(X_train\) first$"):
        getattr(cls(), method)(np.zeros((2, 2)))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_width_mismatch_names_both_widths(cls):
    scaler = cls().fit(np.zeros((3, 4)))
    with pytest.raises(
        ValueError, match=rf"{cls.__name__}\.transform: X has 3 features, but {cls.__name__} was fitted on 4"
    ):
        scaler.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="X has 5 features, but .* fitted on 4"):
        scaler.inverse_transform(np.zeros((2, 5)))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_needs_two_dimensions(cls):
    with pytest.raises(
        ValueError, match=r"fit: expected a 2-d array \(samples x features\), got shape \(5,\); .*reshape\(-1, 1\)"
    ):
        cls().fit(np.zeros(5))
    with pytest.raises(ValueError, match=r"got shape \(2, 2, 2\)"):
        cls().fit(np.zeros((2, 2, 2)))
    scaler = cls().fit(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"transform: expected a 2-d array"):
        scaler.transform(np.zeros(2))


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_rejects_nan_and_infinity(cls):
    X = np.zeros((3, 3))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"fit: X contains NaN \(first at row 1, column 2"):
        cls().fit(X)
    scaler = cls().fit(np.zeros((3, 3)))
    X[1, 2] = np.inf
    with pytest.raises(ValueError, match="transform: X contains infinity"):
        scaler.transform(X)


@pytest.mark.parametrize("cls", [StandardScaler, MinMaxScaler])
def test_rejects_empty_and_non_numeric(cls):
    with pytest.raises(ValueError, match="X has 0 samples"):
        cls().fit(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="expected real numbers, got dtype <U1"):
        cls().fit(np.array([["a", "b"]]))


@pytest.mark.parametrize("bad", [(1, 1), (2, 0), (0,), "ab", None])
def test_min_max_bad_feature_range(bad):
    with pytest.raises(ValueError, match="feature_range must be \\(low, high\\) with low < high"):
        MinMaxScaler(feature_range=bad)
