"""Layer workloads: one network operation, forward and backward, at a training batch size.

* conv1d: F.conv1d of a (64, 64, 256) float32 batch with 64 filters of width 5, padding 2, and
  a bias (a 1-d CNN layer over audio or text features). NumPy: the padded sequence's windows
  copied into columns (one copy per kernel tap), one product for the batch, and backward as two
  products and the columns added back.
* conv_transpose2d: DCGAN's generator layer, (64, 128, 16, 16) to (64, 64, 32, 32): kernel 4,
  stride 2, padding 1, with a bias.
* interpolate_bilinear / interpolate_nearest: F.interpolate of a (32, 64, 32, 32) batch to
  64x64 (scale_factor 2, align_corners False), as a U-Net or FPN decoder upsamples;
  interpolate_bilinear_large: (8, 32, 128, 128) to 256x256, where each output's narrow band of
  input, not the whole side, must decide the cost.

Each call runs the forward, then backward with a fixed upstream gradient (the same array in
every implementation), and returns the input's and parameters' gradients, which the harness
compares between implementations. chainrule and PyTorch run the same expression through their
own ``nn.functional``.
"""

import numpy as np

from ..harness import Workload, import_torch


def arrays(shapes, seed=0):
    """float32 inputs of the given shapes (weights scaled down), and the upstream gradient of ``out_shape``."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape, dtype=np.float32) * (1 if i == 0 else 0.1) for i, shape in enumerate(shapes)]


def chainrule_layer(call, shapes, out_shape):
    import chainrule
    from chainrule.nn import functional as F

    inputs = [chainrule.tensor(a, requires_grad=True) for a in arrays(shapes)]
    upstream = arrays([out_shape], seed=1)[0]

    def run():
        for t in inputs:
            t.grad = None
        call(F, *inputs).backward(upstream)
        return [t.grad for t in inputs]

    return run


def torch_layer(call, shapes, out_shape):
    torch = import_torch()
    F = torch.nn.functional
    inputs = [torch.from_numpy(a).requires_grad_() for a in arrays(shapes)]
    upstream = torch.from_numpy(arrays([out_shape], seed=1)[0])

    def run():
        for t in inputs:
            t.grad = None
        call(F, *inputs).backward(upstream)
        return [t.grad.numpy() for t in inputs]

    return run


def layer(name, title, description, call, shapes, out_shape, numpy=None, rate="images/s"):
    implementations = {
        "chainrule": lambda: chainrule_layer(call, shapes, out_shape),
        "pytorch": lambda: torch_layer(call, shapes, out_shape),
    }
    if numpy is not None:
        implementations["numpy"] = lambda: numpy(shapes, out_shape)
    return Workload(
        name=name,
        title=title,
        unit="pass",
        count=1,
        description=description,
        implementations=implementations,
        targets={"pytorch": 2.0},
        memory=True,
        rtol=2e-3,
        rate=(rate, shapes[0][0]),
    )


# ----- conv1d ------------------------------------------------------------------------------
CONV1D = dict(shapes=[(64, 64, 256), (64, 64, 5), (64,)], out_shape=(64, 64, 256), padding=2)


def numpy_conv1d(shapes, out_shape):
    """conv1d by hand: columns (C*k, L*N) from the padded sequence, one product forward, two backward."""
    x, w, b = arrays(shapes)
    upstream = arrays([out_shape], seed=1)[0]
    n, c, length = x.shape
    o, _, k = w.shape
    p = CONV1D["padding"]

    def run():
        padded = np.zeros((c, length + 2 * p, n), dtype=x.dtype)
        padded[:, p : p + length] = x.transpose(1, 2, 0)
        cols = np.empty((c, k, length, n), dtype=x.dtype)
        for j in range(k):
            cols[:, j] = padded[:, j : j + length]
        cols = cols.reshape(c * k, -1)
        _ = w.reshape(o, -1) @ cols + b[:, None]  # the forward, (O, L*N); backward needs only the columns
        g = np.ascontiguousarray(upstream.transpose(1, 2, 0)).reshape(o, -1)
        dw = (g @ cols.T).reshape(w.shape)
        db = g.sum(axis=1)
        dcols = (w.reshape(o, -1).T @ g).reshape(c, k, length, n)
        dpadded = np.zeros_like(padded)
        for j in range(k):
            dpadded[:, j : j + length] += dcols[:, j]
        return [dpadded[:, p : p + length].transpose(2, 0, 1), dw, db]

    return run


def conv1d(quick):
    return layer(
        "conv1d",
        "conv1d forward+backward, (64, 64, 256) float32, 64 filters of width 5",
        "F.conv1d(x, w, b, padding=2) with x (64, 64, 256), w (64, 64, 5), b (64,), float32, then backward with a "
        "fixed upstream gradient; gradients of x, w and b compared. NumPy: im2col (one copy per tap), one product, "
        "backward as two products and col2im. Rate: sequences per second.",
        lambda F, x, w, b: F.conv1d(x, w, b, padding=CONV1D["padding"]),
        CONV1D["shapes"],
        CONV1D["out_shape"],
        numpy=numpy_conv1d,
        rate="sequences/s",
    )


# ----- conv_transpose2d ----------------------------------------------------------------------
def conv_transpose2d(quick):
    return layer(
        "conv_transpose2d",
        "conv_transpose2d forward+backward, DCGAN layer 128->64 channels, 16x16 -> 32x32, batch 64",
        "F.conv_transpose2d(x, w, b, stride=2, padding=1) with x (64, 128, 16, 16), w (128, 64, 4, 4), b (64,), "
        "float32: output (64, 64, 32, 32); backward with a fixed upstream gradient; gradients of x, w and b "
        "compared. Rate: images per second.",
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
        [(64, 128, 16, 16), (128, 64, 4, 4), (64,)],
        (64, 64, 32, 32),
    )


# ----- interpolate ---------------------------------------------------------------------------
def interpolate(mode, shape=(32, 64, 32, 32), suffix=""):
    def workload(quick):
        options = dict(scale_factor=2, mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))
        out_shape = shape[:2] + (2 * shape[2], 2 * shape[3])
        return layer(
            f"interpolate_{mode}{suffix}",
            f"interpolate {mode} x2 forward+backward, {shape} float32",
            f"F.interpolate(x, scale_factor=2, mode={mode!r}{', align_corners=False' if mode == 'bilinear' else ''}) "
            f"of x {shape} float32 to {out_shape[2]}x{out_shape[3]}, then backward with a fixed upstream gradient; "
            "the gradient of x compared. Rate: images per second.",
            lambda F, x: F.interpolate(x, **options),
            [shape],
            out_shape,
        )

    workload.__name__ = f"interpolate_{mode}{suffix}"
    return workload


interpolate_bilinear = interpolate("bilinear")
interpolate_nearest = interpolate("nearest")
interpolate_bilinear_large = interpolate("bilinear", (8, 32, 128, 128), "_large")
