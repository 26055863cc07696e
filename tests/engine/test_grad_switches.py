"""PyTorch's other grad-mode switches: ``inference_mode`` and ``set_grad_enabled`` (a call, a block or a
decorator), built on the same per-thread switch as ``no_grad``."""

import threading

import numpy as np
import pytest

import chainrule as cr


def recorded():
    return (cr.tensor(np.ones(2), requires_grad=True) * 2).requires_grad


def test_inference_mode_records_nothing_and_can_be_turned_off():
    with cr.inference_mode():
        assert not recorded() and not cr.is_grad_enabled()
        with cr.inference_mode(False):
            assert recorded()
        assert not recorded()
    assert recorded()

    @cr.inference_mode()
    def predict():
        return recorded()

    assert predict() is False and cr.is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator():
    cr.set_grad_enabled(False)
    try:
        assert not recorded()
    finally:
        cr.set_grad_enabled(True)
    assert recorded()
    with cr.set_grad_enabled(False):
        assert not recorded()
        with cr.set_grad_enabled(True):
            assert recorded()
        assert not recorded()
    assert recorded()
    for training in (True, False):  # the common PyTorch idiom
        with cr.set_grad_enabled(training):
            assert recorded() is training
    assert cr.is_grad_enabled()

    @cr.set_grad_enabled(False)
    def evaluate(depth):
        return recorded() if depth == 0 else evaluate(depth - 1)

    assert cr.is_grad_enabled()  # decorating switched nothing
    assert evaluate(3) is False and cr.is_grad_enabled()
    with pytest.raises(TypeError, match="set_grad_enabled: mode must be True or False, got 'no'"):
        cr.set_grad_enabled("no")


def test_set_grad_enabled_is_per_thread():
    seen = []
    with cr.set_grad_enabled(False):
        worker = threading.Thread(target=lambda: seen.append(recorded()))
        worker.start()
        worker.join()
    assert seen == [True]
