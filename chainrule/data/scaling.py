"""Feature scaling learned on training data: StandardScaler and MinMaxScaler (sklearn's names and attributes).

Fit on the training set only, then transform train, validation and test with the same
numbers, so no information from held-out data leaks into training.
"""

from typing import TYPE_CHECKING, Self

import numpy as np
import numpy.typing as npt

from ..keywords import CheckedKeywords
from ..types import Array, TensorLike
from .dataset import as_array


class _Scaler(CheckedKeywords):
    """Shared checks: 2-d numeric data, no NaN/inf, fitted before use, the fitted width."""

    n_features_in_: int | None = None
    n_samples_seen_: int

    if TYPE_CHECKING:

        def fit(self, X: TensorLike) -> Self: ...

        def transform(self, X: TensorLike) -> Array: ...

    def _check(self, X: TensorLike, method: str) -> Array:
        where = f"{type(self).__name__}.{method}"
        X = as_array(X)
        if X.ndim != 2:
            hint = "; for a single feature use X.reshape(-1, 1)" if X.ndim == 1 else ""
            raise ValueError(f"{where}: expected a 2-d array (samples x features), got shape {X.shape}{hint}")
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_) or np.issubdtype(X.dtype, np.complexfloating):
            raise TypeError(f"{where}: expected real numbers, got dtype {X.dtype}")
        # Floats keep their precision; integers and booleans become float64.
        dtype = X.dtype if np.issubdtype(X.dtype, np.floating) else np.float64
        X = X.astype(dtype, copy=False)
        if method != "fit":
            if self.n_features_in_ is None:
                raise RuntimeError(f"{where} called before fit; call fit(X_train) first")
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"{where}: X has {X.shape[1]} features, but {type(self).__name__} was fitted on "
                    f"{self.n_features_in_} features"
                )
        elif len(X) == 0:
            raise ValueError(f"{where}: X has 0 samples; need at least one to fit")
        bad = ~np.isfinite(X)
        if bad.any():
            rows, cols = np.nonzero(bad)
            kind = "NaN" if np.isnan(X[rows[0], cols[0]]) else "infinity"
            raise ValueError(
                f"{where}: X contains {kind} (first at row {rows[0]}, column {cols[0]}; {len(rows)} non-finite "
                f"values in all); fill or drop missing values first"
            )
        return X

    def fit_transform(self, X: TensorLike) -> Array:
        return self.fit(X).transform(X)


class StandardScaler(_Scaler):
    """Shift each feature to mean 0 and scale it to standard deviation 1: ``(X - mean_) / scale_``.

    ``mean_`` and ``var_`` are per feature (population variance, ddof=0); ``scale_`` is the
    standard deviation, except 1 for a constant feature, which would otherwise divide by 0
    (it maps to 0). ``with_mean=False`` skips the shift (keeps sparse-like zeros),
    ``with_std=False`` the scaling (``scale_`` is then None). Statistics are computed in
    float64; results have the input's float dtype (float64 for integer input).
    """

    mean_: npt.NDArray[np.float64] | None
    var_: npt.NDArray[np.float64] | None
    scale_: npt.NDArray[np.float64] | None

    def __init__(self, with_mean: bool = True, with_std: bool = True) -> None:
        self.with_mean = with_mean
        self.with_std = with_std
        self.mean_ = self.var_ = self.scale_ = None

    def fit(self, X: TensorLike) -> Self:
        """Learn each feature's mean and standard deviation from ``X`` (samples, features); returns the scaler."""
        X = self._check(X, "fit")
        X64 = X.astype(np.float64, copy=False)
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        self.mean_ = X64.mean(axis=0)
        self.var_ = X64.var(axis=0)
        if self.with_std:
            std = np.sqrt(self.var_)
            # Constant columns get scale 1. Test max == min because rounding can leave var_ tiny, not 0;
            # a spread below the dtype's smallest normal number is rounding noise and would overflow.
            constant = (X.max(axis=0) == X.min(axis=0)) | (std < np.finfo(X.dtype).tiny)
            self.scale_ = np.where(constant, 1.0, std)
        else:
            self.scale_ = None
        return self

    def transform(self, X: TensorLike) -> Array:
        """``X`` with the fitted mean subtracted and divided by the fitted standard deviation, per feature."""
        X = self._check(X, "transform")
        out = X.copy()
        if self.with_mean:
            assert self.mean_ is not None  # set by fit, which _check has made sure ran
            out -= self.mean_.astype(X.dtype)
        if self.with_std:
            assert self.scale_ is not None
            out /= self.scale_.astype(X.dtype)
        return out

    def inverse_transform(self, X: TensorLike) -> Array:
        """Undo ``transform``: scaled data back in the original units."""
        X = self._check(X, "inverse_transform")
        out = X.copy()
        if self.with_std:
            assert self.scale_ is not None  # set by fit, which _check has made sure ran
            out *= self.scale_.astype(X.dtype)
        if self.with_mean:
            assert self.mean_ is not None
            out += self.mean_.astype(X.dtype)
        return out

    def __repr__(self) -> str:
        return f"StandardScaler(with_mean={self.with_mean}, with_std={self.with_std})"


