"""The per-user cache of compiled expressions: hits, misses, corruption, permissions, and what may be loaded."""

from __future__ import annotations

import ast
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import numdiff_cli.expr
from numdiff_cli import cache
from numdiff_cli.analytic import MPMATH_NAMES, Analytic
from numdiff_cli.codegen import NUMPY_NAMES, UnsafeCode, check_code, lambdify, load_code
from numdiff_cli.compiled import compile_text, from_expression
from numdiff_cli.expr import parse_expression
from numdiff_cli.functions import FUNCTIONS


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every call of the parser (a cache hit makes none)."""
    calls: list[str] = []
    original = numdiff_cli.expr.parse_expression

    def recording(text: str) -> Any:
        calls.append(text)
        return original(text)

    monkeypatch.setattr(numdiff_cli.expr, "parse_expression", recording)
    return calls


def entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json"))


def test_second_call_skips_the_parser(run: Callable[..., Result], parses: list[str], private_cache: Path) -> None:
    first = run("diff", "sin(x)*x", "--at", "1", "--at", "2", "--format", "json")
    second = run("diff", "sin(x)*x", "--at", "1", "--at", "2", "--format", "json")
    assert first.exit_code == second.exit_code == 0
    assert second.stdout == first.stdout
    assert parses == ["sin(x)*x"]
    assert len(entries(private_cache)) == 1


def test_directory_and_entries_are_private(run: Callable[..., Result], private_cache: Path) -> None:
    assert run("diff", "x**2", "--at", "3").exit_code == 0
    assert stat.S_IMODE(os.stat(private_cache).st_mode) == 0o700
    (entry,) = entries(private_cache)
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600
    assert not list(private_cache.glob(".tmp-*"))  # written atomically: no temporary file left behind


@pytest.mark.parametrize("how", ["option", "env"])
def test_cache_can_be_turned_off(run: Callable[..., Result], parses: list[str], private_cache: Path, how: str) -> None:
    args = ["diff", "x**2", "--at", "3"]
    env = {"NUMDIFF_NO_CACHE": "1"} if how == "env" else None
    if how == "option":
        args.append("--no-cache")
    for _ in range(2):
        result = run(*args, env=env)
        assert result.exit_code == 0
        assert result.stdout == "6.0\n"
    assert parses == ["x**2", "x**2"]
    assert not private_cache.exists()


# One run of each command on the expression x**2 + x*y (README, "Cache": "Turn it off with --no-cache on any
# command"); {checks} is a checks file written by the test.
NO_CACHE_RUNS = {
    "diff": ("diff", "x**2 + x*y", "--wrt", "x", "--at", "1,2"),
    "grad": ("grad", "x**2 + x*y", "--at", "1,2"),
    "tangent": ("tangent", "x**2 + x*y", "--at", "1,2"),
    "compare": ("compare", "x**2 + x*y", "--wrt", "x", "--at", "1,2"),
    "hessian": ("hessian", "x**2 + x*y", "--at", "1,2"),
    "jacobian": ("jacobian", "x**2 + x*y", "--at", "1,2"),
    "descend": ("descend", "x**2 + x*y", "--from", "1,2", "--steps", "1"),
    "check": ("check", "{checks}"),
}


def test_every_command_can_turn_the_cache_off(
    run: Callable[..., Result], parses: list[str], private_cache: Path, tmp_path: Path
) -> None:
    from numdiff_cli.cli import cli

    assert set(NO_CACHE_RUNS) == set(cli.commands), "every command takes --no-cache: add the new one here"
    checks = tmp_path / "checks.toml"
    checks.write_text('[[check]]\nexpr = "x**2 + x*y"\nat = ["1,2"]\nwhat = "gradient"\natol = 1e-9\n')
    for command, args in NO_CACHE_RUNS.items():
        args = tuple(str(checks) if arg == "{checks}" else arg for arg in args)
        parses.clear()
        for _ in range(2):
            result = run(*args, "--no-cache")
            assert result.exit_code == 0, (command, result.stderr)
        # Parsed afresh each time: nothing was read from the cache, and nothing written to it.
        assert parses.count("x**2 + x*y") == 2, command
        assert not private_cache.exists(), command


def test_key_covers_the_version(
    run: Callable[..., Result], parses: list[str], monkeypatch: pytest.MonkeyPatch, private_cache: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    monkeypatch.setattr(cache, "__version__", "999.0")
    run("diff", "x**2", "--at", "3")
    assert parses == ["x**2", "x**2"]
    assert len(entries(private_cache)) == 2


def test_key_covers_the_parser_source(
    run: Callable[..., Result], parses: list[str], monkeypatch: pytest.MonkeyPatch, private_cache: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    monkeypatch.setattr(cache, "fingerprint", lambda: "a-changed-parser")
    run("diff", "x**2", "--at", "3")
    assert parses == ["x**2", "x**2"]
    assert len(entries(private_cache)) == 2


def test_fingerprint_follows_the_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in cache.SOURCES:
        (tmp_path / name).write_text("one")
    monkeypatch.setattr(cache, "__file__", str(tmp_path / "cache.py"))
    cache.fingerprint.cache_clear()
    try:
        before = cache.fingerprint()
        cache.fingerprint.cache_clear()
        (tmp_path / "expr.py").write_text("two")
        assert cache.fingerprint() != before
    finally:
        cache.fingerprint.cache_clear()


PACKAGE = Path(cache.__file__).parent


def imported_modules(module: str) -> set[str]:
    """The numdiff_cli modules that ``module`` imports anywhere: at the top, inside functions, for type checks."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "numdiff_cli":
            found.update(alias.name for alias in node.names)  # from numdiff_cli import cache
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("numdiff_cli."):
            found.add(str(node.module).split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("numdiff_cli."))
    # The package itself (numdiff_cli/__init__.py) holds the version, which the key has as a field of its own.
    return {name for name in found if (PACKAGE / f"{name}.py").is_file()}


