"""A module parser-pool tests name in ``preload``: importing it leaves a file named after
the importing process's pid in ``$BRIEFBOT_TEST_PRELOAD_DIR``, so a test can see which
workers loaded their modules, and when, without making a call."""

from __future__ import annotations

import os
from pathlib import Path

_where = os.environ.get("BRIEFBOT_TEST_PRELOAD_DIR")
if _where:
    Path(_where, str(os.getpid())).touch()
