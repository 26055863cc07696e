"""chainrule.memory: the malloc settings that tune_process_for_training makes (tests/test_tuning.py tests the call)."""

import platform

import pytest

from chainrule import memory


def test_the_amount_comes_from_the_environment():
    assert memory.keep_from_environment({}) == memory.DEFAULT_KEEP
    assert memory.keep_from_environment({"CHAINRULE_MALLOC_KEEP": " 1048576 "}) == 2**20
    assert memory.keep_from_environment({"CHAINRULE_MALLOC_KEEP": "0"}) == 0


@pytest.mark.parametrize("text", ["-1", "64MB", "1e6"])
def test_a_bad_amount_names_the_variable_and_the_value(text):
    with pytest.raises(ValueError, match=f"CHAINRULE_MALLOC_KEEP: expected a number of bytes.*{text!r}"):
        memory.keep_from_environment({"CHAINRULE_MALLOC_KEEP": text})


def test_zero_leaves_malloc_alone():
    assert memory.keep_freed_memory(0) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_settings():
    assert memory.keep_freed_memory(memory.DEFAULT_KEEP) is True
