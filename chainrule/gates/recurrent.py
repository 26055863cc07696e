"""Recurrences as gates: one gate runs a whole sequence through an RNN, LSTM or GRU layer (one direction).

Backpropagation through time is the chain rule applied once per time step, from the last
step back to the first. Recorded step by step, a 1,000-step LSTM would be some 20,000 small
gates; here one gate per layer and direction does it all. Its forward projects the inputs of
every time step with one product (x_t W_ih^T for all t at once), then loops over time in NumPy,
keeping what its backward needs (the gate activations and cell states of every step); its
backward loops back over time in NumPy:

    forward, per step:   a_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
                         (h_t, c_t) = cell(a_t, h_{t-1}, c_{t-1})
    backward, per step:  da_t = dL/da_t from dL/dh_t (from above and from step t+1) and the cell's
                         local derivatives (their factors that do not depend on the loop computed for
                         every step at once beforehand);  dL/dh_{t-1} = da_t W_hh
    after the loop:      dL/dx = da W_ih, dW_ih = sum_t da_t^T x_t and dW_hh = sum_t da_t^T h_{t-1}:
                         one product each, for every step at once; db = the sum of da

Inside, states are columns, (hidden, batch), so that each gate's block of a step's (4H, N)
activations is contiguous, and the projected inputs are computed straight into that layout (no
transposing copy of a (T, N, 4H) array). Sigmoids are computed as 0.5 * tanh(x / 2) + 0.5 with
the halving folded into the weights, so that one tanh call activates every gate of a step.

``lengths`` (one per sequence, or None) let sequences end early: past its length a sequence's
state stops changing and its outputs are 0, as PyTorch's packed sequences give. In the reverse
direction each sequence starts at its own last step. These gates are once differentiable: their
backward is written for arrays (a second derivative through them raises, naming the gate).
"""

from __future__ import annotations

import numpy.typing as npt

from ..autograd import Gate
from ..backend import xp
from ..blas import one_thread
from ..types import Array


