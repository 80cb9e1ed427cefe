"""The reduce call reads each item once: repeats across overlapping chunks are trimmed."""

from __future__ import annotations

from bot.engines.llm_schema import (
    BriefDraft,
    NextStepDraft,
    ParticipantDraft,
    TopicDraft,
    dedupe_draft,
    trim_partials,
)


def _partial(summary: str, people: list[tuple[str, str | None, str]], topics: list[str],
             steps: list[str]) -> BriefDraft:  # fmt: skip
    return BriefDraft(
        summary=summary,
        participants=[ParticipantDraft(name=n, role=r, evidence=e) for n, r, e in people],
        topics=[TopicDraft(name=t, evidence=f"about {t}") for t in topics],
        tensions=[],
        next_steps=[NextStepDraft(action=a, owner=None, when=None, evidence=a) for a in steps],
    )


def test_repeats_go_and_every_distinct_item_keeps_its_evidence() -> None:
    first = _partial("Part one.", [("Maria Lopez", "mayor", "Lopez said A."),
                                   ("the Port Authority", None, "The authority said B.")],
                     ["tariffs", "wages"], ["Vote on Friday"])  # fmt: skip
    second = _partial("Part two.", [("MARIA LOPEZ", "chair", "Lopez said C."),
                                    ("Port Authority", None, "The authority said D."),
                                    ("Tom Okafor", "union leader", "Okafor said E.")],
                      ["Tariffs", "audit"], ["vote on Friday", "Sign the framework"])  # fmt: skip
    trimmed = trim_partials([first, second])

    assert [p.summary for p in trimmed] == ["Part one.", "Part two."]  # every part's gist
    names = [p.name for t in trimmed for p in t.participants]
    assert names == ["Maria Lopez", "the Port Authority", "Tom Okafor"]
    assert trimmed[0].participants[0].role == "mayor; chair"  # roles merged, not lost
    assert [t.name for t in trimmed[1].topics] == ["audit"]
    assert [s.action for s in trimmed[1].next_steps] == ["Sign the framework"]
    # Nothing the final merge would keep is missing from what the reduce call reads.
    everything = dedupe_draft(BriefDraft(
        summary="", participants=first.participants + second.participants,
        topics=first.topics + second.topics, tensions=[],
        next_steps=first.next_steps + second.next_steps,
    ))  # fmt: skip
    read = {p.evidence for t in trimmed for p in t.participants}
    assert read == {p.evidence for p in everything.participants}
    assert len(",".join(t.model_dump_json() for t in trimmed)) < len(
        ",".join(p.model_dump_json() for p in (first, second))
    )