class MinMaxScaler(_Scaler):
    """Map each feature's training range [data_min_, data_max_] linearly onto ``feature_range``.

    ``transform(X) = X * scale_ + min_``. A constant feature (zero range) maps to the low
    end of ``feature_range``. Values outside the training range land outside
    ``feature_range``; that is expected for new data, not clipped.
    """

    data_min_: npt.NDArray[np.float64] | None
    data_max_: npt.NDArray[np.float64] | None
    data_range_: npt.NDArray[np.float64] | None
    scale_: npt.NDArray[np.float64] | None
    min_: npt.NDArray[np.float64] | None

    def __init__(self, feature_range: tuple[float, float] = (0, 1)) -> None:
        try:
            low, high = feature_range
            valid = float(low) < float(high)
        except (TypeError, ValueError):
            valid = False
        if not valid:
            raise ValueError(f"MinMaxScaler: feature_range must be (low, high) with low < high, got {feature_range!r}")
        self.feature_range = (float(low), float(high))
        self.data_min_ = self.data_max_ = self.data_range_ = self.scale_ = self.min_ = None

    def fit(self, X: TensorLike) -> Self:
        """Learn each feature's minimum and maximum from ``X`` (samples, features); returns the scaler."""
        X = self._check(X, "fit")
        X64 = X.astype(np.float64, copy=False)
        low, high = self.feature_range
        self.n_features_in_ = X.shape[1]
        self.n_samples_seen_ = X.shape[0]
        self.data_min_ = X64.min(axis=0)
        self.data_max_ = X64.max(axis=0)
        self.data_range_ = self.data_max_ - self.data_min_
        # A zero range would divide by 0, a subnormal one (rounding noise) overflow: treat such features
        # as constant, with range 1, which maps them to `low` (as sklearn does).
        with np.errstate(divide="ignore", over="ignore"):
            overflows = ~np.isfinite(((high - low) / self.data_range_).astype(X.dtype))
        constant = (self.data_range_ < np.finfo(X.dtype).tiny) | overflows
        self.scale_ = (high - low) / np.where(constant, 1.0, self.data_range_)
        self.min_ = low - self.data_min_ * self.scale_
        return self

    # X * scale_ + min_ in exact arithmetic; subtracting data_min_ first avoids cancelling
    # two large numbers when the range is small next to the values.
    def transform(self, X: TensorLike) -> Array:
        """``X`` mapped feature by feature so the fitted range becomes ``feature_range``."""
        X = self._check(X, "transform")
        assert self.data_min_ is not None and self.scale_ is not None  # set by fit, which _check has made sure ran
        out: Array = X - self.data_min_.astype(X.dtype)
        out *= self.scale_.astype(X.dtype)
        out += X.dtype.type(self.feature_range[0])
        return out

    def inverse_transform(self, X: TensorLike) -> Array:
        """Undo ``transform``: scaled data back in the original units."""
        X = self._check(X, "inverse_transform")
        assert self.data_min_ is not None and self.scale_ is not None  # set by fit, which _check has made sure ran
        out: Array = X - X.dtype.type(self.feature_range[0])
        out /= self.scale_.astype(X.dtype)
        out += self.data_min_.astype(X.dtype)
        return out

    def __repr__(self) -> str:
        return f"MinMaxScaler(feature_range={self.feature_range})"
