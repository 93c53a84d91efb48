"""Every ``fraudmatch ...`` command the README and docs show parses (argparse only, nothing
runs), so a renamed command or option cannot leave the documentation behind."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from fraudmatch.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted(
    [ROOT / "README.md", *(ROOT / "docs").glob("*.md"), *ROOT.glob("examples/*/README.md")]
)


def block_commands(text: str) -> list[str]:
    """Whole command lines in fenced blocks: continuations joined, comments and optional
    ``[--flag VALUE]`` placeholders dropped."""
    found = []
    for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s#\s.*$", "", line.strip())
            line = re.sub(r"\s*\[[^\]]*\]", "", line)
            if line.startswith("fraudmatch "):
                found.append(line)
    return found


def inline_commands(text: str) -> list[str]:
    """``fraudmatch ...`` in inline code: only the command names are checked."""
    return re.findall(r"(?<!`)`(fraudmatch [^`]+)`(?!`)", text)


def cases() -> list[tuple[str, str, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        name = str(doc.relative_to(ROOT))
        out += [(name, "full", line) for line in block_commands(text)]
        out += [(name, "names", line) for line in inline_commands(text)]
    return out


def subcommand_names(argv: list[str]) -> str | None:
    """Why the leading words are not a command, or None if they are."""
    parser = build_parser()
    for word in argv:
        if word.startswith("-"):
            return None
        sub = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if sub is None:
            return None
        if word not in sub.choices:
            return f"{word!r} is not one of {', '.join(sub.choices)}"
        parser = sub.choices[word]
    return None


CASES = cases()


def test_the_documentation_shows_commands() -> None:
    assert len([c for c in CASES if c[1] == "full"]) >= 15


@pytest.mark.parametrize(("doc", "how", "line"), CASES, ids=[f"{d}:{c}" for d, _, c in CASES])
def test_a_documented_command_parses(doc: str, how: str, line: str) -> None:
    argv = shlex.split(line)[1:]
    if how == "names":
        assert subcommand_names(argv) is None, f"{doc}: {line}"
        return
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            build_parser().parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"{doc}: `{line}` does not parse: {stderr.getvalue().strip()} ({exc})")
