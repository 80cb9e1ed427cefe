"""Which language an article is in, and what the offline engine can read.

Detection is py3langid (a maintained fork of langid.py whose model ships in the wheel:
no download at run time). It reads the opening of the text only: a few hundred
characters decide the language as well as the whole article does, at a fraction of
the cost.
"""

from __future__ import annotations

import re
import threading

#: Languages the offline engine's rules are written and measured for.
OFFLINE_LANGUAGES: tuple[str, ...] = ("en",)

#: Accepted by ``/brief settings language``: an ISO 639-1 code, optionally with a region.
LANGUAGE_CODE = re.compile(r"[a-z]{2}(?:-[A-Za-z]{2})?")

_SAMPLE_CHARS = 2000
_MIN_LETTERS = 20
_LETTER = re.compile(r"[^\W\d_]")
_lock = threading.Lock()

NAMES = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "et": "Estonian",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi",
    "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay",
    "nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "th": "Thai", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip


def language_name(code: str) -> str:
    """ "de" -> "German"; a code we have no name for stays a code."""
    return NAMES.get(code.split("-")[0].lower(), code)


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of ``text``'s language, or None when there is too little text."""
    sample = text[:_SAMPLE_CHARS]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return None
    import py3langid  # a 0.6 s model load on first use: only when an article needs it

    with _lock:  # the model loads lazily into a module global; load it once
        code, _ = py3langid.classify(sample)
    return str(code)


def offline_reads(code: str | None) -> bool:
    """Whether the offline engine's rules apply (unknown counts as English, the floor)."""
    return code is None or code in OFFLINE_LANGUAGES


def unsupported_note(code: str) -> str:
    """The footer and CLI note of a brief the offline engine could not read."""
    readable = ", ".join(language_name(c) for c in OFFLINE_LANGUAGES)
    return (
        f"This article is in {language_name(code)}; the offline engine reads only {readable}, "
        "so this brief is the article's opening sentences. With a model (OPENAI_API_KEY) "
        "Briefbot briefs articles in any language."
    )
