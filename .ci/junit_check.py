"""Check that a JUnit XML report has the structure CI systems read: the required elements and attributes.

    python .ci/junit_check.py REPORT.xml [--tests N] [--failures N]

Exit status 0 when the report is well formed, 1 with one line per problem otherwise. Used by .ci/run on the report
of ``numdiff check examples/checks.toml --junit`` and by tests/test_check.py.
"""

from __future__ import annotations

import sys
from xml.etree import ElementTree


def problems(text: str) -> list[str]:
    """What is missing from the JUnit XML ``text`` (an empty list for a well-formed report)."""
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        return [f"not XML: {error}"]
    found: list[str] = []
    if root.tag != "testsuites":
        return [f"the root element is <{root.tag}>, not <testsuites>"]
    suites = root.findall("testsuite")
    if not suites:
        found.append("<testsuites> has no <testsuite>")
    for element in [root, *suites]:
        for attribute in ("tests", "failures"):
            value = element.get(attribute)
            if value is None or not value.isdigit():
                found.append(f"<{element.tag}> needs a count {attribute}=, has {value!r}")
    for suite in suites:
        if suite.get("name") is None:
            found.append("<testsuite> needs name=")
        cases = suite.findall("testcase")
        if suite.get("tests", "").isdigit() and int(suite.get("tests", "0")) != len(cases):
            found.append(f"<testsuite> says tests={suite.get('tests')} but has {len(cases)} <testcase>")
        failed = 0
        for case in cases:
            for attribute in ("name", "classname"):
                if not case.get(attribute):
                    found.append(f"<testcase> needs {attribute}=")
            failures = case.findall("failure")
            failed += bool(failures)
            for failure in failures:
                if failure.get("message") is None:
                    found.append(f"<failure> of {case.get('name')!r} needs message=")
            for child in case:
                if child.tag not in ("failure", "error", "skipped", "system-out", "system-err", "properties"):
                    found.append(f"<testcase> {case.get('name')!r} has an unknown element <{child.tag}>")
        if suite.get("failures", "").isdigit() and int(suite.get("failures", "0")) != failed:
            found.append(f"<testsuite> says failures={suite.get('failures')} but {failed} test cases failed")
    return found


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as stream:
        text = stream.read()
    found = problems(text)
    expected = dict(zip(argv[1::2], argv[2::2]))
    root = ElementTree.fromstring(text) if not found else None
    for option, attribute in (("--tests", "tests"), ("--failures", "failures")):
        if root is not None and option in expected and root.get(attribute) != expected[option]:
            found.append(f"{attribute}={root.get(attribute)}, expected {expected[option]}")
    for problem in found:
        print(f"{argv[0]}: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
