"""What an OpenAI-compatible server says about itself, and the shared call limiter.

Local servers (llama.cpp, Ollama, LM Studio, a small vLLM) serve only a few requests at
once (slots) and queue the rest. A call queued in the server still runs its timeout, so
sending more calls than there are slots turns a slow server into a storm of timeouts and
retries. Briefbot therefore keeps its own queue: one limiter per endpoint and event loop,
shared by every brief, sized to ``min(BRIEFBOT_LLM_CONCURRENCY, slots)``. A call's timeout
starts when the limiter admits it, never while it waits behind our own calls.

llama.cpp reports its slots and context at ``GET /props``; ``GET /v1/models`` gives the
model names (and, from llama.cpp, ``meta.n_ctx``).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:  # typing only: the CLI imports this module before the openai client
    import openai

    from bot.config import Settings

log = logging.getLogger("bot.engines.openai")

#: Seconds for a server's self-description: it is a cheap local read.
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class ServerInfo:
    """What the server reported; None where it did not say."""

    models: tuple[str, ...] = ()
    context: int | None = None
    slots: int | None = None
    #: The model llama.cpp's /props names (its alias or file).
    props_model: str | None = None

    @property
    def is_llama_cpp(self) -> bool:
        return self.slots is not None


def server_root(base_url: str) -> str:
    """The server's root (``/props`` lives there): the base URL without a final ``/v1``."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def parse_props(body: Any) -> tuple[int | None, int | None, str | None]:
    """(context, slots, model) from a llama.cpp ``/props`` body."""
    if not isinstance(body, dict):
        return None, None, None
    settings = body.get("default_generation_settings")
    context = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
    model = body.get("model_alias") or body.get("model_path")
    return context, _positive(body.get("total_slots")), model if isinstance(model, str) else None


def parse_models(body: Any) -> tuple[tuple[str, ...], int | None]:
    """(model ids and aliases, context) from a ``/v1/models`` body."""
    data = body.get("data") if isinstance(body, dict) else None
    names: list[str] = []
    context = None
    for entry in data if isinstance(data, list) else []:
        if not isinstance(entry, dict):
            continue
        names.extend(n for n in [entry.get("id"), *(entry.get("aliases") or [])]
                     if isinstance(n, str))  # fmt: skip
        meta = entry.get("meta")
        if isinstance(meta, dict):
            context = context or _positive(meta.get("n_ctx"))
    return tuple(dict.fromkeys(names)), context


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def read_server_info(
    base_url: str, api_key: str = "", *, timeout: float = PROBE_TIMEOUT
) -> ServerInfo:
    """Ask the server (synchronously, for ``briefbot doctor``); raise httpx errors."""
    with httpx.Client(timeout=timeout, headers=_headers(api_key)) as client:
        models_response = client.get(base_url.rstrip("/") + "/models")
        models_response.raise_for_status()
        models, context = parse_models(models_response.json())
        props = client.get(server_root(base_url) + "/props")
    props_context, slots, props_model = (
        parse_props(props.json()) if props.status_code == 200 else (None, None, None)
    )
    return ServerInfo(models=models, context=props_context or context, slots=slots,
                      props_model=props_model)  # fmt: skip


async def read_slots(base_url: str, api_key: str = "") -> int | None:
    """llama.cpp's slot count from ``/props``; None for any server that doesn't say."""
    try:
        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT, headers=_headers(api_key)) as client:
            response = await client.get(server_root(base_url) + "/props")
        if response.status_code != 200:
            return None
        return parse_props(response.json())[1]
    except (httpx.HTTPError, ValueError):
        return None


# One limiter per (event loop, endpoint and its settings): every brief in the process
# shares it. Per loop because a semaphore belongs to one loop (the CLI runs one per brief).
_LimiterKey = tuple[str, int, int]
_limiters: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[_LimiterKey, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()
_probe_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


async def shared_limiter(
    endpoint: str, *, concurrency: int, slots_setting: int, api_key: str = "", probe: bool
) -> asyncio.Semaphore:
    """The process-wide limiter for ``endpoint`` on this loop (created on first use).

    Its size is ``concurrency``, capped by ``slots_setting`` when set, else by the slots
    the server reports (``probe``: only for servers other than OpenAI's).
    """
    loop = asyncio.get_running_loop()
    per_loop = _limiters.setdefault(loop, {})
    key = (endpoint, concurrency, slots_setting)
    if key in per_loop:
        return per_loop[key]
    lock = _probe_locks.setdefault(loop, asyncio.Lock())
    async with lock:  # one probe, even when a brief's chunk calls all start at once
        if key in per_loop:
            return per_loop[key]
        slots = slots_setting or None
        if slots is None and probe:
            slots = await read_slots(endpoint, api_key)
        size = min(concurrency, slots) if slots else concurrency
        if size < concurrency:
            log.info("model server serves %d request(s) at once; sending at most %d",
                     slots, size)  # fmt: skip
        per_loop[key] = asyncio.Semaphore(size)
        return per_loop[key]


async def limiter_for(settings: Settings, client: openai.AsyncOpenAI) -> asyncio.Semaphore:
    """The process-wide bound on model calls in flight to this client's endpoint.

    Briefs, chunk calls and questions all take it, so a one-slot local server never sees
    more requests than it can serve while our own timeouts run.
    """
    base_url = settings.openai_base_url or ""
    key = settings.openai_api_key
    return await shared_limiter(
        str(client.base_url),
        concurrency=settings.llm_concurrency,
        slots_setting=settings.llm_server_slots,
        api_key=key.get_secret_value().strip() if key else "",
        # OpenAI's own API has no /props; any other server may (llama.cpp does).
        probe=bool(base_url) and "api.openai.com" not in base_url,
    )


def output_cap(settings: Settings) -> dict[str, Any]:
    """The request's answer cap, when one is set (BRIEFBOT_LLM_MAX_OUTPUT_TOKENS)."""
    cap = settings.llm_max_output_tokens
    return {"max_completion_tokens": cap} if cap else {}
