"""`briefbot worker` and `briefbot db copy` answer bad set-ups with one line, no traceback."""

from __future__ import annotations

import pytest

from bot.cli import main


def test_worker_without_postgres_says_serve_runs_the_jobs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["worker"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DATABASE_URL=postgresql://" in err
    assert "`briefbot serve` runs the jobs itself" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("sqlite:///old.db", "sqlite:///new.db", "is not PostgreSQL"),
        ("postgresql://db/x", "postgresql://db/y", "The source must be a SQLite database"),
        ("sqlite:///old.db", "postgresql://bot:pw@127.0.0.1:1/x", "Cannot connect to PostgreSQL"),
    ],
)
def test_db_copy_refuses_wrong_ends_with_the_fix(
    source: str, target: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "copy", "--from", source, "--to", target]) == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and ":pw@" not in err