class Recurrence(Gate):
    """What the three recurrences share: the order of the steps, the masks of ended sequences, the input
    projection, the layouts, and the gradients of the inputs and weights.

    Inputs: ``x`` (T, N, I) (any strides: a batch-first input seen time-major is fine), ``w_ih`` (G, I),
    ``w_hh`` (G, H), ``b_ih`` and ``b_hh`` (G,) (zeros for a layer without biases), ``h0`` (N, H) and,
    for the LSTM, ``c0`` (N, H); G is H times the number of gates. Constants: ``reverse``, ``lengths``
    (an int array (N,) or None). Outputs: the output (T, N, H), h_n (N, H) and, for the LSTM, c_n.
    """

    once_differentiable = True
    fresh_gradients = True
    input_names: tuple[str, ...] = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0", "c0")
    reverse: bool
    lengths: Array | None
    #: Set by forward: the hidden size, the steps in the loop's order, which sequences still run at each step
    #: ((T, 1, N) booleans, or None when none ends early), the initial state as (H, N) columns, and the states.
    hidden: int
    order: range
    valid: Array | None
    h0: Array
    states: Array

    def _setup(self, x: Array, w_hh: Array) -> tuple[int, int]:
        steps, n = x.shape[:2]
        self.hidden = w_hh.shape[1]
        self.order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        self.valid = None  # (T, 1, N) booleans: which sequences are still running at each step
        if self.lengths is not None and (self.lengths < steps).any():
            self.valid = (xp.arange(steps)[:, None] < self.lengths[None, :])[:, None, :]
        return steps, n

    @staticmethod
    def _project(x: Array, w_ih: Array) -> Array:
        """x_t W_ih^T for every step, as (T, G, N) columns: one batched product, W_ih @ x_t^T."""
        projected: Array = xp.matmul(w_ih, x.transpose(0, 2, 1))
        return projected

    def _hold(self, new: Array, old: Array, t: int) -> None:
        """Where a sequence has ended (at step t), its state keeps its previous value."""
        if self.valid is not None:
            xp.copyto(new, old, where=~self.valid[t])

    def _outputs(self, states: Array) -> Array:
        """The (T, N, H) output: the states, 0 where a sequence has ended."""
        out = states.transpose(0, 2, 1).copy()
        if self.valid is not None:
            out *= self.valid.transpose(0, 2, 1)
        return out

    def _upstream(self, grad_out: Array | None) -> Array | None:
        """The output's gradient in the loops' layout, 0 where a sequence has ended (None if none came)."""
        if grad_out is None:
            return None
        columns = grad_out.transpose(0, 2, 1).copy()
        if self.valid is not None:
            columns *= self.valid
        return columns

    def _initial_gradient(self, grad: Array | None, n: int, dtype: npt.DTypeLike) -> Array:
        return xp.zeros((self.hidden, n), dtype=dtype) if grad is None else xp.array(grad.T, dtype=dtype, order="C")

    def _split_by_validity(self, t: int, *gradients: Array) -> list[Array] | None:
        """Before a step of the backward: the part of each state gradient that belongs to sequences already
        ended at step t (it passes straight to step t-1), with those columns zeroed in the gradients."""
        if self.valid is None:
            return None
        ended = ~self.valid[t]
        passed = [g * ended for g in gradients]
        for g in gradients:
            g *= self.valid[t]
        return passed

    def _previous(self, states: Array, initial: Array, t: int) -> Array:
        """The state before step t (in the direction of the loop)."""
        before = t + 1 if self.reverse else t - 1
        return initial if before < 0 or before >= len(states) else states[before]

    @staticmethod
    def _by_gate(d_steps: Array) -> Array:
        """Per-step gradients (T, G, N) as one (G, T*N) matrix, every step's columns side by side, so that a sum
        over the steps of products is one product (one copy, then BLAS on one large product instead of
        tensordot's transposing copies or T small products)."""
        steps, gates, n = d_steps.shape
        return xp.ascontiguousarray(d_steps.transpose(1, 0, 2)).reshape(gates, steps * n)

    def _previous_states(self, states: Array, h0_columns: Array) -> Array:
        """(H, T*N): the state each step started from, h_{t-1} (h0 for the first step in the loop's
        direction), in the layout of ``_by_gate``."""
        steps, hidden, n = states.shape
        previous = xp.empty((hidden, steps, n), dtype=states.dtype)
        if self.reverse:  # step t follows step t+1; the last step follows h0
            previous[:, -1] = h0_columns
            previous[:, :-1] = states[1:].transpose(1, 0, 2)
        else:
            previous[:, 0] = h0_columns
            previous[:, 1:] = states[:-1].transpose(1, 0, 2)
        return previous.reshape(hidden, steps * n)

    def _gradients(
        self,
        x: Array,
        w_ih: Array,
        d_pre: Array,
        d_hidden: Array,
        states: Array,
        dh: Array,
        dc: Array | None = None,
    ) -> tuple[Array | None, ...]:
        """Every input's gradient from the per-step gradients of the pre-activations, ``d_pre`` (T, G, N), and of
        W_hh h_{t-1} + b_hh, ``d_hidden`` (the same but for the GRU). Each weight's and the input's is one
        product over every step at once (``_by_gate``): dx = da W_ih, dW_ih = sum_t da_t^T x_t and
        dW_hh = sum_t da_t^T h_{t-1}; then the biases' sums and the initial states'."""
        steps, n = x.shape[:2]
        by_gate = self._by_gate(d_pre)
        same = d_hidden is d_pre  # the LSTM's and the RNN's: both biases get the same gradient
        hidden_by_gate = by_gate if same else self._by_gate(d_hidden)
        d_x = (by_gate.T @ w_ih).reshape(steps, n, -1) if self.wants(0) else None
        d_w_ih = by_gate @ xp.ascontiguousarray(x).reshape(steps * n, -1) if self.wants(1) else None
        d_w_hh = hidden_by_gate @ self._previous_states(states, self.h0).T if self.wants(2) else None
        d_b_ih = by_gate.sum(axis=1) if self.wants(3) else None
        if not self.wants(4):
            d_b_hh = None
        elif same and d_b_ih is not None:
            d_b_hh = d_b_ih.copy()
        else:
            d_b_hh = hidden_by_gate.sum(axis=1)
        grads = [d_x, d_w_ih, d_w_hh, d_b_ih, d_b_hh, dh.T.copy() if self.wants(5) else None]
        if dc is not None:
            grads.append(dc.T.copy() if self.wants(6) else None)
        return tuple(grads)


