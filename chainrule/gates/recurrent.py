"""Recurrences as gates: one gate runs a whole sequence through an RNN, LSTM or GRU cell.

Backpropagation through time is the chain rule applied once per time step, from the last
step back to the first. Recorded step by step, a 1,000-step LSTM would be some 20,000 small
gates; here one gate per layer and direction loops over time in NumPy going forward, keeps
what its backward needs (the gate activations and cell states of every step), and loops back
over time in NumPy going backward. The input projection of every time step (x_t W_ih^T + b_ih)
is one product before the gate (``F.linear``), and so are the weight gradients after it:

    forward, per step:   a_t = xw_t + W_hh h_{t-1} (+ b_hh),  (h_t, c_t) = cell(a_t, h_{t-1}, c_{t-1})
    backward, per step:  da_t = dL/da_t from dL/dh_t (from above and from step t+1) and the cell's
                         local derivatives; dL/dh_{t-1} = W_hh^T da_t
    after the loop:      dL/dW_hh = sum_t da_t h_{t-1}^T (one product),  dL/dxw = da

Inside, the states are columns, (hidden, batch), so that each gate's block of the (4H, N)
activations is contiguous. Sigmoids are computed as 0.5 * tanh(x / 2) + 0.5 with the halving
folded into the weights, so that one tanh call activates every gate of a step.

``lengths`` (one per sequence, or None) let sequences end early: past its length a sequence's
state stops changing and its outputs are 0, as PyTorch's packed sequences give. In the reverse
direction each sequence starts at its own last step. These gates are once differentiable: their
backward is written for arrays (a second derivative through them raises, naming the gate).
"""

from __future__ import annotations

from ..autograd import Gate
from ..backend import xp
from ..blas import one_thread


class Recurrence(Gate):
    """What the three recurrences share: the order of the steps, the masks of ended sequences, moving
    between the (T, N, features) layout of the tensors and the (T, features, N) layout of the loops,
    and the gradients that are products over all time steps.

    Inputs: ``xw`` (T, N, G) (the projected inputs, b_ih included), ``w_hh`` (G, H), ``b_hh`` (G,) (zeros
    for a layer without biases), ``h0`` (N, H) and, for the LSTM, ``c0`` (N, H). Constants: ``reverse``, ``lengths``
    (an int array (N,) or None). Outputs: the output (T, N, H), h_n (N, H) and, for the LSTM, c_n.
    """

    once_differentiable = True
    fresh_gradients = True
    input_names = ("xw", "w_hh", "b_hh", "h0", "c0")

    def _setup(self, xw, w_hh):
        steps, n = xw.shape[:2]
        self.hidden = w_hh.shape[1]
        self.order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        self.valid = None  # (T, 1, N) booleans: which sequences are still running at each step
        if self.lengths is not None and (self.lengths < steps).any():
            self.valid = (xp.arange(steps)[:, None] < self.lengths[None, :])[:, None, :]
        return steps, n

    def _columns(self, array):
        """(T, N, F) -> a new (T, F, N) array (always a copy: the loops write into it)."""
        return array.transpose(0, 2, 1).copy()

    def _hold(self, new, old, t):
        """Where a sequence has ended (at step t), its state keeps its previous value."""
        if self.valid is not None:
            xp.copyto(new, old, where=~self.valid[t])

    def _outputs(self, states):
        """The (T, N, H) output: the states, 0 where a sequence has ended."""
        out = states.transpose(0, 2, 1).copy()
        if self.valid is not None:
            out *= self.valid.transpose(0, 2, 1)
        return out

    def _upstream(self, grad_out):
        """The output's gradient in the loops' layout, 0 where a sequence has ended (None if none came)."""
        if grad_out is None:
            return None
        columns = self._columns(grad_out)
        if self.valid is not None:
            columns *= self.valid
        return columns

    def _initial_gradient(self, grad, n, dtype):
        return xp.zeros((self.hidden, n), dtype=dtype) if grad is None else xp.array(grad.T, dtype=dtype, order="C")

    def _split_by_validity(self, t, *gradients):
        """Before a step of the backward: the part of each state gradient that belongs to sequences already
        ended at step t (it passes straight to step t-1), with those columns zeroed in the gradients."""
        if self.valid is None:
            return None
        ended = ~self.valid[t]
        passed = [g * ended for g in gradients]
        for g in gradients:
            g *= self.valid[t]
        return passed

    def _weight_gradient(self, d_pre, states, h0_columns):
        """sum_t da_t h_{t-1}^T over every step, with h_{-1} = h0, as two products."""
        if len(states) == 1:
            return d_pre[0] @ h0_columns.T
        if self.reverse:  # step t follows step t+1; the last step follows h0
            total = xp.tensordot(d_pre[:-1], states[1:], axes=([0, 2], [0, 2]))
            total += d_pre[-1] @ h0_columns.T
        else:
            total = xp.tensordot(d_pre[1:], states[:-1], axes=([0, 2], [0, 2]))
            total += d_pre[0] @ h0_columns.T
        return total

    def _previous(self, states, initial, t):
        """The state before step t (in the direction of the loop)."""
        before = t + 1 if self.reverse else t - 1
        return initial if before < 0 or before >= len(states) else states[before]


    def _gradients(self, d_pre, d_hidden, states, dh, dc=None):
        """The gradients of every input from the per-step gradients of the pre-activations: ``d_pre``
        (T, G, N) those of xw, ``d_hidden`` those of W_hh h_{t-1} + b_hh (the same but for the GRU)."""
        d_xw = d_pre.transpose(0, 2, 1).copy() if self.wants(0) else None
        d_w = self._weight_gradient(d_hidden, states, self.h0) if self.wants(1) else None
        d_b = d_hidden.sum(axis=(0, 2)) if self.wants(2) else None
        grads = [d_xw, d_w, d_b, dh.T.copy() if self.wants(3) else None]
        if dc is not None:
            grads.append(dc.T.copy() if self.wants(4) else None)
        return tuple(grads)


