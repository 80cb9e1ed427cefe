"""Every module-level compiled pattern in bot/ stays fast on inputs built to hurt it.

Patterns are found, not listed: the test imports every module under bot/ and collects
each compiled pattern at module level (also inside module-level tuples, lists, sets and
dicts), so code added later (the offline engine's rewrite, say) is covered at once.

For each pattern it builds attack strings from the pattern's own parse tree: an example
match cut at several points and repeated (repeated prefixes), each repeated part pumped
then followed by a character that fails (near-misses, the classic ReDoS shape), and long
runs of every literal character and class member in the pattern. Each must be searched
within a generous bound: linear patterns take milliseconds here, while the two that
issue 15 found (exponential in sniff(), quadratic in extract) took seconds to minutes.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest

import bot
from bot.errors import BudgetError
from bot.ingest.sandbox import ParserPool
from tests.fakes import hostile

pytestmark = pytest.mark.slow

try:  # the parser of re patterns; private, so the test degrades to runs if it moves
    from re import _constants as sre_c  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older or newer Pythons
    sre_parse = sre_c = None

BOUND = 1.0  # seconds per search; a linear pattern takes ~1 ms on these inputs
LONG = 20_000  # characters in a polynomial attack (quadratic: ~4e8 steps, many seconds)
PUMPS = 26  # repetitions in an exponential attack (2**26 steps, many seconds)
_MAX_ATTACKS = 40


def _modules() -> Iterator[Any]:
    yield bot
    for info in pkgutil.walk_packages(bot.__path__, prefix="bot."):
        if info.name.endswith("__main__"):
            continue  # running it would start the CLI
        yield importlib.import_module(info.name)


def _patterns_in(value: Any, depth: int = 0) -> Iterator[re.Pattern[Any]]:
    if isinstance(value, re.Pattern):
        yield value
    elif hasattr(value, "pattern") and hasattr(value, "search") and hasattr(value, "flags"):
        yield value  # the third-party ``regex`` module's patterns
    elif depth < 2 and isinstance(value, tuple | list | set | frozenset):
        for item in value:
            yield from _patterns_in(item, depth + 1)
    elif depth < 2 and isinstance(value, dict):
        for item in value.values():
            yield from _patterns_in(item, depth + 1)


def discover() -> list[tuple[str, re.Pattern[Any]]]:
    """(where, pattern) for each distinct pattern; ``where`` names every module attribute."""
    names: dict[tuple[Any, int], list[str]] = {}
    patterns: dict[tuple[Any, int], re.Pattern[Any]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            for pattern in _patterns_in(value):
                key = (pattern.pattern, pattern.flags)
                patterns.setdefault(key, pattern)
                where = f"{module.__name__}.{name}"
                if where not in names.setdefault(key, []):
                    names[key].append(where)
    found = [(" ".join(names[k]), p) for k, p in patterns.items()]
    return sorted(found, key=lambda item: item[0])


# --- attack strings from the parse tree ----------------------------------------------------

_CATEGORY_EXAMPLE = {"DIGIT": "1", "SPACE": " ", "WORD": "a", "LINEBREAK": "\n"}
_CATEGORY_OTHER = {"DIGIT": "a", "SPACE": "a", "WORD": "!", "LINEBREAK": "a"}


def _category_char(code: Any) -> str:
    name = str(code)
    for key, char in _CATEGORY_EXAMPLE.items():
        if key in name:
            return _CATEGORY_OTHER[key] if "NOT" in name else char
    return "a"


def _class_chars(items: list[Any]) -> list[str]:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            chars.append(chr(arg))
        elif op is sre_c.RANGE:
            chars += [chr(arg[0]), chr(arg[1]), chr((arg[0] + arg[1]) // 2)]
        elif op is sre_c.CATEGORY:
            chars.append(_category_char(arg))
    if negate:  # a char outside the class, and the excluded ones for near-misses
        # A space first: it makes word boundaries, so "<link" + " " pumps where "a" can't.
        outside = next(c for c in " a!1\n<>x" if c not in chars)
        return [outside, *chars]
    return chars or ["a"]


class _Walker:
    """Builds an example match and collects the pattern's characters and pumpable parts."""

    def __init__(self) -> None:
        self.chars: set[str] = set()
        self.pumps: list[tuple[str, str]] = []  # (text before the repeat, one repetition)

    def example(self, items: Any, before: str = "") -> str:
        out = ""
        for op, arg in items:
            out += self._one(op, arg, before + out)
        return out

    def _one(self, op: Any, arg: Any, before: str) -> str:
        c = sre_c
        if op is c.LITERAL:
            self.chars.add(chr(arg))
            return chr(arg)
        if op is c.NOT_LITERAL:
            self.chars.add(chr(arg))
            return " " if chr(arg) != " " else "a"
        if op is c.ANY:
            return "a"
        if op is c.IN:
            chars = _class_chars(arg)
            self.chars.update(chars)
            return chars[0]
        if op is c.CATEGORY:
            return _category_char(arg)
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, high, body = arg
            once = self.example(body, before)
            if high is c.MAXREPEAT or high > 1:
                self.pumps.append((before, once))
            return once * max(low, 1) if high else ""
        if op is c.SUBPATTERN:
            return self.example(arg[-1], before)
        if op is c.ATOMIC_GROUP:
            return self.example(arg, before)
        if op is c.BRANCH:
            branches = [self.example(b, before) for b in arg[1]]
            return branches[0]
        if op in (c.ASSERT, c.ASSERT_NOT):
            self.example(arg[1], before)  # collect its chars and pumps; it consumes nothing
            return ""
        return ""  # AT (anchors), GROUPREF and the rest consume nothing we model


