"""`briefbot doctor` in fleet mode: PostgreSQL, the queue's workers and the OAuth settings."""

from __future__ import annotations

import io
import re

import pytest

from bot import doctor

_ROW = re.compile(r"^(\S.*?)\s{2,}(ok|warn|fail|skip)\s{2,}(.*)$")


def run_doctor(mode: str) -> tuple[int, dict[str, tuple[str, str]]]:
    out = io.StringIO()
    code = doctor.main(mode=mode, env_file=None, out=out)  # type: ignore[arg-type]
    rows = {}
    for line in out.getvalue().splitlines():
        if match := _ROW.match(line):
            rows[match.group(1)] = (match.group(2), match.group(3))
    return code, rows


def test_oauth_needs_both_credentials_and_http_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    _, rows = run_doctor("http")
    assert rows["OAuth"][0] == "fail" and "SLACK_CLIENT_SECRET" in rows["OAuth"][1]
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "s3cret-value")
    assert run_doctor("socket")[1]["OAuth"][0] == "fail"
    monkeypatch.setenv("SLACK_REDIRECT_URI", "http://example.com/callback")
    status, detail = run_doctor("http")[1]["OAuth"]
    assert status == "warn" and "https://<host>/slack/oauth_redirect" in detail
    monkeypatch.setenv("SLACK_REDIRECT_URI", "https://bot.example.com/slack/oauth_redirect")
    _, rows = run_doctor("http")
    assert rows["OAuth"][0] == "ok"
    assert "s3cret-value" not in str(rows)


@pytest.mark.postgres
def test_postgres_database_and_queue_rows(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    _, rows = run_doctor("http")
    assert rows["database"][0] == "ok" and "schema version" in rows["database"][1]
    # Queue tables are ready but no `briefbot worker` runs: say so, don't fail the deploy.
    assert rows["queue"][0] == "warn" and "briefbot worker" in rows["queue"][1]


def test_unreachable_postgres_fails_with_the_url_but_no_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot:hunter2@127.0.0.1:1/briefbot")
    code, rows = run_doctor("http")
    assert code == 1 and rows["database"][0] == "fail"
    assert "127.0.0.1:1" in rows["database"][1] and "hunter2" not in rows["database"][1]