class LSTMRecurrence(Recurrence):
    """i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of a_t (PyTorch's gate order);
    c_t = f * c_{t-1} + i * g;  h_t = o * tanh(c_t)."""

    # Per step, back in time: dc_t = dh_t*o*(1-tanh(c_t)^2) + dc_{t+1}*f_{t+1};
    # da_t = [dc*g*i(1-i), dc*c_{t-1}*f(1-f), dc*i*(1-g^2), dh*tanh(c_t)*o(1-o)]; dh_{t-1} = W_hh^T da_t + (from above).
    derivative = ("d/dxw_t lstm = da_t = [dc*g*i(1-i), dc*c_{t-1}*f(1-f), dc*i*(1-g^2), dh*tanh(c_t)*o(1-o)] with "
                  "dc_t = dh_t*o*(1-tanh(c_t)^2) + dc_{t+1}*f_{t+1}; d/dW_hh lstm = sum_t da_t h_{t-1}^T; "
                  "d/db_hh lstm = sum_t da_t; d/dh0 lstm = W_hh^T da_0; d/dc0 lstm = dc_0*f_0")

    def forward(self, xw, w_hh, b_hh, h0, c0):
        steps, n = self._setup(xw, w_hh)
        h = self.hidden
        half = xp.ones((4 * h, 1), dtype=xw.dtype)  # sigmoid(x) = 0.5 tanh(x/2) + 0.5 for i, f and o
        half[:2 * h] = half[3 * h:] = 0.5
        shift = (half != 1).astype(xw.dtype) * 0.5
        gates = self._columns(xw + b_hh)  # (T, 4H, N), activated in place below
        gates *= half
        weight = w_hh * half
        cells, tanh_cells, states = (xp.empty((steps, h, n), dtype=xw.dtype) for _ in range(3))
        h_prev, c_prev = xp.ascontiguousarray(h0.T), xp.ascontiguousarray(c0.T)
        self.h0, self.c0 = h_prev, c_prev
        product = xp.empty((4 * h, n), dtype=xw.dtype)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
            for t in self.order:
                a = gates[t]
                xp.matmul(weight, h_prev, out=product)
                a += product
                xp.tanh(a, out=a)
                a *= half
                a += shift
                i, f, g, o = a[:h], a[h:2 * h], a[2 * h:3 * h], a[3 * h:]
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

    def backward(self, grads, outs, xw, w_hh, b_hh, h0, c0):
        grad_out, grad_h, grad_c = grads
        h, n, dtype = self.hidden, xw.shape[1], xw.dtype
        gates, cells, tanh_cells, states = self.gates, self.cells, self.tanh_cells, self.states
        upstream = self._upstream(grad_out)
        dh, dc = self._initial_gradient(grad_h, n, dtype), self._initial_gradient(grad_c, n, dtype)
        # Local derivatives of every step at once: s(1-s) for the sigmoids, 1-g^2 for g; o*(1-tanh(c)^2).
        d_pre = 1 - gates
        d_pre *= gates
        g_all = gates[:, 2 * h:3 * h]
        xp.multiply(g_all, g_all, out=d_pre[:, 2 * h:3 * h])
        xp.subtract(1, d_pre[:, 2 * h:3 * h], out=d_pre[:, 2 * h:3 * h])
        through_tanh = tanh_cells * tanh_cells
        xp.subtract(1, through_tanh, out=through_tanh)
        through_tanh *= gates[:, 3 * h:]
        upstream_gates = xp.empty((4 * h, n), dtype=dtype)
        w_t = w_hh.T
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh, dc)
                i, f, g = gates[t, :h], gates[t, h:2 * h], gates[t, 2 * h:3 * h]
                xp.multiply(dh, through_tanh[t], out=upstream_gates[:h])
                dc += upstream_gates[:h]  # dL/dc_t: through h_t, and from step t+1
                xp.multiply(dc, g, out=upstream_gates[:h])  # to i
                xp.multiply(dc, self._previous(cells, self.c0, t), out=upstream_gates[h:2 * h])  # to f
                xp.multiply(dc, i, out=upstream_gates[2 * h:3 * h])  # to g
                xp.multiply(dh, tanh_cells[t], out=upstream_gates[3 * h:])  # to o
                da = d_pre[t]
                da *= upstream_gates
                dc *= f
                xp.matmul(w_t, da, out=dh)
                if passed is not None:
                    dh += passed[0]
                    dc += passed[1]
        return self._gradients(d_pre, d_pre, states, dh, dc)

