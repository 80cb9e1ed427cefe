"""``briefbot doctor``'s rows for a self-hosted model server (llama.cpp, Ollama, vLLM).

What the server reports about itself (``/v1/models``, and llama.cpp's ``/props``: model,
context length, slots) against what Briefbot will ask of it: a chunk plus the answer must
fit one request's context, and more calls at once than the server has slots only queue.
"""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.doctor_checks import TIMEOUT, Check, ok, safe_url, secret_text, skip, warn
from bot.engines.llm_server import ServerInfo, read_server_info

#: Chunks are counted with tiktoken; a local model's own tokenizer may count ~10% more.
TOKENIZER_MARGIN = 1.1


def server_checks(settings: Settings) -> list[Check]:
    """Rows for the server at OPENAI_BASE_URL; none for OpenAI's own API."""
    base_url = settings.openai_base_url
    if not base_url or "api.openai.com" in base_url:
        return []
    try:
        info = read_server_info(
            base_url,
            secret_text(settings.openai_api_key).strip(),
            timeout=min(TIMEOUT, settings.llm_timeout),
        )
    except (httpx.HTTPError, ValueError):
        return []  # the endpoint row already says what is wrong with the server
    return [describe(info, base_url), *fit_checks(settings, info)]


def describe(info: ServerInfo, base_url: str) -> Check:
    where = safe_url(base_url)
    if not info.is_llama_cpp:
        return skip(
            "model server",
            f"{where} doesn't report slots or context (no llama.cpp "
            "/props): set BRIEFBOT_LLM_SERVER_SLOTS to its parallel requests "
            "(Ollama: OLLAMA_NUM_PARALLEL)",
        )
    context = f"context {info.context} tokens" if info.context else "context unknown"
    slots = f"{info.slots} slot" + ("s" if info.slots != 1 else "")
    return ok(
        "model server", f"llama.cpp at {where}: {info.props_model or '?'}, {context}, {slots}"
    )


def fit_checks(settings: Settings, info: ServerInfo) -> list[Check]:
    """Warnings when a chunk won't fit the context, or concurrency exceeds the slots."""
    rows: list[Check] = []
    out = settings.llm_max_output_tokens
    chunk = settings.chunk_tokens
    if info.context:
        need = round(chunk * TOKENIZER_MARGIN) + out
        if need > info.context:
            most = max(int((info.context - out) / TOKENIZER_MARGIN), 0)
            detail = (
                f"BRIEFBOT_CHUNK_TOKENS={chunk} (prompt included, +10% for the model's "
                f"tokenizer) plus BRIEFBOT_LLM_MAX_OUTPUT_TOKENS={out} won't fit the "
                f"server's {info.context}-token context. Set BRIEFBOT_CHUNK_TOKENS to at "
                f"most {most}, or give the server a longer context."
            )
            rows.append(warn("model context", detail))
        else:
            detail = f"a {chunk}-token chunk and a {out}-token answer fit {info.context} tokens"
            rows.append(ok("model context", detail))
    slots = settings.llm_server_slots or info.slots
    concurrency = settings.llm_concurrency
    if slots and concurrency > slots:
        detail = (
            f"BRIEFBOT_LLM_CONCURRENCY={concurrency} is above the server's {slots} slot(s): "
            f"Briefbot sends at most {slots} at a time and queues the rest. Set "
            f"BRIEFBOT_LLM_CONCURRENCY={slots}, or start the server with more slots."
        )
        rows.append(warn("model slots", detail))
    return rows
