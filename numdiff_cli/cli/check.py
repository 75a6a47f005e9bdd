"""``numdiff check FILE``: the checks of a TOML file in one process, with a verdict per check and a summary."""

from __future__ import annotations

import os
from typing import Any

import click

import numdiff_cli.cli.output as output
import numdiff_cli.cli.words as words
from numdiff_cli.cli.options import NO_CACHE
from numdiff_cli.contract import EXIT_FAILED, EXIT_UNVOUCHED, KEYS


@click.command()
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto", "plain", "json", "csv")),
    default="auto",
    show_default=True,
    help="plain (auto): a PASS/FAIL line per check and a summary; json: one object per check; csv: one row each.",
)
@click.option("--junit", "junit_path", metavar="REPORT.xml", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option(
    "--annotations",
    type=click.Choice(("auto", "github", "none")),
    default="auto",
    show_default=True,
    help="github: each failure as an ::error line pointing at its check in FILE (auto: when GITHUB_ACTIONS=true).",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the failures (any format) and the summary.")
@click.option("--strict", is_flag=True, help="A result with a warning fails the run (exit 3) even when it passes.")
@NO_CACHE
def check(
    path: str, fmt: str, junit_path: str | None, annotations: str, quiet: bool, strict: bool, no_cache: bool
) -> None:
    """Run the derivative checks of the TOML file FILE, all in one process: a gate for CI.

    Each [[check]] table names an expression (expr), its points (at or range), what to compare (what =
    "derivative" of an order, "gradient" or "hessian"), the method and the tolerances atol/rtol; the
    reference is sympy's analytic derivative, or the file's expected values. A check passes when
    |numeric - reference| <= atol + rtol*|reference| at every point. Exit status: 0 all pass, 1 some fail,
    2 the file cannot be read (FILE:LINE: what is wrong), 3 with --strict when a result carries a warning.

    \b
    Examples:
      numdiff check examples/checks.toml
      numdiff check examples/checks.toml --junit report.xml --quiet
      numdiff check examples/checks.toml --format json
    """
    import time

    from numdiff_cli import cache, checks, deadline
    from numdiff_cli.render import csv_lines, json_line

    started = time.monotonic()
    use_cache = cache.enabled(no_cache)
    prepared = [checks.prepare(item, path, use_cache) for item in checks.load(path)]
    github = annotations == "github" or (annotations == "auto" and os.environ.get("GITHUB_ACTIONS") == "true")
    fmt = "plain" if fmt == "auto" else fmt
    outcomes, warnings, header = [], {}, fmt == "csv"
    for item in prepared:
        outcome = deadline.within(
            lambda: checks.run(item, use_cache),  # noqa: B023 (called here)
            f"check {item.check.name!r}",
            hint="; give it fewer points or variables, or a simpler expression",
        )
        outcomes.append(outcome)
        said = [f"{where}: {words.warning_text(code)}{numbers}" for where, code, numbers in outcome.flags]
        warnings[outcome.check.name] = said
        for line in said:
            output.stderr(f"Warning: {outcome.check.name}: {line}")
        if github and not outcome.passed:
            output.echo(checks.github_annotation(outcome, path))
        row = _row(outcome, said)
        if quiet and outcome.passed:
            continue
        if fmt == "json":
            output.echo(json_line(row))
        elif fmt == "csv":
            output.echo(csv_lines([row], KEYS["check"], header).rstrip("\n"))
            header = False
        else:
            output.echo(_line(outcome))
    failed = sum(not outcome.passed for outcome in outcomes)
    summary = f"{len(outcomes) - failed} passed, {failed} failed"
    if fmt == "plain":
        output.echo(summary)
    else:
        output.stderr(summary)
    if junit_path is not None:
        report = checks.junit_xml(outcomes, path, time.monotonic() - started, warnings)
        try:
            with open(junit_path, "w", encoding="utf-8") as stream:
                stream.write(report)
        except OSError as error:
            raise click.FileError(junit_path, str(error.strerror or error)) from None
    if failed:
        raise click.exceptions.Exit(EXIT_FAILED)
    if strict and any(warnings.values()):
        raise click.exceptions.Exit(EXIT_UNVOUCHED)


def _line(outcome: Any) -> str:
    """``PASS name: worst error 1e-16 <= bound 1e-10 (3 points)``, or ``FAIL`` with what failed and its numbers."""
    points = f"{outcome.points} point{'s' * (outcome.points != 1)}"
    if outcome.passed:
        return (
            f"PASS {outcome.check.name}: worst error {outcome.worst_error:.3g} <= bound {outcome.bound:.3g} ({points})"
        )
    return f"FAIL {outcome.check.name} ({points}): {outcome.message}"


def _row(outcome: Any, warnings: list[str]) -> dict[str, Any]:
    row = {
        "name": outcome.check.name,
        "line": outcome.check.line,
        "passed": outcome.passed,
        "what": outcome.check.what,
        "points": outcome.points,
        "worst_error": outcome.worst_error,
        "bound": outcome.bound,
        "method": outcome.check.method,
        "message": outcome.message,
    }
    if warnings:
        row["warning"] = "; ".join(warnings)
    return row
