"""chainrule.memory: the malloc padding set when chainrule is imported."""

import platform
import subprocess
import sys

import pytest

from chainrule import memory


def test_padding_comes_from_the_environment():
    assert memory.top_pad_from_environment({}) == memory.DEFAULT_TOP_PAD
    assert memory.top_pad_from_environment({"CHAINRULE_MALLOC_TOP_PAD": " 1048576 "}) == 2**20
    assert memory.top_pad_from_environment({"CHAINRULE_MALLOC_TOP_PAD": "0"}) == 0


@pytest.mark.parametrize("text", ["-1", "64MB", "1e6"])
def test_a_bad_padding_names_the_variable_and_the_value(text):
    with pytest.raises(ValueError, match=f"CHAINRULE_MALLOC_TOP_PAD: expected a number of bytes.*{text!r}"):
        memory.top_pad_from_environment({"CHAINRULE_MALLOC_TOP_PAD": text})


def test_zero_leaves_malloc_alone():
    assert memory.keep_freed_memory(0) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_padding():
    assert memory.keep_freed_memory(memory.DEFAULT_TOP_PAD) is True


def test_importing_with_a_bad_padding_fails_clearly():
    result = subprocess.run([sys.executable, "-c", "import chainrule"], capture_output=True, text=True,
                            env={"CHAINRULE_MALLOC_TOP_PAD": "lots", "PATH": ""})
    assert result.returncode != 0 and "CHAINRULE_MALLOC_TOP_PAD: expected a number of bytes" in result.stderr
