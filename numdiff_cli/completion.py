"""Generate the shell completion scripts in ``completions/``: ``python -m numdiff_cli.completion``.

The scripts come from click's own completion support, one per command name (``numdiff`` and ``numdiff-cli``, which
click asks for with different environment variables) in one file per shell; a test regenerates them and fails when
the committed copies are stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from click.shell_completion import get_completion_class

from numdiff_cli.cli import cli

SHELLS = {"bash": "numdiff.bash", "zsh": "_numdiff", "fish": "numdiff.fish"}
PROG_NAMES = ("numdiff", "numdiff-cli")  # the console scripts of pyproject.toml
_ZSH_DISPATCH = "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then"


def source(shell: str, prog_name: str) -> str:
    """click's completion script for one command name."""
    completion_class = get_completion_class(shell)
    if completion_class is None:
        raise ValueError(f"unsupported shell {shell!r}")
    complete_var = "_" + prog_name.replace("-", "_").upper() + "_COMPLETE"
    return completion_class(cli, {}, prog_name, complete_var).source()


def script(shell: str) -> str:
    """The completion script for ``shell`` (bash, zsh or fish), for both command names.

    bash and fish scripts register one command each, so they are concatenated. A zsh completion file is
    autoloaded for every command of its ``#compdef`` line and calls one function: here it calls the one of the
    command being completed (``$service``).
    """
    if shell != "zsh":
        return "\n".join(source(shell, name) for name in PROG_NAMES)
    functions, dispatch, register = [], [], []
    for name in PROG_NAMES:
        body = source(shell, name).split("\n", 1)[1].split(_ZSH_DISPATCH)[0].strip("\n")
        function = "_" + name.replace("-", "_") + "_completion"
        functions.append(body)
        dispatch.append(f'        {name}) {function} "$@" ;;')
        register.append(f"    compdef {function} {name}")
    return "\n".join(
        [
            f"#compdef {' '.join(PROG_NAMES)}",
            "",
            "\n\n".join(functions),
            "",
            _ZSH_DISPATCH,
            "    # autoload from fpath: complete the command being completed",
            '    case "$service" in',
            *dispatch,
            "    esac",
            "else",
            "    # eval/source/. command, register the functions for later",
            *register,
            "fi",
            "",
        ]
    )


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
