"""The package's layout: dependencies point down (no import circle), every module imports on its own, modules
stay small unless they say why, and the numerics layer stays free of sympy, click and rich.

Imports are read from the source with :mod:`ast`, including those inside functions (a lazy import is still a
dependency), so a circle cannot hide behind an import that runs late.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "numdiff_cli"
# A module longer than this must say at its top why it reads best whole (STYLE.md: split past about 400 lines).
MAX_LINES = 450


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(name: str) -> set[str]:
    """The package's modules that module ``name`` imports, anywhere in its code."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(candidate for candidate in candidates if candidate in MODULES and candidate != name)
    return found


GRAPH = {name: imports(name) for name in MODULES}


def test_the_graph_is_read() -> None:
    """The import reader sees the package's real arrows (a reader that finds nothing would pass every test)."""
    importers_of_errors = [name for name, targets in GRAPH.items() if "numdiff_cli.errors" in targets]
    assert len(importers_of_errors) >= 3
    assert sum(map(len, GRAPH.values())) > len(MODULES)


def test_no_import_circle() -> None:
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(GRAPH[name]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [name])
    assert not circles, "import circles: " + "; ".join(" -> ".join(circle) for circle in circles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_imports_in_a_fresh_interpreter(name: str) -> None:
    """Each module imports on its own (no hidden reliance on another module having been imported first)."""
    if name.startswith("numdiff_cli.plot"):
        pytest.importorskip("matplotlib")
    result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


LIGHT_LAYERS = ("numdiff_cli.contract", "numdiff_cli.errors")


@pytest.mark.parametrize("name", LIGHT_LAYERS)
def test_interface_facts_import_nothing_heavy(name: str) -> None:
    heavy = ("numpy", "sympy", "click", "rich")
    probe = f"import sys, json, {name}; print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(result.stdout) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small_or_say_why(name: str) -> None:
    text = MODULES[name].read_text(encoding="utf-8")
    if text.count("\n") <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(text)) or ""
    lines = text.count("\n")
    assert "reads best whole" in docstring, f"{name} has {lines} lines: split it, or say why it reads best whole"
