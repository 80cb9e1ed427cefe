"""Prometheus metrics for the bot (bot.health serves them, with /healthz and /readyz).

Every metric lives in :data:`REGISTRY`, our own CollectorRegistry rather than
prometheus-client's global one, so importing a library that registers its own metrics
can't clash with ours and tests read exactly what Briefbot recorded.

Who records what:

- ``bot.ingest.load_article``: the fetch and extract stage times (:func:`timed`);
- ``bot.service.BriefService``: briefs by outcome, the model stage's time, tokens, calls
  and estimated cost by model;
- the Slack server (bot.slack.serve): jobs queued and in flight (:func:`watch_jobs`), Web
  API call times as the ``post`` stage (:func:`slack_trace_config` on its aiohttp session);
- digest delivery (bot.digest.delivery): :func:`record_digest` with each run's status.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from bot import __version__

if TYPE_CHECKING:
    import aiohttp
    from aiohttp import TraceRequestEndParams

# aiohttp is imported inside the functions that serve or trace: the CLI records metrics
# too, and shouldn't pay a tenth of a second for a web server it never starts.

log = logging.getLogger(__name__)


REGISTRY = CollectorRegistry(auto_describe=True)

#: Outcomes besides error kinds (BriefbotError.code: fetch_failed, no_text, ...).
OUTCOMES = ("ok", "cached", "fallback")
STAGES = ("fetch", "extract", "model", "post")
#: Seconds: from a cached extract (ms) to a long map-reduce brief (minutes).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300)
#: Slack Web API methods whose time counts as the ``post`` stage.
_POST_METHODS = frozenset({"chat.postMessage", "chat.update", "chat.delete"})

info = Gauge("briefbot_info", "Always 1; the version label says which Briefbot runs.",
             ["version"], registry=REGISTRY)  # fmt: skip
briefs = Counter(
    "briefbot_briefs", "Briefs by outcome: ok, cached, fallback (offline brief after a model "
    "failure) or the error kind (fetch_failed, no_text, model_unavailable, ...).",
    ["outcome"], registry=REGISTRY,
)  # fmt: skip
stage_seconds = Histogram(
    "briefbot_stage_seconds", "Time spent per stage: fetch, extract, model, post (one Slack "
    "chat.* call).", ["stage"], buckets=_BUCKETS, registry=REGISTRY,
)  # fmt: skip
tokens = Counter("briefbot_model_tokens", "Model tokens by model and direction (in, out).",
                 ["model", "direction"], registry=REGISTRY)  # fmt: skip
model_calls = Counter("briefbot_model_calls", "Model calls by model.", ["model"],
                      registry=REGISTRY)  # fmt: skip
cost_usd = Counter(
    "briefbot_model_cost_usd", "Estimated model spend in US dollars (BRIEFBOT_PRICES), by model.",
    ["model"], registry=REGISTRY,
)  # fmt: skip
jobs_queued = Gauge("briefbot_jobs_queued", "Slack jobs waiting to run.", registry=REGISTRY)
jobs_in_flight = Gauge("briefbot_jobs_in_flight", "Slack jobs running now.", registry=REGISTRY)
digest_runs = Counter("briefbot_digest_runs", "Digest runs by status (posted, empty, skipped, "
                      "failed, taken).", ["status"], registry=REGISTRY)  # fmt: skip

info.labels(version=__version__).set(1)
# Known label values start at 0, so rate() and alerts work before the first event.
for _outcome in OUTCOMES:
    briefs.labels(outcome=_outcome)
for _stage in STAGES:
    stage_seconds.labels(stage=_stage)


# --- recording ---------------------------------------------------------------------------


def record_brief(outcome: str) -> None:
    """Count one brief: ok, cached, fallback, or a BriefbotError code."""
    briefs.labels(outcome=outcome).inc()


def observe_stage(stage: str, seconds: float) -> None:
    stage_seconds.labels(stage=stage).observe(max(0.0, seconds))


@contextmanager
def timed(stage: str) -> Iterator[None]:
    """Observe the block's wall time as ``stage`` when it finishes without an exception."""
    started = time.perf_counter()
    yield
    observe_stage(stage, time.perf_counter() - started)


def record_usage(model: str, *, tokens_in: int, tokens_out: int, calls: int, cost: float) -> None:
    """Add one brief's model usage (skip briefs that made no model call)."""
    if not (calls or tokens_in or tokens_out):
        return
    tokens.labels(model=model, direction="in").inc(max(0, tokens_in))
    tokens.labels(model=model, direction="out").inc(max(0, tokens_out))
    model_calls.labels(model=model).inc(max(0, calls))
    cost_usd.labels(model=model).inc(max(0.0, cost))


def record_digest(status: str) -> None:
    """Count one digest run by its RunResult.status."""
    digest_runs.labels(status=status).inc()


def watch_jobs(*, queued: Callable[[], float], in_flight: Callable[[], float]) -> None:
    """Read the job gauges from these callables at each scrape (the queue is the truth)."""
    _job_sources.update(queued=queued, in_flight=in_flight)


def unwatch_jobs() -> None:
    """Stop reading the job gauges from callables (at shutdown, before the queue closes)."""
    _job_sources.clear()


_job_sources: dict[str, Callable[[], float]] = {}


def _refresh_job_gauges() -> None:
    for name, gauge in (("queued", jobs_queued), ("in_flight", jobs_in_flight)):
        source = _job_sources.get(name)
        if source is None:
            continue
        try:
            gauge.set(source())
        except Exception as exc:  # a closed queue must not break the scrape
            log.warning("metrics: can't read jobs %s: %s", name, exc)


def slack_trace_config() -> aiohttp.TraceConfig:
    """An aiohttp trace config that times chat.* Web API calls as the ``post`` stage.

    Pass it to the aiohttp session the Slack client uses:
    ``aiohttp.ClientSession(trace_configs=[metrics.slack_trace_config()])``.
    """
    import aiohttp

    async def start(
        session: aiohttp.ClientSession,
        ctx: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        ctx.started = time.perf_counter()

    async def end(
        session: aiohttp.ClientSession, ctx: SimpleNamespace, params: TraceRequestEndParams
    ) -> None:
        method = params.url.path.rstrip("/").rsplit("/", 1)[-1]
        if method in _POST_METHODS:
            observe_stage("post", time.perf_counter() - ctx.started)

    config = aiohttp.TraceConfig()
    config.on_request_start.append(start)
    config.on_request_end.append(end)
    return config


def metrics_text() -> bytes:
    """Every metric in the Prometheus text format."""
    _refresh_job_gauges()
    return generate_latest(REGISTRY)


# --- health and readiness ----------------------------------------------------------------