class GRURecurrence(Recurrence):
    """r, z = sigmoid(xw_r + W_hr h + b_hr), sigmoid(xw_z + W_hz h + b_hz);
    n = tanh(xw_n + r * (W_hn h + b_hn));  h_t = (1 - z) * n + z * h_{t-1} (PyTorch's order r, z, n)."""

    derivative = ("d/dxw_t gru = da_t = [da_n*(W_hn h+b_hn)*r(1-r), dh*(h_{t-1}-n)*z(1-z), da_n] with da_n = "
                  "dh*(1-z)*(1-n^2) and dh_{t-1} = dh*z + W_hh^T [da_r, da_z, da_n*r]; "
                  "d/dW_hh gru = sum_t [da_r, da_z, da_n*r] h_{t-1}^T; d/db_hh gru = sum_t [da_r, da_z, da_n*r]; "
                  "d/dh0 gru = the dh_{t-1} of the first step")
    input_names = ("xw", "w_hh", "b_hh", "h0")

    def forward(self, xw, w_hh, b_hh, h0):
        steps, n = self._setup(xw, w_hh)
        h = self.hidden
        inputs = self._columns(xw)  # (T, 3H, N)
        inputs[:, :2 * h] += b_hh[:2 * h, None]  # b_hr and b_hz add like the input biases; b_hn does not
        inputs[:, :2 * h] *= 0.5  # sigmoid(x) = 0.5 tanh(x/2) + 0.5
        weight = w_hh.copy()
        weight[:2 * h] *= 0.5
        b_n = b_hh[2 * h:, None]
        reset_update, new, hidden_new, states = (xp.empty((steps, k * h, n), dtype=xw.dtype) for k in (2, 1, 1, 1))
        h_prev = self.h0 = xp.ascontiguousarray(h0.T)
        product = xp.empty((3 * h, n), dtype=xw.dtype)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
            for t in self.order:
                xp.matmul(weight, h_prev, out=product)
                rz = reset_update[t]
                xp.add(inputs[t, :2 * h], product[:2 * h], out=rz)
                xp.tanh(rz, out=rz)
                rz *= 0.5
                rz += 0.5
                hn = hidden_new[t]
                xp.add(product[2 * h:], b_n, out=hn)
                candidate = new[t]
                xp.multiply(rz[:h], hn, out=candidate)
                candidate += inputs[t, 2 * h:]
                xp.tanh(candidate, out=candidate)
                h_new = states[t]
                xp.subtract(h_prev, candidate, out=h_new)
                h_new *= rz[h:]
                h_new += candidate
                self._hold(h_new, h_prev, t)
                h_prev = h_new
        self.reset_update, self.new, self.hidden_new, self.states = reset_update, new, hidden_new, states
        return self._outputs(states), h_prev.T.copy()

    def backward(self, grads, outs, xw, w_hh, b_hh, h0):
        grad_out, grad_h = grads
        h, n, dtype = self.hidden, xw.shape[1], xw.dtype
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
        d_hidden_n = xp.empty((h, n), dtype=dtype)
        difference = xp.empty((h, n), dtype=dtype)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh)
                da = d_pre[t]
                xp.multiply(dh, d_new[t], out=da[2 * h:])  # da_n
                xp.multiply(da[2 * h:], d_rz[t, :h], out=da[:h])  # da_r
                xp.subtract(self._previous(states, self.h0, t), new[t], out=difference)
                difference *= dh
                xp.multiply(difference, d_rz[t, h:], out=da[h:2 * h])  # da_z
                xp.multiply(da[2 * h:], rz[t, :h], out=d_hidden_n)
                dh *= rz[t, h:]  # straight through: h_t = ... + z * h_{t-1}
                dh += w_hh[:2 * h].T @ da[:2 * h]
                dh += w_hh[2 * h:].T @ d_hidden_n
                if passed is not None:
                    dh += passed[0]
        d_hidden = d_pre.copy()
        d_hidden[:, 2 * h:] *= rz[:, :h]  # the gradient of W_hn h + b_hn is da_n * r
        return self._gradients(d_pre, d_hidden, states, dh)


