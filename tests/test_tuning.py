"""chainrule.tune_process_for_training: made only on request, reported, undone; never by ``import chainrule``."""

import gc
import platform
import subprocess
import sys

import pytest

import chainrule
from chainrule import cli, demo, evaluate_command, train_command, tuning

GLIBC_LINUX = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# Frees four 24 MiB blocks and prints how much of the 96 MiB went back to the system. Untouched, glibc gives
# blocks that large pages of their own (its mmap threshold starts at 128 KiB and rises by itself to 32 MiB
# at most) or, past a risen threshold, takes them from the top of the heap and trims it (96 MiB free there is
# above any trim threshold it sets by itself, 64 MiB at most): either way freeing returns them. Tuned, they come
# from the heap (under 32 MiB) and the heap keeps up to 512 MiB. Blocks this large cannot land in holes that
# imports left lower in the heap, which would stay resident whatever the settings.
MALLOC_PROBE = """
import gc, os, sys
before = gc.get_threshold()
import chainrule
if sys.argv[1] != "import":
    tuning = chainrule.tune_process_for_training()
    if sys.argv[1] == "undo":
        tuning.undo()

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

blocks = [bytearray(24 * 2**20) for _ in range(4)]
held = resident()
del blocks
print(before == gc.get_threshold(), (held - resident()) // 2**20)
"""


def probe(mode):
    """(collector thresholds unchanged?, MiB of the freed 96 MiB handed back) in a fresh interpreter."""
    env = {"PATH": "", "PYTHONPATH": ":".join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", MALLOC_PROBE, mode], capture_output=True, text=True, env=env, check=True
    )
    unchanged, returned = result.stdout.split()
    return unchanged == "True", int(returned)


@pytest.mark.skipif(not GLIBC_LINUX, reason="glibc's malloc on Linux, /proc/self/statm")
def test_import_changes_neither_the_collector_nor_malloc_and_undo_puts_malloc_back():
    assert probe("import") == (True, pytest.approx(96, abs=16))  # untouched: freed memory goes back
    assert probe("tune") == (False, pytest.approx(0, abs=8))  # the probe tells: tuned malloc keeps it
    assert probe("undo") == (True, pytest.approx(96, abs=16))


def test_import_leaves_the_collector_alone_anywhere():
    code = "import gc; before = gc.get_threshold(); import chainrule; print(gc.get_threshold() == before)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "True"


@pytest.fixture
def collector_settings():
    saved, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(700, 10, 10)
    gc.enable()
    yield
    gc.set_threshold(*saved)
    (gc.enable if enabled else gc.disable)()


def tune(**settings):
    # In this process only the collector: the malloc side is tested in fresh interpreters above.
    return chainrule.tune_process_for_training(malloc_keep=0, **settings)


def test_it_reports_what_it_changed_and_undo_restores_it(collector_settings):
    tuned = tune()
    assert isinstance(tuned, chainrule.ProcessTuning) and tuned.changed
    assert (tuned.gc_threshold_before, tuned.gc_threshold_after) == ((700, 10, 10), (10_000, 10, 10))
    assert tuned.malloc_before == tuned.malloc_after
    assert gc.get_threshold() == (10_000, 10, 10)
    assert "cycle collector thresholds: (700, 10, 10) -> (10000, 10, 10)" in str(tuned)
    assert tuned.undo() is tuned and gc.get_threshold() == (700, 10, 10)


def test_as_a_context_manager(collector_settings):
    with tune(gc_threshold=5_000):
        assert gc.get_threshold()[0] == 5_000
    assert gc.get_threshold()[0] == 700


def test_a_second_call_changes_nothing_and_undo_keeps_later_changes(collector_settings):
    first = tune()
    second = tune()
    assert not second.changed and str(second) == "process tuning: nothing changed"
    second.undo()
    assert gc.get_threshold()[0] == 10_000
    gc.set_threshold(20_000, 10, 10)  # someone else's setting since: undo leaves it
    first.undo()
    assert gc.get_threshold()[0] == 20_000


def test_the_environment_overrides_and_zero_opts_out(collector_settings, monkeypatch):
    monkeypatch.setenv("CHAINRULE_GC_THRESHOLD", "0")
    assert not tune().changed and gc.get_threshold()[0] == 700
    monkeypatch.setenv("CHAINRULE_GC_THRESHOLD", "3000")
    assert tune().gc_threshold_after[0] == 3000


def test_a_bad_environment_value_warns_and_leaves_that_setting_alone(collector_settings, monkeypatch):
    monkeypatch.setenv("CHAINRULE_GC_THRESHOLD", "often")
    with pytest.warns(RuntimeWarning, match="CHAINRULE_GC_THRESHOLD: expected a number of objects.*'often'"):
        tuned = tune()
    assert not tuned.changed and gc.get_threshold()[0] == 700


@pytest.mark.parametrize("settings", [{"gc_threshold": -1}, {"gc_threshold": 1.5}, {"malloc_keep": True}])
def test_bad_arguments_name_the_setting(settings):
    name, value = next(iter(settings.items()))
    with pytest.raises(ValueError, match=f"tune_process_for_training: {name} must be a whole number >= 0.*{value!r}"):
        chainrule.tune_process_for_training(**{"malloc_keep": 0, "gc_threshold": 0, **settings})


@pytest.mark.skipif(not GLIBC_LINUX, reason="glibc's mallopt")
def test_malloc_setting_is_recorded_and_undone_in_a_fresh_process():
    code = (
        "import chainrule; from chainrule import memory\n"
        "t = chainrule.tune_process_for_training(gc_threshold=0)\n"
        "print(t.malloc_before, t.malloc_after, memory.current_keep(), str(t))\n"
        "t.undo(); print(memory.current_keep())"
    )
    lines = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert lines[0].startswith(
        f"None {512 * 2**20} {512 * 2**20} process tuning: malloc: glibc's own settings -> "
        "keep up to 512 MiB of freed memory"
    )
    assert lines[1] == "None"


class Tuned(Exception):
    pass


@pytest.mark.parametrize(
    "module, argv",
    [
        (train_command, ["train", "--dataset", "digits"]),
        (evaluate_command, ["evaluate", "missing.safetensors"]),
        (demo, ["demo"]),
    ],
)
def test_train_evaluate_and_demo_tune_the_process_first(module, argv, monkeypatch):
    def record():
        raise Tuned

    monkeypatch.setattr(module, "tune_process_for_training", record, raising=False)
    monkeypatch.setattr(tuning, "tune_process_for_training", record)
    monkeypatch.setattr(chainrule, "tune_process_for_training", record)
    with pytest.raises(Tuned):
        cli.main(argv)
