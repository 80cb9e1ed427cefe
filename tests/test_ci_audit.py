"""The CI dependency audit's verdict: a known vulnerability fails CI; an unreachable
vulnerability service is reported as an audit that did not run, never as a pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

AUDIT = Path(__file__).resolve().parent.parent / ".ci" / "audit.py"


def _audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ci_audit", AUDIT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_known_vulnerability_fails_ci_and_names_the_fix() -> None:
    code, lines = _audit().verdict(
        [
            {"name": "jinja2", "version": "3.1.2", "vulns": [
                {"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]},
            {"name": "httpx", "version": "0.28.1", "vulns": []},
        ]
    )  # fmt: skip
    assert code == 1
    assert "audit: jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in lines
    assert lines[-1] == "audit: FAILED: 1 of 2 dependencies are vulnerable"


def test_an_unreachable_service_says_nothing_was_checked() -> None:
    skipped = {"skip_reason": "Dependency not found on PyPI and could not be audited"}
    code, lines = _audit().verdict([{"name": "six", **skipped}, {"name": "idna", **skipped}])
    assert code == 0
    assert lines[0].startswith("audit: NOT RUN:") and "nothing was checked" in lines[0]


def test_a_clean_audit_counts_what_it_checked() -> None:
    code, lines = _audit().verdict(
        [
            {"name": "httpx", "version": "0.28.1", "vulns": []},
            {"name": "private-pkg", "skip_reason": "not on PyPI"},
        ]
    )
    assert code == 0
    assert lines == [
        "audit: not audited: private-pkg: not on PyPI",
        "audit: 1 of 2 dependencies audited; none vulnerable",
    ]
