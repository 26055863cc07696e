"""One version number, written once (chainrule/__init__.py), shown by the package, its metadata and the command line."""

import importlib.metadata
import re
import tomllib
from pathlib import Path

import chainrule
from chainrule import cli

ROOT = Path(__file__).resolve().parents[1]


def test_pyproject_reads_the_version_from_the_package():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "chainrule.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", chainrule.__version__)


def test_installed_metadata_agrees():
    installed = importlib.metadata.version("chainrule")
    assert installed == chainrule.__version__, f"metadata says {installed}: reinstall (pip install -e .)"


def test_the_command_line_shows_it(capsys):
    try:
        cli.main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert capsys.readouterr().out == f"chainrule {chainrule.__version__}\n"


def test_the_changelog_has_an_unreleased_section():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog") and "\n## [Unreleased]\n" in changelog
