"""The C allocator's thresholds (numdiff_cli/allocator.py): with them fixed, the short-lived arrays of a pass are
served from the heap, not from pages the kernel faults in and zeroes again for each; the numdiff command fixes
them at its start, and leaves glibc's malloc parameters to the user who set them in the environment. Each case runs
in a fresh Python process and counts its page faults (the thresholds are the process's). With them fixed the
engine's passes work on larger blocks, which change no result."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from numdiff_cli import engine
from numdiff_cli.allocator import USER_SETTINGS, keep_arrays_in_heap
from numdiff_cli.numerics import blocks

# Four arrays of 1.6 MB alive at once, then freed, 50 times: the pattern of the engine's passes (glibc's moving
# thresholds give the freed top of the heap back after each round, and the next round faults it in again).
WORK = """
import resource, sys
import numpy as np
SETUP
def work():
    arrays = [np.ones(200_000) for _ in range(4)]
    return sum(float(a[0]) for a in arrays)
work()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(50):
    work()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

TUNED = "from numdiff_cli.allocator import keep_arrays_in_heap\nassert keep_arrays_in_heap()"
# The command itself, as the console script runs it (its exit caught, to go on in the same process).
COMMAND = """
sys.argv = ["numdiff", "diff", "x**2", "--at", "1"]
from numdiff_cli.cli import main
try:
    main()
except SystemExit as done:
    assert done.code == 0, done.code
"""
# The faults of WORK with glibc's moving thresholds, as each round has them: 4 x 400 pages.
MOVING = 10_000


def faults(setup: str, env: dict[str, str] | None = None) -> int:
    clean = {k: v for k, v in os.environ.items() if k not in (*USER_SETTINGS, "GLIBC_TUNABLES")}
    done = subprocess.run(
        [sys.executable, "-c", WORK.replace("SETUP", setup)],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        check=True,
    )
    return int(done.stdout.split()[-1])


def moving(env: dict[str, str] | None = None) -> int:
    """The faults of WORK as the allocator has them without numdiff; the case is about them where they are many (a
    kernel that backs these arrays by huge pages faults far less)."""
    count = faults("", env)
    if count < MOVING:
        pytest.skip(f"this system faults {count} times on the rounds, not about them")
    return count


needs_glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's"
)


@needs_glibc
def test_fixed_thresholds_keep_the_arrays_of_a_pass_in_the_heap() -> None:
    assert faults(TUNED) < moving() / 100


@needs_glibc
def test_the_command_fixes_them_at_its_start() -> None:
    assert faults(COMMAND) < moving() / 100


@needs_glibc
@pytest.mark.parametrize(
    "user",
    [
        {"MALLOC_TRIM_THRESHOLD_": "0"},
        {"MALLOC_TOP_PAD_": "0", "MALLOC_MMAP_THRESHOLD_": "0"},
        {"MALLOC_MMAP_THRESHOLD_": "65536"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"},
    ],
)
def test_the_command_leaves_them_to_a_user_who_set_them(user: dict[str, str]) -> None:
    # With the user's settings every round faults its memory in again (their choice), after the command as before.
    assert faults(COMMAND, user) > moving(user) / 2


def test_nothing_is_set_where_the_user_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in USER_SETTINGS:
        monkeypatch.setenv(name, "0")
        assert not keep_arrays_in_heap()
        monkeypatch.delenv(name)
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=1048576")
    assert not keep_arrays_in_heap()
    assert blocks.fast_block() == blocks.FAST_BLOCK


@pytest.mark.parametrize(
    "f, low, high",
    [
        (lambda x: np.exp(np.sin(x)), -10.0, 10.0),
        (np.log, 1e3, 1e6),
        (lambda x: 1 / x, 1e-4, 1e-2),
        (lambda x: np.tanh(100 * x), -0.05, 0.05),
        (lambda x: np.sin(50 * x), -1.0, 1.0),
        (np.sqrt, 1e-6, 1e-2),
    ],
)
@pytest.mark.parametrize("order", [1, 2])
def test_the_blocks_of_a_pass_change_no_result(f, low: float, high: float, order: int) -> None:
    # The passes' blocks are three times larger where the thresholds are fixed: each point's value, error and status
    # are the same bit for bit, whatever the points its block holds.
    rng = np.random.default_rng(7)
    x = rng.uniform(low, high, 30_000) if low < 0 else np.exp(rng.uniform(np.log(low), np.log(high), 30_000))
    results = []
    for values in (blocks.FAST_BLOCK, blocks.FAST_BLOCK_IN_HEAP):
        blocks.set_fast_block(values)  # (conftest restores the default after the test)
        with np.errstate(all="ignore"):
            results.append(engine.derivative(f, x, order=order, method="auto"))
    small, large = results
    np.testing.assert_array_equal(small.value, large.value)
    np.testing.assert_array_equal(small.error, large.error)
    np.testing.assert_array_equal(small.status, large.status)
