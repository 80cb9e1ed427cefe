"""Dependency audit for CI: pip-audit over the exact versions the project installs.

Run by ``.ci/run`` as ``python3 .ci/audit.py .venv``. It audits ``pip freeze`` of that
environment (the project itself excluded) against PyPI's vulnerability data, from a venv
of its own, so the project's environment stays as users get it.

- A known vulnerability in any dependency fails CI (exit 1) and is listed with its fix.
- A package PyPI can't tell us about is listed as not audited. When PyPI's JSON API
  answers for none of them (as on the machines this project is built on: PyPI's index and
  files are reachable there, its JSON API is not), the audit says plainly that nothing was
  checked and exits 0: an unreachable vulnerability service is a fact about the machine,
  not a finding about the code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

PIP_AUDIT = "pip-audit==2.10.1"


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, text=True, capture_output=True, **kwargs)  # type: ignore[call-overload]  # noqa: S603


def main(project_venv: str) -> int:
    frozen = _run([str(Path(project_venv) / "bin" / "pip"), "freeze", "--exclude-editable"])
    if frozen.returncode:
        print(frozen.stderr, file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "audit"
        setup = _run([sys.executable, "-m", "venv", str(venv)])
        if not setup.returncode:
            env = {**os.environ, "PIP_CONSTRAINT": ""}  # pip-audit is not one of ours
            setup = _run([str(venv / "bin" / "pip"), "install", "-q", PIP_AUDIT], env=env)
        if setup.returncode:
            print(setup.stdout + setup.stderr, file=sys.stderr)
            print("audit: could not install pip-audit", file=sys.stderr)
            return 1
        requirements = Path(tmp) / "requirements.txt"
        requirements.write_text(frozen.stdout)
        report = Path(tmp) / "report.json"
        audit = _run(
            [str(venv / "bin" / "pip-audit"), "-r", str(requirements), "--no-deps",
             "--disable-pip", "-s", "pypi", "--timeout", "20", "--progress-spinner", "off",
             "-f", "json", "-o", str(report)],
        )  # fmt: skip
        if not report.exists():
            print(audit.stdout + audit.stderr, file=sys.stderr)
            print("audit: pip-audit did not run (see above)", file=sys.stderr)
            return 1
        deps = json.loads(report.read_text()).get("dependencies", [])
    code, lines = verdict(deps)
    print("\n".join(lines))
    return code


def verdict(deps: list[dict[str, Any]]) -> tuple[int, list[str]]:
    """Exit code and report lines for pip-audit's JSON ``dependencies``."""
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    lines = [
        f"audit: {dep['name']} {dep['version']}: {vuln['id']} "
        f"(fixed in {', '.join(vuln.get('fix_versions') or []) or 'no release yet'})"
        for dep in vulnerable
        for vuln in dep["vulns"]
    ]
    if vulnerable:
        return 1, [
            *lines,
            f"audit: FAILED: {len(vulnerable)} of {len(deps)} dependencies are vulnerable",
        ]
    if deps and len(skipped) == len(deps):
        return 0, [
            f"audit: NOT RUN: PyPI's vulnerability data answered for none of the {len(deps)} "
            "dependencies (its JSON API is unreachable from this machine); nothing was checked"
        ]
    lines += [f"audit: not audited: {dep['name']}: {dep['skip_reason']}" for dep in skipped]
    audited = len(deps) - len(skipped)
    return 0, [*lines, f"audit: {audited} of {len(deps)} dependencies audited; none vulnerable"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else ".venv"))
