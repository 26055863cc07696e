"""chainrule.collector: the cycle collector's threshold that tune_process_for_training raises."""

import gc

import pytest

from chainrule import collector


@pytest.fixture
def thresholds():
    saved, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*saved)
    (gc.enable if enabled else gc.disable)()


def test_the_threshold_comes_from_the_environment():
    assert collector.threshold_from_environment({}) == collector.DEFAULT_THRESHOLD
    assert collector.threshold_from_environment({"CHAINRULE_GC_THRESHOLD": " 5000 "}) == 5000
    assert collector.threshold_from_environment({"CHAINRULE_GC_THRESHOLD": "0"}) == 0


@pytest.mark.parametrize("text", ["-1", "10k", "1e4"])
def test_a_bad_threshold_names_the_variable_and_the_value(text):
    with pytest.raises(ValueError, match=f"CHAINRULE_GC_THRESHOLD: expected a number of objects.*{text!r}"):
        collector.threshold_from_environment({"CHAINRULE_GC_THRESHOLD": text})


def test_threshold0_is_raised_and_the_older_generations_kept(thresholds):
    gc.set_threshold(700, 7, 9)
    assert collector.collect_less_often(10_000) is True
    assert gc.get_threshold() == (10_000, 7, 9)


def test_never_lowered_and_a_collector_switched_off_stays_off(thresholds):
    gc.set_threshold(50_000, 10, 10)
    assert collector.collect_less_often(10_000) is False
    assert gc.get_threshold()[0] == 50_000
    gc.set_threshold(0)
    assert collector.collect_less_often(10_000) is False
    assert gc.get_threshold()[0] == 0
    gc.set_threshold(700)
    gc.disable()
    assert collector.collect_less_often(10_000) is False
    assert gc.get_threshold()[0] == 700 and not gc.isenabled()