class LSTMRecurrence(Recurrence):
    """i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of a_t (PyTorch's gate order);
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)."""

    # Per step, back in time: dc_t = dh_t*o*(1-tanh(c_t)^2) + dc_{t+1}*f_{t+1};
    # da_t = [dc*g*i(1-i), dc*c_{t-1}*f(1-f), dc*i*(1-g^2), dh*tanh(c_t)*o(1-o)]; dh_{t-1} = da_t W_hh (+ above).
    derivative = (
        "d/dx_t lstm = da_t W_ih with da_t = [dc*g*i(1-i), dc*c_{t-1}*f(1-f), dc*i*(1-g^2), "
        "dh*tanh(c_t)*o(1-o)] and dc_t = dh_t*o*(1-tanh(c_t)^2) + dc_{t+1}*f_{t+1}; "
        "d/dW_ih lstm = sum_t da_t^T x_t; d/dW_hh lstm = sum_t da_t^T h_{t-1}; d/db_ih lstm = sum_t da_t; "
        "d/db_hh lstm = sum_t da_t; d/dh0 lstm = da_0 W_hh; d/dc0 lstm = dc_0*f_0"
    )
    #: Set by forward for backward: the activated gates (T, 4H, N), the cell states and their tanh (T, H, N),
    #: and the initial cell state as (H, N) columns.
    gates: Array
    cells: Array
    tanh_cells: Array
    c0: Array

    def forward(
        self,
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
        c0: Array,
    ) -> tuple[Array, Array, Array]:
        steps, n = self._setup(x, w_hh)
        h, dtype = self.hidden, w_hh.dtype
        half = xp.ones((4 * h, 1), dtype=dtype)  # sigmoid(a) = 0.5 tanh(a/2) + 0.5 for i, f and o
        half[: 2 * h] = half[3 * h :] = 0.5
        shift = (half != 1).astype(dtype) * 0.5
        gates = self._project(x, w_ih * half)  # (T, 4H, N): a_t (halved where a sigmoid follows), activated below
        gates += ((b_ih + b_hh) * half[:, 0])[:, None]
        weight = w_hh * half
        cells, tanh_cells, states = (xp.empty((steps, h, n), dtype=dtype) for _ in range(3))
        h_prev, c_prev = xp.ascontiguousarray(h0.T), xp.ascontiguousarray(c0.T)
        self.h0, self.c0 = h_prev, c_prev
        product = xp.empty((4 * h, n), dtype=dtype)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in self.order:
                a = gates[t]
                xp.matmul(weight, h_prev, out=product)
                a += product
                xp.tanh(a, out=a)
                a *= half
                a += shift
                i, f, g, o = a[:h], a[h : 2 * h], a[2 * h : 3 * h], a[3 * h :]
                c = cells[t]
                xp.multiply(f, c_prev, out=c)
                xp.multiply(i, g, out=product[:h])
                c += product[:h]
                self._hold(c, c_prev, t)
                xp.tanh(c, out=tanh_cells[t])
                h_new = states[t]
                xp.multiply(o, tanh_cells[t], out=h_new)
                self._hold(h_new, h_prev, t)
                h_prev, c_prev = h_new, c
        self.gates, self.cells, self.tanh_cells, self.states = gates, cells, tanh_cells, states
        return self._outputs(states), h_prev.T.copy(), c_prev.T.copy()

    def backward(
        self,
        grads: tuple[Array | None, ...],
        outs: tuple[Array | None, ...],
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
        c0: Array,
    ) -> tuple[Array | None, ...]:
        grad_out, grad_h, grad_c = grads
        h, n, dtype = self.hidden, x.shape[1], w_hh.dtype
        gates, cells, tanh_cells, states = self.gates, self.cells, self.tanh_cells, self.states
        upstream = self._upstream(grad_out)
        dh, dc = self._initial_gradient(grad_h, n, dtype), self._initial_gradient(grad_c, n, dtype)
        # Every factor of da_t that does not depend on the loop, for every step at once:
        # da = [dc * g*i(1-i), dc * c_{t-1}*f(1-f), dc * i*(1-g^2), dh * tanh(c_t)*o(1-o)].
        d_pre = 1 - gates
        d_pre *= gates  # s(1-s) for the sigmoids ...
        i_all, g_all = gates[:, :h], gates[:, 2 * h : 3 * h]
        xp.multiply(g_all, g_all, out=d_pre[:, 2 * h : 3 * h])
        xp.subtract(1, d_pre[:, 2 * h : 3 * h], out=d_pre[:, 2 * h : 3 * h])  # ... and 1-g^2 for g
        d_pre[:, :h] *= g_all
        d_pre[:, 2 * h : 3 * h] *= i_all
        d_pre[:, 3 * h :] *= tanh_cells
        before, after = (slice(1, None), slice(None, -1)) if self.reverse else (slice(None, -1), slice(1, None))
        d_pre[after, h : 2 * h] *= cells[before]  # c_{t-1}: the cell state of the step before
        d_pre[-1 if self.reverse else 0, h : 2 * h] *= self.c0
        through_tanh = tanh_cells * tanh_cells
        xp.subtract(1, through_tanh, out=through_tanh)
        through_tanh *= gates[:, 3 * h :]  # dc_t gets dh_t * o * (1 - tanh(c_t)^2)
        scratch = xp.empty((h, n), dtype=dtype)
        w_t = w_hh.T
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh, dc)
                xp.multiply(dh, through_tanh[t], out=scratch)
                dc += scratch  # dL/dc_t: through h_t, and from step t+1
                da = d_pre[t]
                i_f_g = da[: 3 * h].reshape(3, h, n)
                i_f_g *= dc  # i, f and g: dc times their factors
                da[3 * h :] *= dh  # o: dh times its factor
                dc *= gates[t, h : 2 * h]  # dL/dc_{t-1} = dc * f
                xp.matmul(w_t, da, out=dh)  # dL/dh_{t-1} = da W_hh
                if passed is not None:
                    dh += passed[0]
                    dc += passed[1]
        return self._gradients(x, w_ih, d_pre, d_pre, states, dh, dc)


