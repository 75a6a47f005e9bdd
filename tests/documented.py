"""The numbers the README documents, written out as literals: the one place tests take them from.

A test's expectation must not come from the code under test (``engine.PRECISION`` loosened 5x would loosen every
test that reads it), so the thresholds are copied here from the README's text, and
``test_documented_numbers_are_the_readmes`` checks that the README still says them. When a threshold changes on
purpose, change the README and this file together (one edit each).
"""

from __future__ import annotations

# README, "Error estimates and warnings": "low accuracy: the estimated relative error is above 1e-10 (first
# derivatives; ...)": 10 correct digits is what a first derivative is vouched for.
FIRST_ORDER_VOUCHED = 1e-10

# The same sentence, "... 1e-11, 1e-10, 1e-8 for orders 2-4: 11, 10 and 8 correct digits": the goal of 11, 10 and
# 8 digits for orders 2-4 (higher orders lose digits to the larger stencils' amplification of rounding). The ONE
# place the order-2..4 expectations live.
HIGHER_ORDER_VOUCHED = {2: 1e-11, 3: 1e-10, 4: 1e-8}

# Relative error estimate above which a result is flagged as low accuracy, per derivative order.
VOUCHED = {1: FIRST_ORDER_VOUCHED, **HIGHER_ORDER_VOUCHED}

# README: "no reliable estimate: the best candidates disagree (relative error estimate above 1e-6)".
UNRELIABLE_ABOVE = 1e-6

# README, "How --method auto works": the fast pass settles "exp(sin(x)) on [-10, 10]: all but 0.03% of the points".
FAST_PASS_SETTLES = 1 - 0.0003

# README, "Error estimates and warnings": the estimate "bounds the true error within a factor 10".
ERROR_BOUND_FACTOR = 10


def readme_threshold_sentence() -> str:
    """The README's wording of the thresholds, built from the numbers above."""
    higher = ", ".join(written(VOUCHED[order]) for order in (2, 3, 4))
    return f"above {written(FIRST_ORDER_VOUCHED)} (first derivatives; {higher} for orders 2-4"


def written(number: float) -> str:
    """``1e-8`` as the README writes it (Python's ``1e-08``)."""
    return f"{number:g}".replace("e-0", "e-")
