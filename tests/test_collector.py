"""chainrule.collector: the cycle collector's threshold set when chainrule is imported."""

import gc
import subprocess
import sys

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


def _threshold_after_import(value):
    code = "import gc, chainrule; print(gc.get_threshold()[0])"
    env = {"PATH": ""} if value is None else {"PATH": "", "CHAINRULE_GC_THRESHOLD": value}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def test_importing_sets_it_and_zero_leaves_it_alone():
    default = subprocess.run([sys.executable, "-c", "import gc; print(gc.get_threshold()[0])"],
                             capture_output=True, text=True, env={"PATH": ""}).stdout.strip()
    assert _threshold_after_import(None).stdout.strip() == str(max(int(default), collector.DEFAULT_THRESHOLD))
    assert _threshold_after_import("0").stdout.strip() == default


def test_importing_with_a_bad_threshold_fails_clearly():
    result = _threshold_after_import("often")
    assert result.returncode != 0 and "CHAINRULE_GC_THRESHOLD: expected a number of objects" in result.stderr