def import_closure(roots: set[str]) -> set[str]:
    """``roots`` and every numdiff_cli module they import, directly or not."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(imported_modules(module))
    return seen


def test_fingerprint_covers_every_module_that_shapes_the_code() -> None:
    """Whatever the parser and the code generators import (now or in the future) is part of the digest, so a
    change of any of them never serves code cached by the previous version."""
    covered = {Path(name).stem for name in cache.SOURCES}
    shaping = import_closure({"expr", "compiled", "analytic", "cache"})
    assert shaping - covered == set()
    assert {"functions", "floats", "structure", "codegen"} <= shaping  # the graph is really walked
    assert all((PACKAGE / name).is_file() for name in cache.SOURCES)


def test_imports_of_the_expression_modules_have_no_cycle() -> None:
    """functions -> floats -> codegen -> expr -> compiled -> analytic: every import points down, lazy ones too."""
    modules = import_closure({"expr", "compiled", "analytic", "points"})
    for module in modules:
        assert module not in import_closure(imported_modules(module)), f"{module} imports itself through others"


def test_variable_order_is_applied_to_a_cached_expression(run: Callable[..., Result], parses: list[str]) -> None:
    assert run("grad", "x*y**2", "--at", "1,2").stdout == "4.0 4.0\n"
    reordered = run("grad", "x*y**2", "--vars", "y,x", "--at", "1,2")
    assert reordered.exit_code == 0
    assert reordered.stdout.split() == ["4.0", "1.0"]  # d/dy at y=1,x=2 is 2*x*y = 4; d/dx is y**2 = 1
    assert parses == ["x*y**2"]
    # A variable that is not in the expression needs the parser again (and the answer is 0 for it).
    assert run("grad", "x*y**2", "--vars", "x,y,z", "--at", "1,2,3").stdout == "4.0 4.0 0.0\n"


CORRUPTIONS = {
    "garbage": b"\x00\xff not json",
    "truncated": b'{"key": [1, ',
    "wrong-key": None,  # filled in below: a valid entry of another expression
    "code-injection": None,
    "attribute-escape": None,
}


@pytest.mark.parametrize("kind", list(CORRUPTIONS))
def test_corrupt_entries_are_ignored_and_rebuilt(
    run: Callable[..., Result], parses: list[str], private_cache: Path, kind: str, tmp_path: Path
) -> None:
    good = run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    original = entry.read_text()
    document = json.loads(original)
    marker = tmp_path / "pwned"
    if kind == "wrong-key":
        document["key"][-1] = "x**4"
        content = json.dumps(document).encode()
    elif kind == "code-injection":
        document["data"]["code"] = f"__import__('os').system('touch {marker}')"
        content = json.dumps(document).encode()
    elif kind == "attribute-escape":
        document["data"]["code"] = "_0.__class__.__mro__[1].__subclasses__()"
        content = json.dumps(document).encode()
    else:
        content = CORRUPTIONS[kind] or b""
    entry.write_bytes(content)
    again = run("diff", "x**2", "--at", "3")
    assert again.exit_code == 0
    assert again.stdout == good.stdout
    assert not marker.exists()
    assert parses == ["x**2", "x**2"]  # ignored, parsed again...
    assert entry.read_text() == original  # ...and the entry rewritten


def test_a_directory_others_can_write_is_not_used(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    os.chmod(private_cache, 0o777)
    result = run("diff", "x**2", "--at", "3")
    assert result.exit_code == 0
    assert result.stdout == "6.0\n"
    assert parses == ["x**2", "x**2"]
    assert "not using the cache" in result.stderr


def test_an_entry_others_can_write_is_not_used(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    os.chmod(entry, 0o666)
    assert run("diff", "x**2", "--at", "3").stdout == "6.0\n"
    assert parses == ["x**2", "x**2"]


def test_a_symlinked_entry_is_not_followed(
    run: Callable[..., Result], parses: list[str], private_cache: Path, tmp_path: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    planted = tmp_path / "planted.json"
    planted.write_text(entry.read_text())
    entry.unlink()
    entry.symlink_to(planted)
    assert run("diff", "x**2", "--at", "3").stdout == "6.0\n"
    assert parses == ["x**2", "x**2"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing an owner needs root")
def test_an_entry_owned_by_someone_else_is_not_used(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    os.chown(entry, 65534, 65534)
    assert run("diff", "x**2", "--at", "3").stdout == "6.0\n"
    assert parses == ["x**2", "x**2"]


def test_compare_caches_the_analytic_derivative(run: Callable[..., Result], parses: list[str]) -> None:
    first = run("compare", "exp(3*x**2)", "--at", "1", "--format", "json")
    second = run("compare", "exp(3*x**2)", "--at", "1", "--format", "json")
    assert first.exit_code == second.exit_code == 0
    assert second.stdout == first.stdout
    assert parses == ["exp(3*x**2)"]


def test_a_corrupt_analytic_entry_is_rebuilt(
    run: Callable[..., Result], parses: list[str], private_cache: Path, tmp_path: Path
) -> None:
    first = run("compare", "exp(3*x**2)", "--at", "1", "--format", "json")
    (entry,) = [path for path in entries(private_cache) if json.loads(path.read_text())["key"][3] == "mpmath"]
    original = entry.read_text()
    document = json.loads(original)
    marker = tmp_path / "pwned"
    document["data"]["code"] = f"__import__('os').system('touch {marker}')"
    entry.write_text(json.dumps(document))
    second = run("compare", "exp(3*x**2)", "--at", "1", "--format", "json")
    assert second.exit_code == 0
    assert second.stdout == first.stdout
    assert not marker.exists()
    assert parses == ["exp(3*x**2)", "exp(3*x**2)"]  # the derivative needed the parser again
    assert entry.read_text() == original


def test_a_cache_it_cannot_create_is_skipped(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    result = run("diff", "x**2", "--at", "3")
    assert result.exit_code == 0
    assert result.stdout == "6.0\n"


# What may be loaded: only code of the form numdiff's printers produce.
UNSAFE = [
    pytest.param("__import__('os')", id="import"),
    pytest.param("open('/etc/passwd')", id="builtin-call"),
    pytest.param("_0.__class__", id="attribute"),
    pytest.param("_0[0]", id="subscript"),
    pytest.param("(lambda: 0)()", id="lambda"),
    pytest.param("[c for c in (1,)]", id="comprehension"),
    pytest.param("'text'", id="string"),
    pytest.param("9**9**9", id="huge-power"),
    pytest.param("2**(1024*1024*1024)", id="huge-power-product"),
    pytest.param("sin(_0, where=_0)", id="keyword"),
    pytest.param("_1", id="unknown-argument"),
    pytest.param("foo(_0)", id="unknown-function"),
    pytest.param("_0(1)", id="call-an-argument"),
    pytest.param("x" * 300_000, id="too-long"),
    pytest.param("1 +", id="syntax"),
    pytest.param("x = 1", id="statement"),
    pytest.param(str(2**60), id="big-int"),
]


@pytest.mark.parametrize("code", UNSAFE)
def test_unsafe_code_is_refused(code: str) -> None:
    with pytest.raises(UnsafeCode):
        load_code(code, 1, NUMPY_NAMES)


def test_generated_code_passes_the_check() -> None:
    sample = load_code("sin(_0)**2 + select([less(_0, 0), True], [0, 1/2], default=nan)", 1, NUMPY_NAMES)
    assert float(sample(1.0)) == pytest.approx(0.708073418273571 + 0.5, rel=1e-15)


def expression_for(name: str) -> str:
    return f"{name}(x**2 + 1) * x" if 1 in FUNCTIONS[name].arities else f"{name}(x**2 + 1, 3) * x"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_compiles_to_whitelisted_code(name: str) -> None:
    """Every function of the language must be cacheable, in numpy code and in its analytic derivatives."""
    expression = parse_expression(expression_for(name))
    compiled = from_expression(expression)  # raises UnsafeCode if the printer's output is not whitelisted
    check_code(compiled.code, 1, NUMPY_NAMES)
    for order in (1, 2):
        analytic = Analytic.of(compiled, "x", order, use_cache=True)
        assert analytic.text
    # And the code computes what sympy's lambdify computes, bit for bit (same printer, same functions).
    import numpy as np

    points = np.array([[0.25, 0.5, 1.5]])
    lambdified = lambdify(expression.symbols, expression.tree)
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(np.asarray(lambdified(*points)), (3,))
    assert np.array_equal(compiled.function(points), expected, equal_nan=True)


def test_mpmath_names_compute() -> None:
    function = load_code("mpf(1)/mpf(3) + sign(_0) * max(_0, 0)", 1, MPMATH_NAMES)
    assert str(function(MPMATH_NAMES["mpf"](2))) == str(MPMATH_NAMES["mpf"](1) / 3 + 2)


def test_compile_text_round_trip(private_cache: Path) -> None:
    fresh = compile_text("W[0,0]*W[1,1] - y", use_cache=True)
    cached = compile_text("W[0,0]*W[1,1] - y", use_cache=True)
    assert cached == fresh  # the dataclass equality ignores the parsed tree, which the cached one lacks
    assert getattr(cached, "parsed", "absent") is None


def test_eviction_removes_the_least_recently_written_quarter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past MAX_ENTRIES (8 here) the oldest entries go until 3/4 of it (6) are left: the 6 most recently written.
    # Only the cache's own files are counted and removed: not other files, not a directory named like an entry.
    from numdiff_cli import cache

    monkeypatch.setattr(cache, "MAX_ENTRIES", 8)
    entries = [tmp_path / f"{n:02d}.json" for n in range(9)]
    for age, entry in zip(range(9, 0, -1), entries):
        entry.write_text("{}")
        os.utime(entry, (1_000_000 - age, 1_000_000 - age))  # entry 0 the oldest, entry 8 the newest
    (tmp_path / "notes.txt").write_text("not an entry")
    (tmp_path / "dir.json").mkdir()
    os.utime(tmp_path / "dir.json", (1, 1))
    cache._evict(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("??.json")) == [f"{n:02d}.json" for n in range(3, 9)]
    assert (tmp_path / "notes.txt").exists() and (tmp_path / "dir.json").is_dir()
    # A symlink named like an entry is not an entry of the cache: not counted, not removed, its target untouched.
    target = tmp_path.parent / f"{tmp_path.name}-target.json"
    target.write_text("{}")
    (tmp_path / "link.json").symlink_to(target)
    cache._evict(tmp_path)
    assert (tmp_path / "link.json").is_symlink() and target.exists()
    assert len([p for p in tmp_path.glob("*.json") if p.is_file() and not p.is_symlink()]) == 6
    # At the limit (8 entries) nothing goes; one more, and the oldest quarter goes again.
    for n in range(2):
        (tmp_path / f"new{n}.json").write_text("{}")
    cache._evict(tmp_path)
    assert len([p for p in tmp_path.glob("*.json") if p.is_file() and not p.is_symlink()]) == 8
    (tmp_path / "new2.json").write_text("{}")
    cache._evict(tmp_path)
    assert len([p for p in tmp_path.glob("*.json") if p.is_file() and not p.is_symlink()]) == 6
    assert (tmp_path / "link.json").is_symlink() and target.exists()


def test_cache_is_on_with_numdiff_no_cache_0(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    # NUMDIFF_NO_CACHE turns the cache off when set to anything but "" or "0".
    for _ in range(2):
        assert run("diff", "x**2", "--at", "3", env={"NUMDIFF_NO_CACHE": "0"}).stdout == "6.0\n"
    assert parses == ["x**2"]
    assert len(entries(private_cache)) == 1


def test_a_failed_write_leaves_no_temporary_file(private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The entry is written to a temporary file in the cache directory, then renamed: when the rename fails the
    # temporary file is removed and the cache is as it was (no entry, no error).
    from numdiff_cli import cache

    def refuse(source: object, destination: object) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(cache.os, "replace", refuse)
    cache.store(["test", 1], {"value": 1})
    assert private_cache.is_dir()
    assert list(private_cache.iterdir()) == []
    assert cache.load(["test", 1]) is None


def test_the_temporary_file_is_written_in_the_cache_directory(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Written next to its entry (a rename within one directory is atomic), named so no reader takes it for one.
    from numdiff_cli import cache

    seen: list[tuple[str, str]] = []
    real = cache.os.replace

    def watch(source: str, destination: object) -> None:
        seen.append((source, str(destination)))
        real(source, destination)

    monkeypatch.setattr(cache.os, "replace", watch)
    cache.store(["test", 2], {"value": 2})
    ((source, destination),) = seen
    assert Path(source).parent == private_cache == Path(destination).parent
    assert Path(source).name.startswith(".tmp-") and Path(source).name.endswith(".json")
    assert cache.load(["test", 2]) == {"value": 2}


@pytest.mark.parametrize(
    ("mode", "used"),
    [
        pytest.param(0o700, True, id="only-me"),
        pytest.param(0o755, True, id="others-read-and-enter"),
        pytest.param(0o711, True, id="others-enter"),
        pytest.param(0o720, False, id="group-writes"),
        pytest.param(0o702, False, id="others-write"),
    ],
)
def test_the_directory_is_used_only_if_nobody_else_can_write_it(
    run: Callable[..., Result], parses: list[str], private_cache: Path, mode: int, used: bool
) -> None:
    run("diff", "x**2", "--at", "3")
    os.chmod(private_cache, mode)
    result = run("diff", "x**2", "--at", "3")
    assert (result.exit_code, result.stdout) == (0, "6.0\n")
    assert parses == (["x**2"] if used else ["x**2", "x**2"])
    assert ("not using the cache" in result.stderr) is not used


def test_a_directory_owned_by_someone_else_is_not_used(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    if os.getuid() != 0:
        pytest.skip("giving a directory away needs root")
    run("diff", "x**2", "--at", "3")
    os.chown(private_cache, 12345, 12345)  # mode 0700 still: only the owning stranger can write
    result = run("diff", "x**2", "--at", "3")
    assert (result.exit_code, result.stdout) == (0, "6.0\n")
    assert parses == ["x**2", "x**2"]
    assert "not using the cache" in result.stderr


def test_a_file_in_place_of_the_directory_is_not_used(
    run: Callable[..., Result], parses: list[str], private_cache: Path
) -> None:
    private_cache.write_text("not a directory")
    result = run("diff", "x**2", "--at", "3")
    assert (result.exit_code, result.stdout) == (0, "6.0\n")
    assert "not using the cache" in result.stderr
    assert private_cache.read_text() == "not a directory"


def test_the_cache_directory_is_created_with_its_parents(
    run: Callable[..., Result], parses: list[str], tmp_path: Path
) -> None:
    home = tmp_path / "a" / "b"  # XDG_CACHE_HOME that does not exist yet
    env = {"XDG_CACHE_HOME": str(home)}
    for _ in range(2):
        assert run("diff", "x**2", "--at", "3", env=env).stdout == "6.0\n"
    assert parses == ["x**2"]
    assert stat.S_IMODE(os.stat(home / "numdiff").st_mode) == 0o700


def test_a_refused_expression_writes_nothing(run: Callable[..., Result], private_cache: Path) -> None:
    # Reading the cache never creates it: only a store does, after the expression was read.
    assert run("diff", "x**", "--at", "3").exit_code == 2
    assert not private_cache.exists()


@pytest.mark.parametrize(
    ("mode", "used"), [(0o600, True), (0o644, True), (0o711, True), (0o620, False), (0o602, False)]
)
def test_an_entry_is_used_only_if_nobody_else_can_write_it(
    run: Callable[..., Result], parses: list[str], private_cache: Path, mode: int, used: bool
) -> None:
    run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    os.chmod(entry, mode)
    assert run("diff", "x**2", "--at", "3").stdout == "6.0\n"
    assert parses == (["x**2"] if used else ["x**2", "x**2"])


@pytest.mark.parametrize(("spare", "used"), [(0, True), (-1, False)])
def test_an_entry_up_to_the_size_limit_is_read(
    run: Callable[..., Result],
    parses: list[str],
    private_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    spare: int,
    used: bool,
) -> None:
    # An entry of exactly MAX_ENTRY_BYTES is read; one byte more and it is ignored (and rebuilt).
    from numdiff_cli import cache

    run("diff", "x**2", "--at", "3")
    (entry,) = entries(private_cache)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", entry.stat().st_size + spare)
    assert run("diff", "x**2", "--at", "3").stdout == "6.0\n"
    assert parses == (["x**2"] if used else ["x**2", "x**2"])


@pytest.mark.parametrize("missing", [("O_NOFOLLOW",), ("O_NONBLOCK",), ("O_NOFOLLOW", "O_NONBLOCK")])
def test_an_entry_is_read_where_the_platform_lacks_the_open_flags(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]
) -> None:
    # O_NOFOLLOW and O_NONBLOCK are not on every platform: without them the entry is opened with the flags that
    # are there (read only), and read as before.
    cache.store(["test", 3], {"value": 3})
    for name in missing:
        monkeypatch.delattr(os, name)
    assert cache.load(["test", 3]) == {"value": 3}


def test_the_cache_is_on_unless_turned_off() -> None:
    # The documented default: on, unless --no-cache or NUMDIFF_NO_CACHE (which the fixture unsets) says otherwise.
    assert cache.enabled() is True
    assert cache.enabled(no_cache=True) is False


def test_a_failed_write_whose_cleanup_fails_too_is_not_an_error(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Any failure just leaves the cache as it was": the rename fails, and so does the removal of the temporary file.
    def refuse(*args: object) -> None:
        raise OSError("read-only")

    monkeypatch.setattr(cache.os, "replace", refuse)
    monkeypatch.setattr(cache.os, "unlink", refuse)
    cache.store(["test", 4], {"value": 4})
    assert cache.load(["test", 4]) is None


def test_an_eviction_that_cannot_remove_a_file_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Past MAX_ENTRIES the oldest quarter goes; a file that cannot be removed stays, and the store is not an error.
    monkeypatch.setattr(cache, "MAX_ENTRIES", 4)
    for index in range(6):
        (tmp_path / f"{index}.json").write_text("{}")

    def refuse(*args: object) -> None:
        raise OSError("busy")

    monkeypatch.setattr(cache.os, "unlink", refuse)
    cache._evict(tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 6


def test_an_entry_that_grows_after_its_size_was_checked_is_read_no_further_than_the_limit(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The size is checked with fstat, then read: a file that grows in between (another process writing) is read
    # up to MAX_ENTRY_BYTES + 1 bytes only, and refused. The growth is made to happen right after fstat here.
    import tracemalloc

    cache.store(["test", 5], {"value": 5})
    (entry,) = entries(private_cache)
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 4096)
    real = os.fstat
    grown = 8_000_000

    def fstat_then_grow(fd: int) -> os.stat_result:
        info = real(fd)
        chunk = b" " * 65536  # written in pieces: the test's own allocations stay small
        with open(entry, "ab") as file:
            for _ in range(grown // len(chunk)):
                file.write(chunk)
        return info

    monkeypatch.setattr(cache.os, "fstat", fstat_then_grow)
    tracemalloc.start()
    try:
        assert cache.load(["test", 5]) is None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < grown // 4, peak