def attacks(pattern: re.Pattern[Any]) -> list[str]:
    """Adversarial inputs for one pattern (as str; bytes patterns get them encoded)."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode(
        "latin-1"
    )  # fmt: skip
    walker = _Walker()
    example = ""
    if sre_parse is not None and isinstance(pattern, re.Pattern):
        try:
            example = walker.example(sre_parse.parse(source, pattern.flags & ~re.UNICODE))
        except Exception:  # an unusual construct: fall back to runs of its characters
            example = ""
    chars = sorted(walker.chars | set(re.sub(r"[\\^$.|?*+()\[\]{}]", "", source)))
    out: list[str] = []
    for cut in sorted({len(example) * i // 4 for i in range(1, 5)} - {0}):
        piece = example[:cut]
        out.append(piece * (LONG // len(piece) + 1))  # repeated prefixes
        out.append(piece * (LONG // len(piece) + 1) + "\x00")
    if len(example) > 1:
        out.append(example[:-1] * (LONG // (len(example) - 1) + 1))  # near-misses
    for before, once in walker.pumps[:8]:
        if once:
            fail = "\x00" if "\x00" not in once else "\x01"
            out.append(before + once * PUMPS + fail)  # exponential shape
            out.append(before + once * (LONG // len(once)) + fail)  # polynomial shape
    for char in chars[:24]:
        out.append(char * LONG)  # runs of each literal char
        out.append(example[:1] + char * LONG + "\x00")
    seen: dict[str, None] = dict.fromkeys(s for s in out if s)
    return list(seen)[:_MAX_ATTACKS]


PATTERNS = discover()


def test_discovery_finds_the_patterns_we_know() -> None:
    names = " ".join(name for name, _ in PATTERNS).split()
    assert "bot.ingest.decode._HTML_TAG" in names
    assert "bot.ingest.extract._ATTR" in names
    assert "bot.ingest.links._SLACK_MARKUP" in names
    assert "bot.ingest.ssrf._BLOCKED_NETS" not in names  # not patterns: nothing else sneaks in
    assert len(PATTERNS) >= 40


# Each pattern's attacks run in a parser worker. The verdict is the worker's CPU time per
# search (BOUND), so load on the machine can't fail a linear pattern. The worker is also
# killed past a wall-clock budget, only so that a runaway pattern can't hang the suite:
# a linear pattern needs ~0.1 s of CPU for all its attacks, a quadratic one minutes.
BUDGET = 1.2  # for the old patterns, which must overrun it
HANG_BUDGET = 30.0  # for today's patterns: a hang guard, never reached by a linear one


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    workers = ParserPool(workers=2)
    yield workers
    workers.close()


@pytest.mark.parametrize(
    "old",
    [
        re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head)\b", re.I | re.S),
        re.compile(
            r"""<link\b(?=[^>]*\brel\s*=\s*["']?canonical\b)[^>]*\bhref\s*=\s*["']?([^"'\s>]+)""",
            re.I,
        ),
    ],
    ids=["old-sniff", "old-canonical"],
)
def test_the_generator_catches_the_patterns_issue_15_found(
    pool: ParserPool, old: re.Pattern[Any]
) -> None:
    # The exponential sniff() and the quadratic canonical-link patterns, as they were:
    # some generated input must make each overrun the bound (or the whole budget).
    try:
        took, _ = pool.call(hostile.search_all, old, attacks(old), budget=BUDGET, what="old")
    except BudgetError:
        return
    assert took > BOUND


def _cases() -> list[Any]:
    # No pattern is excused: the offline engine's slow ones were made linear (issue 15).
    return [pytest.param(name, pattern, id=name.split()[0]) for name, pattern in PATTERNS]


@pytest.mark.parametrize(("name", "pattern"), _cases())
def test_pattern_is_fast_on_adversarial_input(
    pool: ParserPool, name: str, pattern: re.Pattern[Any]
) -> None:
    texts = attacks(pattern)
    try:
        took, text = pool.call(hostile.search_all, pattern, texts, budget=HANG_BUDGET, what=name)
    except BudgetError:
        pytest.fail(f"{name} = {pattern.pattern!r} ran past {HANG_BUDGET} s on {len(texts)} inputs")
    assert took < BOUND, f"{name} = {pattern.pattern!r} took {took:.1f} s on {text!r}…"
