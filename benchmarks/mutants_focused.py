"""Run mutmut's mutants against a chosen set of test files, collected once: a pytest plugin.

``mutmut run`` runs, for each mutant, every test that reached its function (for the parser, about a thousand CLI
tests), so that a surviving mutant of a function every command calls costs minutes on two shared cores. This
plugin runs the mutants of ``mutants/`` (made by ``mutmut run``) against the test files given on the command line
instead, collected once: for each mutant it forks, switches the mutant on (mutmut's ``MUTANT_UNDER_TEST``), runs
the tests until the first failure, and writes one line ``NAME killed|survived|timeout|errorN SECONDS``. A mutant
killed here is killed by the suite; one that survives here may still be killed by a test outside the chosen
files, so the counts are a lower bound of the suite's. Usage, from ``mutants/``::

    MUTANTS=names.txt MUTANTS_OUT=results.txt PYTHONPATH=../benchmarks \\
        python -m pytest -q -p no:cacheprovider -o addopts= -p mutants_focused tests/test_expr.py ...

``names.txt`` holds one mutant name a line (``mutmut results --all true`` lists them); ``MUTANTS_LIMIT`` is the
time allowed per mutant in seconds (60), and each runs in at most 3 GiB of address space.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from typing import Any

import pytest


class Focused:
    def __init__(self) -> None:
        self.failed = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        with open(os.environ["MUTANTS"]) as listing:
            names = [line.strip() for line in listing if line.strip()]
        limit = float(os.environ.get("MUTANTS_LIMIT", "60"))
        with open(os.environ["MUTANTS_OUT"], "a", buffering=1) as out:
            for name in names:
                started = time.monotonic()
                verdict = self.verdict(session, name, started, limit)
                out.write(f"{name} {verdict} {time.monotonic() - started:.1f}\n")
        return True

    def verdict(self, session: pytest.Session, name: str, started: float, limit: float) -> str:
        pid = os.fork()
        if pid == 0:
            os.environ["MUTANT_UNDER_TEST"] = name
            resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
            quiet = os.open(os.devnull, os.O_WRONLY)
            os.dup2(quiet, 1)
            os.dup2(quiet, 2)
            try:
                items = session.items
                for index, item in enumerate(items):
                    following = items[index + 1] if index + 1 < len(items) else None
                    item.config.hook.pytest_runtest_protocol(item=item, nextitem=following)
                    if self.failed:
                        os._exit(1)
            except BaseException:
                os._exit(3)
            os._exit(0)
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                return {0: "survived", 1: "killed"}.get(code, f"error{code}")
            if time.monotonic() - started > limit:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return "timeout"
            time.sleep(0.02)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.failed = True


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Focused(), "mutants-focused-runner")