class RNNRecurrence(Recurrence):
    """h_t = tanh(a_t) (or relu(a_t) with ``nonlinearity="relu"``)."""

    derivative = ("d/dxw_t rnn = da_t = dh_t*(1-h_t^2) (tanh) or dh_t*[h_t>0] (relu), with dh_{t-1} = W_hh^T da_t "
                  "+ (from above); d/dW_hh rnn = sum_t da_t h_{t-1}^T; d/db_hh rnn = sum_t da_t; "
                  "d/dh0 rnn = W_hh^T da_0")
    input_names = ("xw", "w_hh", "b_hh", "h0")

    def forward(self, xw, w_hh, b_hh, h0):
        self._setup(xw, w_hh)
        states = self._columns(xw + b_hh)  # (T, H, N), activated in place
        h_prev = self.h0 = xp.ascontiguousarray(h0.T)
        product = xp.empty_like(h_prev)
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
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

    def backward(self, grads, outs, xw, w_hh, b_hh, h0):
        grad_out, grad_h = grads
        states = self.states
        upstream = self._upstream(grad_out)
        dh = self._initial_gradient(grad_h, xw.shape[1], xw.dtype)
        if self.nonlinearity == "tanh":
            d_pre = 1 - states * states
        else:
            d_pre = (states > 0).astype(xw.dtype)
        w_t = w_hh.T
        with one_thread():  # small products in a loop: waking BLAS's threads costs more
            for t in reversed(self.order):
                if upstream is not None:
                    dh += upstream[t]
                passed = self._split_by_validity(t, dh)
                da = d_pre[t]
                da *= dh
                xp.matmul(w_t, da, out=dh)
                if passed is not None:
                    dh += passed[0]
        return self._gradients(d_pre, d_pre, states, dh)


RECURRENCES = {"LSTM": LSTMRecurrence, "GRU": GRURecurrence, "RNN_TANH": RNNRecurrence, "RNN_RELU": RNNRecurrence}

__all__ = ["Recurrence", "LSTMRecurrence", "GRURecurrence", "RNNRecurrence", "RECURRENCES"]
