"""Bad input across the whole bot: each case gets its user-facing message, and the bot serves on.

Slack inputs go through the real app in Socket Mode against the fake Slack; inputs where
Slack adds nothing (schemes Slack never links, digest and feed commands) go through the
CLI entry point or the command handlers the Slack router calls. Link hosts are answered
by a fake resolver and every connection is dialled to the loopback article server.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import httpcore
import pytest
from pypdf import PdfReader, PdfWriter

from bot import cli
from bot.config import Settings
from bot.digest.subscriptions import handle_digest_command, handle_feed_command
from bot.ingest import ssrf
from bot.store import Store
from tests.fakes.openai_server import FakeOpenAI
from tests.fakes.slack import FakeSlack, slash_command_payload
from tests.fakes.web import (
    ARTICLE_HTML,
    ARTICLE_PARAGRAPHS,
    ARTICLE_TITLE,
    PNG_1PX,
    FakeWeb,
    article_pdf,
)
from tests.test_slack_support import bot_running, bot_settings, is_brief, paste

BRIEF = "<a brief>"  # the expected outcome is a brief, not a message
SILENT = "<nothing>"  # the bot rightly stays silent (nothing to brief in a channel message)
TRACEBACK_WORDS = ("Traceback", 'File "', "Exception", "Error:", "internal error")

# Forty words or more in other scripts: the bot must brief them, not choke on them.
DEVANAGARI = " ".join(["भारत और अमेरिका के विदेश मंत्रियों ने व्यापार समझौते पर बातचीत की।"] * 6)
ARABIC = " ".join(["اجتمع وزراء الخارجية في القاهرة لمناقشة اتفاق التجارة الجديد."] * 7)
HEBREW_RTL = "\u202e" + " ".join(["שרי החוץ נפגשו בירושלים כדי לדון בהסכם הסחר."] * 7)
# Chinese and Japanese put no spaces between words: a real paste is one "word" to split().
CJK = (
    "哈尔登港务局与码头工人工会周二晚间达成临时工资协议，结束了持续三周的罢工。"
    "罢工期间，四十多艘集装箱船在近海等待，地区出口商损失估计达三千万欧元。"
)
JAPANESE = (
    "ハルデン港と港湾労働者組合は火曜日の夜、三週間続いたストライキを終わらせる賃金協定に"
    "暫定合意した。組合員は来週、この合意を批准するかどうか投票する。"
)
LATIN = " ".join(p for p in ARTICLE_PARAGRAPHS[:2])


@dataclass(frozen=True)
class Case:
    """One bad input: how it arrives, what is sent, what the user must see."""

    name: str
    via: Literal["paste", "command", "mention"]
    text: str  # "{web}" is the article server's base URL
    expect: str


SLACK_CASES: list[Case] = [
    Case("empty message", "paste", "", SILENT),
    Case("whitespace only", "paste", "  \n\t  ", SILENT),
    Case("only an image link", "paste", "<https://cdn.example.com/photo.jpg>", SILENT),
    Case("only a video link", "paste", "<https://www.youtube.com/watch?v=dQw4w9WgXcQ>", SILENT),
    Case("image and video", "paste", "<https://x.example/a.png> <https://x.example/v.mp4>", SILENT),
    Case("a mailto link", "paste", "<mailto:a@example.com|a@example.com>", SILENT),
    Case("emoji only", "paste", "🎉🎉🎉 🚀 🔥🔥", SILENT),
    Case("zero-width only", "paste", "\u200b\u200c\u200d\ufeff", SILENT),
    Case("html-looking text", "paste", "&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;", SILENT),
    Case(
        "credentials in the link",
        "paste",
        "<http://user:pass@news.example/article>",
        "user name or password",
    ),
    Case(
        "unresolvable host", "paste", "<http://no-such-host.invalid/article>", "Couldn't find host"
    ),
    Case("IDN host", "paste", "<http://bücher.example/article>", BRIEF),
    Case("punycode host", "paste", "<http://xn--bcher-kva.example/article>", BRIEF),
    Case("page of only scripts", "paste", "<{web}/script-only>", "No readable article text"),
    Case("meta-refresh page", "paste", "<{web}/h/refresh>", "No readable article text"),
    Case("gzip bomb", "paste", "<{web}/bomb>", "larger than"),
    Case("truncated body", "paste", "<{web}/h/truncated>", "connection failed"),
    Case("binary as text/html", "paste", "<{web}/h/binary>", "No readable article text"),
    Case("encrypted PDF", "paste", "<{web}/h/encrypted.pdf>", "password-protected"),
    Case("image-only PDF", "paste", "<{web}/h/blank.pdf>", "No readable article text"),
    Case("a link ending .png", "paste", "<{web}/image.png>", SILENT),
    Case("an image behind a page-like link", "paste", "<{web}/h/photo>", "not an article"),
    Case("JSON served as a page", "paste", "<{web}/data.json>", "not an article"),
    Case("404", "paste", "<{web}/missing>", "HTTP 404"),
    Case("redirect loop", "paste", "<{web}/loop/a>", "redirects in a loop"),
    Case("redirect to file://", "paste", "<{web}/to-file>", "only reads http(s)"),
    Case("bidi override in a label", "paste", "<{web}/article|\u202efdp.exe>", BRIEF),
    Case("mention without a link", "mention", "<@UBOT> what about this?", "Mention me with a link"),
    Case("slash: empty", "command", "", "/brief"),
    Case("slash: unknown subcommand", "command", "frobnicate", "I don't know `/brief frobnicate`"),
    Case(
        "slash: only an image",
        "command",
        "<https://x.example/a.jpg>",
        "not links to Slack, images or videos",
    ),
    Case("slash: emoji only", "command", "🎉🎉🎉 🚀 🔥🔥", "too short to brief"),
    Case(
        "slash: zero-width and control characters",
        "command",
        "\u200b\u0007\u0000 a few\u200b words\u0001 and nothing else",
        "too short to brief",
    ),
    Case("slash: 2 MB of pasted text", "command", "2MB", BRIEF),
    Case("slash: Devanagari", "command", DEVANAGARI, BRIEF),
    Case("slash: Arabic", "command", ARABIC, BRIEF),
    Case("slash: Hebrew with an RTL override", "command", HEBREW_RTL, BRIEF),
    Case("slash: Chinese, no spaces", "command", CJK, BRIEF),
    Case("slash: Japanese, no spaces", "command", JAPANESE, BRIEF),
    Case("slash: two Chinese characters", "command", "罢工", "too short to brief"),
    Case(
        "slash: HTML-looking text",
        "command",
        "&lt;script&gt;alert(1)&lt;/script&gt; " + LATIN,
        BRIEF,
    ),
    Case(
        "slash: credentials in the link",
        "command",
        "<https://a:b@news.example/article>",
        "user name or password",
    ),
]


# --- the article server's hostile pages --------------------------------------------------


def _truncated(handler: Any, query: dict[str, list[str]]) -> None:
    """Promise 50 kB, send 100 bytes, hang up."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", "50000")
    handler.end_headers()
    handler.wfile.write(ARTICLE_HTML.encode()[:100])
    handler.wfile.flush()
    handler.close_connection = True
    handler.connection.shutdown(socket.SHUT_RDWR)


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(article_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank_pdf() -> bytes:
    """A scanned-looking PDF: pages, no text layer."""
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def add_hostile_pages(web: FakeWeb) -> None:
    refresh = '<html><head><meta http-equiv="refresh" content="0; url=/article"></head></html>'
    web.add("/h/refresh", refresh, headers={"Content-Type": "text/html"})
    web.add_handler("/h/truncated", _truncated)
    binary = bytes(range(256)) * 40
    web.add("/h/binary", binary, headers={"Content-Type": "text/html"})
    web.add("/h/photo", PNG_1PX, headers={"Content-Type": "image/png"})
    pdf = {"Content-Type": "application/pdf"}
    web.add("/h/encrypted.pdf", _encrypted_pdf(), headers=pdf)
    web.add("/h/blank.pdf", _blank_pdf(), headers=pdf)


@pytest.fixture(scope="module")
def web() -> Iterator[FakeWeb]:
    with FakeWeb() as server:
        add_hostile_pages(server)
        yield server


class LoopbackNetwork:
    """Every host resolves (except *.invalid) and every connection reaches the article server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.lookups: list[str] = []
        self._lock = threading.Lock()

    async def resolve(self, host: str, port: int) -> list[str]:
        with self._lock:
            self.lookups.append(host)
        return [] if host.endswith(".invalid") else ["127.0.0.1"]

    async def connect(
        self, ip: str, port: int, connect_timeout: float | None
    ) -> httpcore.AsyncNetworkStream:
        return await httpcore.AnyIOBackend().connect_tcp(
            "127.0.0.1", self.port, timeout=connect_timeout
        )

    def network(self) -> ssrf.Network:
        return ssrf.Network(resolver=self.resolve, connector=self.connect)


@pytest.fixture
def dns(web: FakeWeb, monkeypatch: pytest.MonkeyPatch) -> LoopbackNetwork:
    """The outside world's DNS and TCP, faked at the one seam fetch uses (bot.ingest.fetch)."""
    net = LoopbackNetwork(web.port)
    monkeypatch.setattr("bot.ingest.fetch.Network", net.network)
    return net


def _text_for(case: Case, web: FakeWeb) -> str:
    if case.text == "2MB":
        return " ".join([LATIN] * (2_000_000 // len(LATIN) + 1))
    return case.text.replace("{web}", web.base_url)


def seen_by_user(fake: FakeSlack, channel: str, ack: dict[str, Any] | None) -> list[str]:
    """Every text the user can see for a case: the ack and the bot's posts in its channel."""
    texts = [str((ack or {}).get("payload") or "")]
    texts += [str(m.get("text", "")) + str(m.get("blocks") or "") for m in fake.messages_in(channel)
              if m.get("user") == "UBOT"]  # fmt: skip
    return texts


def judge(case: Case, fake: FakeSlack, channel: str, ack: dict[str, Any] | None) -> str | None:
    """Why a case's outcome is wrong, or None if the user saw what they should."""
    seen = seen_by_user(fake, channel, ack)
    shown = "\n".join(seen)
    bad = [w for w in TRACEBACK_WORDS if w in shown]
    if bad:
        return f"{case.name}: internals shown to the user ({bad}): {shown[:300]}"
    posts = [m for m in fake.messages_in(channel) if m.get("user") == "UBOT"]
    if case.expect == SILENT:
        return (
            None if not posts and not ack_text(ack) else f"{case.name}: not silent: {shown[:300]}"
        )
    if case.expect == BRIEF:
        if any(is_brief(m) for m in posts):
            return None
        return f"{case.name}: no brief; the user saw: {shown[:300]}"
    if case.expect in shown and not any(is_brief(m) for m in posts):
        return None
    return f"{case.name}: expected {case.expect!r}; the user saw: {shown[:300]}"


def ack_text(ack: dict[str, Any] | None) -> str:
    return str(((ack or {}).get("payload") or {}).get("text") or "")


def _settled(channels: list[str]) -> Callable[[FakeSlack], bool]:
    """Every placeholder replaced: no bot message still says it is reading."""
    return lambda f: all(
        not str(m.get("text", "")).startswith("Reading")
        for c in channels
        for m in f.messages_in(c)
        if m.get("user") == "UBOT"
    )


async def run_slack_cases(
    cases: list[Case], fake: FakeSlack, web: FakeWeb, settings: Settings
) -> list[str]:
    """Send every case (one channel each) to one running bot; return what went wrong."""
    problems: list[str] = []
    channels = [f"CBAD{i:03d}" for i in range(len(cases))]
    async with bot_running(settings, fake) as bot:
        envelopes: list[str] = []
        for i, (case, channel) in enumerate(zip(cases, channels, strict=True)):
            text = _text_for(case, web)
            if case.via == "command":
                payload = slash_command_payload(text=text, channel_id=channel,
                                                trigger_id=f"trig{i}")  # fmt: skip
                envelopes.append(fake.send_envelope("slash_commands", payload))
            elif case.via == "mention":
                from tests.fakes.slack import app_mention_event, event_callback

                ts = fake.add_message(channel, text=text)
                mention = event_callback(app_mention_event(text, ts=ts, channel=channel))
                envelopes.append(fake.send_envelope("events_api", mention))
            else:
                _, envelope = paste(fake, text, channel=channel)
                envelopes.append(fake.send_envelope("events_api", envelope))
        await fake.await_for(lambda f: set(envelopes) <= f.acks.keys(), timeout=20)
        await fake.await_for(
            lambda f: not ({"queued", "running"} & bot.deps.queue.counts().keys()), timeout=40
        )
        await fake.await_for(_settled(channels), timeout=20)
        for case, channel, eid in zip(cases, channels, envelopes, strict=True):
            problem = judge(case, fake, channel, fake.acks.get(eid))
            if problem:
                problems.append(problem)
        # After the whole table, one ordinary paste still gets its brief.
        ts, envelope = paste(fake, f"<{web.url('/article')}>", channel="CAFTER")
        fake.send_envelope("events_api", envelope)
        await fake.await_for(lambda f: any(is_brief(m) for m in f.thread("CAFTER", ts)))
    return problems


async def test_forty_bad_slack_inputs_each_get_their_message_and_the_bot_serves_on(
    make_settings: Callable[..., Settings], fake: FakeSlack, web: FakeWeb, llm: FakeOpenAI,
    dns: LoopbackNetwork, record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    settings = bot_settings(make_settings, fake, llm, max_jobs_in_flight=8)
    problems = await run_slack_cases(SLACK_CASES, fake, web, settings)
    record_property("cases", len(SLACK_CASES))
    assert not problems, "\n".join(problems)
    # The IDN host was looked up as punycode, as DNS wants it.
    assert "xn--bcher-kva.example" in dns.lookups
    assert [m for m in fake.messages_in("CAFTER") if ARTICLE_TITLE in str(m)]


# --- through the CLI: schemes and addresses Slack would never turn into links --------------

CLI_CASES: list[tuple[str, list[str], str]] = [
    ("file URL", ["brief", "file:///etc/passwd"], "only reads http(s) links, not file"),
    ("ftp URL", ["brief", "ftp://ftp.example.com/pub/a.txt"], "not ftp"),
    ("gopher URL", ["brief", "gopher://gopher.example.com/1/"], "not gopher"),
    ("data URL", ["brief", "data:text/html;base64,PGgxPmhpPC9oMT4="], "not data"),
    ("javascript URL", ["brief", "javascript:alert(1)"], "not javascript"),
    ("credentials", ["brief", "http://user:pass@example.com/a"], "user name or password"),
    ("cloud metadata address", ["brief", "http://169.254.169.254/latest/"], "private or local"),
    ("loopback name", ["brief", "http://localhost:8080/admin"], "private or local"),
    ("decimal IP", ["extract", "http://2130706433/"], "private or local"),
    ("empty text", ["brief", ""], "the input is empty"),
    ("a missing file", ["brief", "./no-such-article.pdf"], "No such file"),
    ("short text", ["brief", "three little words"], "too short"),
]


@pytest.mark.parametrize(("args", "expect"), [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])  # fmt: skip
def test_the_cli_answers_bad_sources_with_one_line(
    args: list[str], expect: str, capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    record_property("cases", 1)
    try:
        code = cli.main(["-q", *args])
    except SystemExit as exc:  # a source that doesn't parse ends the run, as in a shell
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == cli.EXIT_ERROR, err
    lines = [line for line in err.splitlines() if line.startswith("briefbot: error:")]
    assert len(lines) == 1, err
    assert expect.lower() in lines[0].lower(), lines[0]
    assert not any(w in err for w in TRACEBACK_WORDS[:2]), err


def test_the_cli_still_briefs_after_the_bad_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["-q", "brief", "--engine", "offline", LATIN]) == 0
    assert "Halden" in capsys.readouterr().out


# --- digest and feed commands: the handlers the Slack router calls ------------------------


def _feed(entries: int) -> str:
    items = "".join(
        f"<item><title>Item {i}</title><link>https://news.example/{i}</link>"
        f"<guid>https://news.example/{i}</guid></item>"
        for i in range(entries)
    )
    head = '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
    return f"{head}{items}</channel></rss>"


COMMAND_CASES: list[tuple[str, str, str]] = [
    ("hour 25", "digest daily 25:00 Europe/London", "isn't a time of day"),
    ("minute 61", "digest daily 08:61 Europe/London", "isn't a time of day"),
    ("am/pm words", "digest daily noonish Europe/London", "isn't a time of day"),
    ("unknown zone", "digest daily 08:00 Mars/Olympus_Mons", "isn't a time zone"),
    ("offset as zone", "digest weekdays 07:30 UTC+25", "isn't a time zone"),
    ("no time", "digest daily", "Say what time"),
    ("unknown cadence", "digest hourly 08:00", "didn't understand"),
    ("unknown digest word", "digest sometimes", "didn't understand"),
    ("feed: not a link", "follow my favourite blog", "isn't a feed link"),
    ("feed: file URL", "follow file:///etc/passwd", "http"),
    ("feed: an HTML page", "follow {web}/article", "not an RSS or Atom feed"),
    ("feed: 10,000 entries", "follow {web}/h/big.xml", "Following"),
    ("feed: unknown verb", "unfollow", "didn't understand that feed command"),
]


@pytest.mark.parametrize(("text", "expect"), [c[1:] for c in COMMAND_CASES],
                         ids=[c[0] for c in COMMAND_CASES])  # fmt: skip
async def test_digest_and_feed_commands_answer_bad_input_with_a_fix(
    text: str, expect: str, make_settings: Callable[..., Settings], web: FakeWeb,
    record_property: Callable[[str, object], None],
) -> None:  # fmt: skip
    record_property("cases", 1)
    web.add("/h/big.xml", _feed(10_000), headers={"Content-Type": "application/rss+xml"})
    settings = make_settings(allow_private_networks=True)
    text = text.replace("{web}", web.base_url)
    with Store.open(settings.database_url) as store:
        where: dict[str, Any] = {"settings": settings, "store": store, "team": "T1",
                                 "channel": "C1"}  # fmt: skip
        if text.startswith("digest"):
            reply = await handle_digest_command(
                text.removeprefix("digest").strip(), user_tz=None, client=None, **where
            )
        else:
            reply = await handle_feed_command(text, **where)
    assert expect.lower() in reply.lower(), reply
    assert not any(w in reply for w in TRACEBACK_WORDS[:2]), reply


def test_the_cli_briefs_chinese_and_japanese_text_that_has_no_spaces(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["-q", "brief", "--engine", "offline", CJK + JAPANESE]) == 0
    assert "哈尔登港务局" in capsys.readouterr().out
