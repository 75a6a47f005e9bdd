"""The numerics layer imports numpy and the standard library only; the engine facade works without sympy, click
and rich.

Imports are checked in a fresh interpreter, so nothing that an earlier test imported can hide one.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "numdiff_cli"
NUMERICS = sorted((PACKAGE / "numerics").glob("*.py"))
MODULES = [f"numdiff_cli.numerics.{path.stem}".removesuffix(".__init__") for path in NUMERICS]
FORBIDDEN = ("sympy", "click", "rich", "mpmath")

PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(name for name in sys.modules if name.split(".")[0] in json.loads(sys.argv[2]))))
"""


def loaded(modules: list[str]) -> list[str]:
    """The forbidden modules (and their submodules) in ``sys.modules`` after importing ``modules`` afresh."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules), json.dumps(FORBIDDEN)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_the_numerics_are_all_listed() -> None:
    assert "numdiff_cli.numerics" in MODULES and len(MODULES) >= 9


@pytest.mark.parametrize("module", [*MODULES, "numdiff_cli.engine"])
def test_imports_neither_sympy_nor_click_nor_rich(module: str) -> None:
    assert loaded([module]) == []


def test_from_engine_import_derivative_works_alone() -> None:
    probe = "from numdiff_cli.engine import derivative; import numpy as np; print(float(derivative(np.exp, 0.0).value))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert float(result.stdout) == pytest.approx(1.0, rel=1e-13)


def test_the_probe_sees_an_import() -> None:
    # The checks above would pass vacuously if the probe could not see an import: it sees the CLI's click.
    assert "click" in loaded(["numdiff_cli.cli"])


@pytest.mark.parametrize("path", NUMERICS, ids=[path.name for path in NUMERICS])
def test_numerics_import_numpy_the_standard_library_and_each_other_only(path: Path) -> None:
    allowed = {"numpy", "numdiff_cli.contract", "numdiff_cli.numerics"}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            ours = any(name == a or name.startswith(a + ".") for a in allowed)
            assert ours or (top in sys.stdlib_module_names and top != "numdiff_cli"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", NUMERICS, ids=[path.name for path in NUMERICS])
def test_numerics_name_no_command_line_options(path: Path) -> None:
    # Words for the command line (--h, --order) belong to the CLI layer, which turns statuses into sentences.
    assert re.findall(r"(?<![-\w])--[a-z]", path.read_text()) == []
