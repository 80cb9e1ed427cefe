"""Run parsers of untrusted bytes in worker processes, each call under a deadline.

A regex, lxml or pypdf can't be interrupted from another thread, and they hold the GIL, so
running them in a thread still stalls the event loop (and a stuck one never ends). Here
each call goes to a long-lived worker process over a socket pair; a call that overruns
its deadline gets its worker killed and replaced, and the caller a BudgetError.

A worker imports its parsers as it starts (``preload``), and a killed worker's replacement
starts at once: the import takes 1-3 s, which the next call would otherwise wait out.

Workers are plain ``python -c`` children, not multiprocessing's: they never re-import the
caller's ``__main__`` (a script without a main guard, the CLI), never fork the bot's
threads, and import the parsers themselves, so the bot process never loads trafilatura.
``concurrent.futures.ProcessPoolExecutor`` is not used: it can't kill one stuck worker
(cancel() doesn't stop a running call) and breaks the whole pool when a worker dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import math
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from bot.errors import BriefbotError, BudgetError, UnsupportedContentError

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Worker processes; each runs one call at a time (more calls wait for a free one).
WORKERS = 2
# Seconds past the deadline after which a worker kills itself (SIGALRM's default action):
# the backstop when the bot died (SIGKILL) and nobody is left to kill a stuck worker.
_SELF_DESTRUCT_GRACE = 5
_BOOT = (
    "import sys; from bot.ingest.sandbox import serve_fd; serve_fd(int(sys.argv[1]), sys.argv[2:])"
)
#: What the process-wide pool's workers import as they start, before their first call.
PARSERS = ("trafilatura", "pypdf", "feedparser", "bot.ingest.extract", "bot.digest.feeds")
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)


def serve_fd(fd: int, preload: Sequence[str] = ()) -> None:
    """Worker entry point: import ``preload``, then serve calls on the inherited socket
    ``fd`` until it closes."""
    logging.getLogger().addHandler(logging.NullHandler())  # parsers' warnings stay quiet
    for name in preload:
        # A module that fails to import fails the call that needs it, with its own error.
        with contextlib.suppress(Exception):
            importlib.import_module(name)
    _serve(Connection(fd))


def _serve(conn: Connection) -> None:
    """Worker loop: run each (function, args, kwargs, alarm) sent, send back the outcome."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    while True:
        try:
            fn, args, kwargs, alarm = conn.recv()
        except (EOFError, OSError):
            return  # the parent closed the socket or died
        if hasattr(signal, "alarm"):
            signal.alarm(alarm)
        try:
            outcome: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except BriefbotError as exc:
            outcome = (False, (type(exc), exc.message, dict(vars(exc))))
        except Exception as exc:  # reported to the caller, who logs it
            outcome = (False, (None, f"{type(exc).__name__}: {exc}", {}))
        finally:
            if hasattr(signal, "alarm"):
                signal.alarm(0)
        try:
            conn.send(outcome)
        except (OSError, ValueError):
            return


class ParserCrash(RuntimeError):
    """A parser raised something other than a BriefbotError (a bug, logged as such)."""


def _rebuild(value: tuple[type[BriefbotError] | None, str, dict[str, Any]]) -> Exception:
    cls, message, state = value
    if cls is None:
        return ParserCrash(message)
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    vars(exc).update(state)  # message, hint, and any extra fields (FeedError.alternates)
    return exc


class _Worker:
    def __init__(self, preload: Sequence[str]) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p
        )
        with theirs:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-c", _BOOT, str(theirs.fileno()), *preload],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                env=env,
            )
        self.conn = Connection(ours.detach())

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        self.conn.close()


class ParserPool:
    """A few reusable parser processes; ``call`` runs one function under a deadline.

    Each worker imports the modules named in ``preload`` as it starts.
    """

    def __init__(self, workers: int = WORKERS, *, preload: Sequence[str] = ()) -> None:
        self.preload = tuple(preload)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self.workers = workers
        self._slots = threading.BoundedSemaphore(workers)
        self._loop_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._loop_slots = weakref.WeakKeyDictionary()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.pid = os.getpid()

    def _take(self) -> _Worker:
        for _ in range(self.workers + 1):  # bounded: a replacement may die as well
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker.alive():
                return worker
            self._drop(worker)  # an idle worker died (the OOM killer): its replacement is next
        return self._spawn()

    def _spawn(self) -> _Worker:
        worker = _Worker(self.preload)
        with self._lock:
            closed = self._closed
            if not closed:
                self._all.add(worker)
        if closed:  # close() ran while it started
            worker.kill()
            raise RuntimeError("the parser pool is closed")
        return worker

    def _drop(self, worker: _Worker) -> None:
        """Kill ``worker`` and start its replacement, which loads while nobody waits."""
        worker.kill()
        with self._lock:
            self._all.discard(worker)
        with contextlib.suppress(RuntimeError):
            self._idle.put(self._spawn())

    def prestart(self) -> None:
        """Start every worker not yet running, so the first calls find them loaded."""
        with self._lock:
            missing = 0 if self._closed else self.workers - len(self._all)
        with contextlib.suppress(RuntimeError):
            for _ in range(missing):
                self._idle.put(self._spawn())

    def call(self, fn: Callable[..., T], *args: Any, budget: float, what: str, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker; BudgetError if it takes over ``budget`` s.

        ``fn`` must be a module-level function; ``what`` names the input for messages.
        """
        if self._closed:
            raise RuntimeError("the parser pool is closed")
        with self._slots:
            worker = self._take()
            try:
                alarm = math.ceil(budget) + _SELF_DESTRUCT_GRACE
                worker.conn.send((fn, args, kwargs, alarm))
                if not worker.conn.poll(budget):
                    log.warning("%s overran its %g s budget; worker replaced", what, budget)
                    self._drop(worker)
                    raise BudgetError(
                        f"Briefbot gave up reading {what} after {budget:g} s: it is too "
                        "large or too complex to read in time.",
                        hint="Paste the article text instead.",
                    )
                ok, value = worker.conn.recv()
            except (EOFError, OSError) as exc:
                # The worker died mid-call: a parser crash (segfault) or the OOM killer.
                log.warning("the parser of %s died (%r); worker replaced", what, exc)
                self._drop(worker)
                raise UnsupportedContentError(
                    f"Briefbot couldn't read {what}: it broke the document reader.",
                    hint="Paste the article text instead.",
                ) from None
            self._idle.put(worker)
        if ok:
            return value
        raise _rebuild(value)

    async def run(
        self, fn: Callable[..., T], *args: Any, budget: float, what: str, **kwargs: Any
    ) -> T:
        """:meth:`call` from async code: the wait happens in a thread, never on the loop.

        Calls queue on the loop first, so waiting for a free worker never ties up one of
        the default executor's few threads (the store and DNS lookups need them too).
        """
        loop = asyncio.get_running_loop()
        slots = self._loop_slots.get(loop)
        if slots is None:
            slots = self._loop_slots[loop] = asyncio.Semaphore(self.workers)
        call = functools.partial(self.call, fn, *args, budget=budget, what=what, **kwargs)
        async with slots:
            return await asyncio.to_thread(call)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.kill()


_pool: ParserPool | None = None
_pool_lock = threading.Lock()


def parser_pool() -> ParserPool:
    """The process-wide pool, started on first use (a CLI run that parses nothing never
    starts one); a forked child gets its own."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool.pid != os.getpid():
            _pool = ParserPool(preload=PARSERS)
        return _pool
