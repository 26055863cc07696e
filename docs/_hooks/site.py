"""MkDocs hooks for the site: the command-line page written from the argparse parsers, the benchmark
results served beside the pages, and a public object without a docstring reported as a warning
(so ``mkdocs build --strict`` fails on it)."""

import logging
import os
import sys
from pathlib import Path

from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).parent))
from docstrings import api_modules, undocumented  # noqa: E402

log = logging.getLogger("mkdocs.hooks.chainrule")
ROOT = Path(__file__).resolve().parents[2]
#: Repository files that README sections included in the pages link to.
BENCHMARK_FILES = [
    "benchmarks/README.md",
    "benchmarks/results/*.md",
    "benchmarks/results/*.png",
    "benchmarks/results/*.txt",
]
CLI_MARKER = "<!-- the command line's help, written at build time -->"


def on_config(config):
    for name in undocumented(api_modules(Path(config["docs_dir"]) / "api")):
        log.warning(f"{name} has no docstring; the API reference is generated from docstrings")
    return config


def on_files(files, config):
    for pattern in BENCHMARK_FILES:
        for path in sorted(ROOT.glob(pattern)):
            files.append(File(str(path.relative_to(ROOT)), str(ROOT), config["site_dir"], config["use_directory_urls"]))
    return files


def on_page_markdown(markdown, page, config, files):
    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    return markdown


def cli_reference():
    """Every subcommand's ``--help``, as argparse prints it, each under its own heading."""
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: the same width on every machine
    from chainrule.cli import make_parser

    parser = make_parser()
    sections = ["## chainrule", "", "```text", parser.format_help().rstrip(), "```", ""]
    subparsers = next(action for action in parser._actions if action.choices and hasattr(action, "add_parser"))
    for name, subparser in subparsers.choices.items():
        sections += [f"## chainrule {name}", "", "```text", subparser.format_help().rstrip(), "```", ""]
    return "\n".join(sections)
