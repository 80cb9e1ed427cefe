"""Block Kit checks FakeSlack applies, with Slack's invalid_blocks message format."""

from __future__ import annotations

from typing import Any

# Slack's limits (docs.slack.dev: chat.update, chat.postMessage, Block Kit reference).
UPDATE_TEXT_LIMIT = 4000
POST_TEXT_LIMIT = 40000
MAX_BLOCKS = 50
SECTION_TEXT_LIMIT = 3000
SECTION_FIELDS_MAX = 10
FIELD_TEXT_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
CONTEXT_ELEMENTS_MAX = 10
BLOCK_ID_LIMIT = 255
KNOWN_BLOCKS = {
    "section", "header", "context", "divider", "actions", "image", "rich_text", "input",
    "file", "video", "markdown", "table", "context_actions",
}  # fmt: skip


def _text_len(obj: Any) -> int:
    return len(obj.get("text", "")) if isinstance(obj, dict) else 0


def validate_blocks(blocks: Any) -> list[str]:
    """Slack's invalid_blocks messages for `blocks`; empty when Slack would accept them."""
    if not isinstance(blocks, list):
        return ["[ERROR] must be an array [json-pointer:/blocks]"]
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, block in enumerate(blocks):
        where = f"/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in KNOWN_BLOCKS:
            errors.append(f"[ERROR] unsupported type [json-pointer:{where}/type]")
            continue
        if len(str(block.get("block_id", ""))) > BLOCK_ID_LIMIT:
            errors.append(
                f"[ERROR] must be less than 256 characters [json-pointer:{where}/block_id]"
            )
        kind = block["type"]
        if kind == "section":
            text, fields = block.get("text"), block.get("fields")
            if text is None and not fields:
                errors.append(f"[ERROR] must provide text or fields [json-pointer:{where}]")
            if text is not None and not 0 < _text_len(text) <= SECTION_TEXT_LIMIT:
                errors.append(
                    f"[ERROR] must be between 1 and {SECTION_TEXT_LIMIT} characters "
                    f"[json-pointer:{where}/text/text]"
                )
            for j, fld in enumerate(fields or []):
                if not 0 < _text_len(fld) <= FIELD_TEXT_LIMIT:
                    errors.append(
                        f"[ERROR] must be between 1 and {FIELD_TEXT_LIMIT} characters "
                        f"[json-pointer:{where}/fields/{j}/text]"
                    )
            if fields and len(fields) > SECTION_FIELDS_MAX:
                errors.append(
                    f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]"
                )
        elif kind == "header":
            if not 0 < _text_len(block.get("text")) <= HEADER_TEXT_LIMIT:
                errors.append(
                    f"[ERROR] must be between 1 and {HEADER_TEXT_LIMIT} characters "
                    f"[json-pointer:{where}/text/text]"
                )
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= CONTEXT_ELEMENTS_MAX:
                errors.append(
                    f"[ERROR] must provide 1 to 10 elements [json-pointer:{where}/elements]"
                )
    return errors
