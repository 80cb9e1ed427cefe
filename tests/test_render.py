"""Markdown and Slack mrkdwn rendering through the Jinja2 templates."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.errors import ConfigError
from bot.models import Brief, BriefMeta, NextStep, Participant, Tension, Topic
from bot.render import render_json, render_markdown, render_mrkdwn, template_version

INJECTION = "<!channel> <@U123> <!here|x> @everyone <#C1|general> <!subteam^S1|@ops>"
CONTROL = re.compile(r"<[!@#]")


def make_brief(**overrides: Any) -> Brief:
    data: dict[str, Any] = {
        "title": "India and US hold 2+2 talks",
        "url": "https://news.example.com/india-us?id=7",
        "summary": "Ministers met in Delhi and agreed to sign a ten-year framework.",
        "participants": [
            Participant(name="Rajnath Singh", role="Defence Minister", evidence="Singh said"),
            Participant(name="Pete Hegseth", role=None, evidence="Hegseth noted"),
        ],
        "topics": [Topic(name="Defence framework", evidence="a ten-year framework")],
        "tensions": [
            Tension(
                description="Tariffs on Indian goods",
                parties=["India", "US"],
                evidence="tariffs of 50 per cent",
            )
        ],
        "next_steps": [
            NextStep(
                action="Sign the framework",
                owner="Both sides",
                when="October",
                evidence="to be signed in October",
            ),
        ],
        "meta": BriefMeta(engine="openai", model="gpt-4o-mini"),
    }
    data.update(overrides)
    return Brief(**data)


def hostile_brief() -> Brief:
    """A brief with an injection attempt in every string field."""
    return Brief(
        title=f"Title {INJECTION}",
        url="https://example.com/x",
        summary=f"Summary {INJECTION}",
        participants=[
            Participant(name=f"P {INJECTION}", role=f"R {INJECTION}", evidence=f"E {INJECTION}")
        ],
        topics=[Topic(name=f"T {INJECTION}", evidence=f"E {INJECTION}")],
        tensions=[
            Tension(
                description=f"D {INJECTION}", parties=[f"A {INJECTION}"], evidence=f"E {INJECTION}"
            )
        ],
        next_steps=[
            NextStep(
                action=f"N {INJECTION}",
                owner=f"O {INJECTION}",
                when=f"W {INJECTION}",
                evidence=f"E {INJECTION}",
            )
        ],
        meta=BriefMeta(engine="openai", model=f"m {INJECTION}", fallback_reason=f"F {INJECTION}"),
    )


# --- a normal brief ------------------------------------------------------------------


def test_markdown_renders_every_part() -> None:
    out = render_markdown(make_brief())
    assert out.startswith(
        "# [India and US hold 2+2 talks](https://news.example.com/india-us?id=7)\n"
    )
    assert "Ministers met in Delhi" in out
    for heading in ("## Participants", "## Topics", "## Tensions", "## Next steps"):
        assert heading in out
    assert "- **Rajnath Singh** — Defence Minister\n  > *“Singh said”*" in out
    assert "- **Pete Hegseth**\n  > *“Hegseth noted”*" in out
    assert "- Tariffs on Indian goods — India, US\n" in out
    assert "- Sign the framework — Both sides, October\n  > *“to be signed in October”*" in out
    assert out.rstrip().endswith("*openai · gpt-4o-mini*")
    assert "(unverified)" not in out and "cached" not in out


def test_mrkdwn_renders_every_part() -> None:
    out = render_mrkdwn(make_brief())
    assert out.startswith(
        "*<https://news.example.com/india-us?id=7|India and US hold 2+2 talks>*\n"
    )
    for heading in ("*Participants*", "*Topics*", "*Tensions*", "*Next steps*"):
        assert f"\n{heading}\n" in out
    assert "• *Rajnath Singh* — Defence Minister\n> _“Singh said”_" in out
    assert "• Sign the framework — Both sides, October\n> _“to be signed in October”_" in out
    assert out.rstrip().endswith("openai · gpt-4o-mini")


def test_title_without_url_is_plain() -> None:
    brief = make_brief(url=None, title=None)
    assert render_markdown(brief).startswith("# Brief\n")
    assert render_mrkdwn(brief).startswith("*Brief*\n")


@pytest.mark.parametrize(
    ("field", "md_heading", "mrkdwn_heading"),
    [
        ("participants", "## Participants", "*Participants*"),
        ("topics", "## Topics", "*Topics*"),
        ("tensions", "## Tensions", "*Tensions*"),
        ("next_steps", "## Next steps", "*Next steps*"),
    ],
)
def test_empty_sections_are_omitted(field: str, md_heading: str, mrkdwn_heading: str) -> None:
    brief = make_brief(**{field: []})
    md, mrkdwn = render_markdown(brief), render_mrkdwn(brief)
    assert md_heading not in md and mrkdwn_heading not in mrkdwn
    others = {"## Participants", "## Topics", "## Tensions", "## Next steps"} - {md_heading}
    assert all(heading in md for heading in others)


def test_brief_with_only_a_summary() -> None:
    brief = make_brief(participants=[], topics=[], tensions=[], next_steps=[])
    assert "##" not in render_markdown(brief)
    assert render_mrkdwn(brief).count("\n*") == 0  # no section headings


@pytest.mark.parametrize("field", ["participants", "topics", "tensions", "next_steps"])
def test_unverified_items_are_marked(field: str) -> None:
    brief = make_brief()
    items = getattr(brief, field)
    items[0] = items[0].model_copy(update={"verified": False})
    md, mrkdwn = render_markdown(brief), render_mrkdwn(brief)
    assert md.count("*(unverified)*") == 1
    assert mrkdwn.count("_(unverified)_") == 1


@pytest.mark.parametrize(
    ("meta", "footer"),
    [
        (BriefMeta(engine="openai", model="gpt-4o"), "openai · gpt-4o"),
        (BriefMeta(engine="openai", model="gpt-4o", cached=True), "openai · gpt-4o · cached"),
        (BriefMeta(engine="offline"), "Offline engine"),
        (
            BriefMeta(engine="offline", fallback_reason="the model was unavailable."),
            "Offline engine · Written offline because the model was unavailable",
        ),
        (
            BriefMeta(engine="offline", cached=True, fallback_reason="OPENAI_API_KEY is unset"),
            "Offline engine · cached · Written offline because OPENAI_API_KEY is unset",
        ),
    ],
)
def test_footers(meta: BriefMeta, footer: str) -> None:
    brief = make_brief(meta=meta)
    assert render_mrkdwn(brief).rstrip().splitlines()[-1] == footer
    assert render_markdown(brief).rstrip().splitlines()[-1] == f"*{footer}*"


def test_multiline_fields_stay_on_their_line() -> None:
    brief = make_brief(topics=[Topic(name="Two\nlines", evidence="first\n\nsecond  line")])
    assert "• *Two lines*\n> _“first second line”_" in render_mrkdwn(brief)


# --- injection -----------------------------------------------------------------------


def test_mrkdwn_never_passes_markup_from_the_brief() -> None:
    out = render_mrkdwn(hostile_brief())
    assert not CONTROL.search(out)
    assert "@everyone" not in out
    # The only "<" left is the title link we built ourselves.
    assert out.count("<") == 1 and out.startswith("*<https://example.com/x|Title channel U123")
    assert "#general" in out and "ops" in out


def test_markdown_link_label_is_escaped() -> None:
    out = render_markdown(make_brief(title="A [b] c", url="https://e.com/a (1)"))
    assert out.startswith("# [A \\[b\\] c](https://e.com/a%20%281%29)\n")


def test_markdown_does_not_link_other_schemes() -> None:
    out = render_markdown(make_brief(title="T", url="javascript:alert(1)"))
    assert out.startswith("# T\n")


def test_json_round_trips() -> None:
    brief = make_brief()
    assert Brief.model_validate_json(render_json(brief)) == brief
    assert render_json(brief).startswith('{\n  "title"')


# --- templates -----------------------------------------------------------------------


def test_template_version_is_declared() -> None:
    assert template_version() == "md1.mrkdwn1.items1"


def test_custom_templates_override_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "brief.md.j2").write_text("CUSTOM {{ brief.title }}\n", encoding="utf-8")
    (tmp_path / "brief.mrkdwn.j2").write_text(
        "{# template-version: 7 #}\n{{ brief.summary }} / {{ brief.title }}\n", encoding="utf-8"
    )
    brief = make_brief(title="T <!here>")
    assert render_markdown(brief, template_dir=tmp_path) == "CUSTOM T <!here>\n"
    # A custom mrkdwn template is sanitized all the same.
    assert render_mrkdwn(brief, template_dir=tmp_path) == (
        "Ministers met in Delhi and agreed to sign a ten-year framework. / T here\n"
    )
    # The explicit |slack filter escapes once, not twice, under the automatic pass.
    (tmp_path / "brief.mrkdwn.j2").write_text("{{ brief.title | slack }}\n", encoding="utf-8")
    amp = make_brief(title="A & B <!here>")
    assert render_mrkdwn(amp, template_dir=tmp_path) == "A &amp; B here\n"
    (tmp_path / "brief.mrkdwn.j2").write_text(
        "{# template-version: 7 #}\n{{ brief.summary }} / {{ brief.title }}\n", encoding="utf-8"
    )
    version = template_version(tmp_path)
    assert version.startswith("md0*.mrkdwn7*.items1+user.")
    (tmp_path / "brief.md.j2").write_text("EDITED {{ brief.title }}\n", encoding="utf-8")
    assert template_version(tmp_path) != version


def test_user_items_template_changes_the_full_mrkdwn(tmp_path: Path) -> None:
    from importlib import resources

    default = resources.files("bot.render.templates").joinpath("items.mrkdwn.j2").read_text()
    custom = default.replace("• *{{ p.name | oneline }}*", "👤 {{ p.name | oneline }}")
    assert custom != default
    (tmp_path / "items.mrkdwn.j2").write_text(custom, encoding="utf-8")
    out = render_mrkdwn(make_brief(), template_dir=tmp_path)
    assert "👤 Rajnath Singh — Defence Minister" in out


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        ("brief.md.j2", "T\n{{ brief.title }}\n{{ nope }}\n", "line 3 is broken: 'nope' is"),
        ("brief.mrkdwn.j2", "ok\n{{ brief.nope }}\n", "line 2 is broken: "),
        ("brief.md.j2", "x\n{% if %}\n", "line 2 is broken: Expected an expression"),
        ("brief.mrkdwn.j2", "{% for x in %}\n", "line 1 is broken"),
    ],
)
def test_broken_user_template_raises_config_error(
    tmp_path: Path, name: str, source: str, message: str
) -> None:
    (tmp_path / name).write_text(source, encoding="utf-8")
    render = render_markdown if name == "brief.md.j2" else render_mrkdwn
    with pytest.raises(ConfigError) as info:
        render(make_brief(), template_dir=tmp_path)
    text = str(info.value)
    assert f"Template {tmp_path / name}, {message}" in text
    assert "BRIEFBOT_TEMPLATE_DIR" in text and "Traceback" not in text


def test_missing_template_dir_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        render_markdown(make_brief(), template_dir=tmp_path / "nowhere")
