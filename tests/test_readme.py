"""Every ``console`` example in README.md runs as written and prints exactly what the README shows.

Commands run through bash with the installed ``numdiff`` first on PATH (the directory of this Python), stdout and
stderr combined, stdout not a terminal: what a user sees when piping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[tuple[str, str]]:
    text = README.read_text()
    found = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.S):
        command, output = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    found.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            found.append((command, "\n".join(output)))
    return found


def test_readme_has_examples() -> None:
    assert len(examples()) >= 15


def test_quick_start_has_exactly_two_one_line_commands() -> None:
    section = README.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) == 2
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci == lines[1], "CI must run the README's test command exactly"


def run_example(command: str, cwd: Path) -> str:
    # The examples' files (examples/checks.toml), where a reader of the README finds them: in the clone.
    shutil.copytree(README.parent / "examples", cwd / "examples", dirs_exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.pop("NUMDIFF_DEBUG", None)
    env["NO_COLOR"] = "1"
    env.setdefault("XDG_CACHE_HOME", str(cwd / "cache"))
    result = subprocess.run(
        ["bash", "-c", command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        env=env,
        cwd=cwd,
    )
    return result.stdout.rstrip("\n")


@pytest.mark.parametrize(("command", "expected"), examples(), ids=[c[:60] for c, _ in examples()])
def test_readme_example(command: str, expected: str, tmp_path: Path) -> None:
    if "--plot" in command:
        pytest.importorskip("matplotlib", reason="pictures need the plot extra")
    assert run_example(command, tmp_path) == expected.rstrip("\n")


if __name__ == "__main__":
    # python tests/test_readme.py --update: rewrite every example's output from a real run (review with git diff).
    import tempfile

    if sys.argv[1:] != ["--update"]:
        raise SystemExit("usage: python tests/test_readme.py --update")
    text = README.read_text()
    with tempfile.TemporaryDirectory() as scratch:

        def refresh(match: re.Match[str]) -> str:
            lines = []
            for line in match.group(1).splitlines():
                if line.startswith("$ "):
                    lines.append(line)
                    output = run_example(line[2:], Path(scratch))
                    lines.extend(output.splitlines())
            return "```console\n" + "\n".join(lines) + "\n```"

        README.write_text(re.sub(r"```console\n(.*?)```", refresh, text, flags=re.S))