class GRURecurrence(Recurrence):
    """r, z = sigmoid(x W_i{r,z}^T + b_i{r,z} + h W_h{r,z}^T + b_h{r,z});
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn));  h_t = (1 - z) * n + z * h_{t-1} (PyTorch's order r, z, n)."""

    derivative = (
        "d/dx_t gru = da_t W_ih with da_t = [da_n*(W_hn h+b_hn)*r(1-r), dh*(h_{t-1}-n)*z(1-z), da_n], "
        "da_n = dh*(1-z)*(1-n^2) and dh_{t-1} = dh*z + [da_r, da_z, da_n*r] W_hh; "
        "d/dW_ih gru = sum_t da_t^T x_t; d/dW_hh gru = sum_t [da_r, da_z, da_n*r]^T h_{t-1}; "
        "d/db_ih gru = sum_t da_t; d/db_hh gru = sum_t [da_r, da_z, da_n*r]; "
        "d/dh0 gru = the dh_{t-1} of the first step"
    )
    input_names = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0")
    #: Set by forward for backward: the reset and update gates (T, 2H, N), the candidate states n and
    #: W_hn h + b_hn (T, H, N).
    reset_update: Array
    new: Array
    hidden_new: Array

    def forward(
        self,
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
    ) -> tuple[Array, Array]:
        steps, n = self._setup(x, w_hh)
        h, dtype = self.hidden, w_hh.dtype
        half = xp.ones((3 * h, 1), dtype=dtype)  # sigmoid(a) = 0.5 tanh(a/2) + 0.5 for r and z
        half[: 2 * h] = 0.5
        inputs = self._project(x, w_ih * half)  # (T, 3H, N)
        bias = b_ih.copy()
        bias[: 2 * h] += b_hh[: 2 * h]  # b_hr and b_hz add like the input biases; b_hn sits inside r * (...)
        inputs += (bias * half[:, 0])[:, None]
        weight = w_hh * half
        b_n = b_hh[2 * h :, None]
        reset_update, new, hidden_new, states = (xp.empty((steps, k * h, n), dtype=dtype) for k in (2, 1, 1, 1))
        h_prev = self.h0 = xp.ascontiguousarray(h0.T)
        product = xp.empty((3 * h, n), dtype=dtype)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in self.order:
                xp.matmul(weight, h_prev, out=product)
                rz = reset_update[t]
                xp.add(inputs[t, : 2 * h], product[: 2 * h], out=rz)
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                hn = hidden_new[t]
                xp.add(product[2 * h :], b_n, out=hn)
                candidate = new[t]
                xp.multiply(rz[:h], hn, out=candidate)
                candidate += inputs[t, 2 * h :]
                xp.tanh(candidate, out=candidate)
                h_new = states[t]
                xp.subtract(h_prev, candidate, out=h_new)
                h_new *= rz[h:]
                h_new += candidate
                self._hold(h_new, h_prev, t)
                h_prev = h_new
        self.reset_update, self.new, self.hidden_new, self.states = reset_update, new, hidden_new, states
        return self._outputs(states), h_prev.T.copy()

    def backward(
        self,
        grads: tuple[Array | None, ...],
        outs: tuple[Array | None, ...],
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
    ) -> tuple[Array | None, ...]:
        grad_out, grad_h = grads
        h, n, dtype = self.hidden, x.shape[1], w_hh.dtype
        rz, new, hidden_new, states = self.reset_update, self.new, self.hidden_new, self.states
        upstream = self._upstream(grad_out)
        dh = self._initial_gradient(grad_h, n, dtype)
        # Local derivatives of every step at once.
        d_rz = 1 - rz
        d_rz *= rz  # r(1-r), z(1-z)
        d_rz[:, :h] *= hidden_new  # r(1-r) * (W_hn h + b_hn): da_r = da_n * this
        d_new = 1 - new * new
        d_new *= 1 - rz[:, h:]  # da_n = dh * (1-z) * (1-n^2)
        d_pre = xp.empty((len(states), 3 * h, n), dtype=dtype)
        step_hidden = xp.empty((3 * h, n), dtype=dtype)  # this step's gradient of W_hh h_{t-1} + b_hh
        difference = xp.empty((h, n), dtype=dtype)
        w_t = w_hh.T
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh)
                h_prev = self._previous(states, self.h0, t)
                da = d_pre[t]
                xp.multiply(dh, d_new[t], out=da[2 * h :])  # da_n
                xp.multiply(da[2 * h :], d_rz[t, :h], out=da[:h])  # da_r
                xp.subtract(h_prev, new[t], out=difference)
                difference *= dh
                xp.multiply(difference, d_rz[t, h:], out=da[h : 2 * h])  # da_z
                step_hidden[: 2 * h] = da[: 2 * h]
                xp.multiply(da[2 * h :], rz[t, :h], out=step_hidden[2 * h :])  # W_hn h + b_hn gets da_n * r
                dh *= rz[t, h:]  # straight through: h_t = ... + z * h_{t-1}
                dh += w_t @ step_hidden
                if passed is not None:
                    dh += passed[0]
        d_hidden = d_pre.copy()
        d_hidden[:, 2 * h :] *= rz[:, :h]  # every step's gradient of W_hh h_{t-1} + b_hh
        return self._gradients(x, w_ih, d_pre, d_hidden, states, dh)


