"""Generate the shell completion scripts in ``completions/``: ``python -m numdiff_cli.completion``.

The scripts come from click's own completion support; a test regenerates them and fails when the committed
copies are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.shell_completion import get_completion_class

from numdiff_cli.cli import cli

SHELLS = {"bash": "numdiff.bash", "zsh": "_numdiff", "fish": "numdiff.fish"}


def script(shell: str, prog_name: str = "numdiff") -> str:
    """The completion script for ``shell`` (bash, zsh or fish)."""
    completion_class = get_completion_class(shell)
    if completion_class is None:
        raise ValueError(f"unsupported shell {shell!r}")
    complete_var = "_" + prog_name.replace("-", "_").upper() + "_COMPLETE"
    return completion_class(cli, {}, prog_name, complete_var).source()


def write_all(directory: Path) -> list[Path]:
    """Write every script into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for shell, filename in SHELLS.items():
        path = directory / filename
        path.write_text(script(shell))
        written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("completions")
    for path in write_all(target):
        print(path)