class RNNRecurrence(Recurrence):
    """h_t = tanh(a_t) (or relu(a_t) with ``nonlinearity="relu"``)."""

    derivative = (
        "d/dx_t rnn = da_t W_ih with da_t = dh_t*(1-h_t^2) (tanh) or dh_t*[h_t>0] (relu) and "
        "dh_{t-1} = da_t W_hh + (from above); d/dW_ih rnn = sum_t da_t^T x_t; "
        "d/dW_hh rnn = sum_t da_t^T h_{t-1}; d/db_ih rnn = sum_t da_t; d/db_hh rnn = sum_t da_t; "
        "d/dh0 rnn = da_0 W_hh"
    )
    input_names = ("x", "w_ih", "w_hh", "b_ih", "b_hh", "h0")
    #: "tanh" or "relu".
    nonlinearity: str

    def forward(
        self,
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
    ) -> tuple[Array, Array]:
        self._setup(x, w_hh)
        states = self._project(x, w_ih)  # (T, H, N): a_t, activated in place
        states += (b_ih + b_hh)[:, None]
        h_prev = self.h0 = xp.ascontiguousarray(h0.T)
        product = xp.empty_like(h_prev)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in self.order:
                xp.matmul(w_hh, h_prev, out=product)
                a = states[t]
                a += product
                if self.nonlinearity == "tanh":
                    xp.tanh(a, out=a)
                else:
                    xp.maximum(a, 0, out=a)
                self._hold(a, h_prev, t)
                h_prev = a
        self.states = states
        return self._outputs(states), h_prev.T.copy()

    def backward(
        self,
        grads: tuple[Array | None, ...],
        outs: tuple[Array | None, ...],
        x: Array,
        w_ih: Array,
        w_hh: Array,
        b_ih: Array,
        b_hh: Array,
        h0: Array,
    ) -> tuple[Array | None, ...]:
        grad_out, grad_h = grads
        states, dtype = self.states, w_hh.dtype

        upstream = self._upstream(grad_out)
        dh = self._initial_gradient(grad_h, x.shape[1], dtype)
        if self.nonlinearity == "tanh":
            d_pre = 1 - states * states
        else:
            d_pre = (states > 0).astype(dtype)
        w_t = w_hh.T
        with one_thread():  # small products in a loop: waking BLAS's threads costs more than they save
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh)
                da = d_pre[t]
                da *= dh
                xp.matmul(w_t, da, out=dh)
                if passed is not None:
                    dh += passed[0]
        return self._gradients(x, w_ih, d_pre, d_pre, states, dh)


RECURRENCES = {"LSTM": LSTMRecurrence, "GRU": GRURecurrence, "RNN_TANH": RNNRecurrence, "RNN_RELU": RNNRecurrence}

__all__ = ["Recurrence", "LSTMRecurrence", "GRURecurrence", "RNNRecurrence", "RECURRENCES"]
