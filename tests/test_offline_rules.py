"""The offline engine's general rules, one failure mode of issue 10 each.

Every text here was written for these tests; none is a sentence of a sample article.
"""

from __future__ import annotations

from bot.engines.offline import build_brief
from bot.engines.offline_roles import plausible_role
from bot.models import Article, Brief


def brief_of(text: str) -> Brief:
    return build_brief(Article(text=text))


def participant_names(brief: Brief) -> list[str]:
    return [p.name for p in brief.participants]


def roles(brief: Brief) -> dict[str, str | None]:
    return {p.name: p.role for p in brief.participants}


def test_a_title_in_front_is_the_role_of_the_full_name() -> None:
    brief = brief_of(
        "Gov. Eric Holcomb signed the water bill on Tuesday in Indianapolis. "
        "Wild coach Bruce Boudreau said his team would rest two players on Friday. "
        "Holcomb said the law takes effect in July. Boudreau declined to name them."
    )
    people = roles(brief)
    assert people["Eric Holcomb"] == "Governor"
    assert "coach" in (people["Bruce Boudreau"] or "")
    # Later surname mentions are the same people, not items of their own.
    assert "Holcomb" not in people and "Boudreau" not in people


def test_initials_suffixes_and_ages_keep_the_whole_name() -> None:
    brief = brief_of(
        "Police arrested Maria T. Lopez, 41, of Springfield on Monday. "
        "Robert K. Hale Jr., the county prosecutor, said charges would follow. "
        "Lopez is held at the county jail. Hale said the case was strong."
    )
    names = participant_names(brief)
    assert "Maria T. Lopez" in names
    assert any(n.startswith("Robert K. Hale Jr") for n in names)
    assert "Lopez" not in names and "Hale" not in names


def test_demonyms_and_mere_places_are_no_participants() -> None:
    brief = brief_of(
        "The 48-year-old Australian won the race in Paris on Sunday. "
        "Organisers said the Australian rider set a course record in France. "
        "The race returns to France next year, organisers said."
    )
    names = participant_names(brief)
    assert "Australia" not in names and "France" not in names


def test_negation_is_kept_out_of_next_steps() -> None:
    brief = brief_of(
        "Defence lawyer Sonia Reyes said her client never intended to harm the senator. "
        "Reyes said her client will plead not guilty at a hearing on 3 May."
    )
    actions = [s.action.lower() for s in brief.next_steps]
    assert not any("harm the senator" in a for a in actions)
    assert any("plead not guilty" in a for a in actions)


def test_whole_numbers_and_scheduled_events() -> None:
    brief = brief_of(
        "The city will pay 375,000 dollars to settle the lawsuit, the mayor said. "
        "Sentencing is scheduled for Feb. 14 in federal court in Buffalo."
    )
    texts = [f"{s.action} {s.when or ''}" for s in brief.next_steps]
    assert any("375,000" in t for t in texts), texts
    sentencing = [s for s in brief.next_steps if "Sentencing" in s.evidence]
    assert sentencing and "Feb. 14" in (sentencing[0].when or sentencing[0].action)


def test_owners_are_actors_not_adverbs_or_auxiliaries() -> None:
    brief = brief_of(
        "Undoubtedly it will take years to rebuild the harbour wall. "
        "The port authority said it will publish a repair plan by the end of March. "
        "Had the storm hit at high tide, officials said, the damage would be worse."
    )
    owners = [s.owner for s in brief.next_steps]
    assert "Undoubtedly it" not in owners and "Had" not in owners
    assert any(o and "authority" in o.lower() for o in owners), owners


def test_tensions_have_parties_and_no_fragments() -> None:
    brief = brief_of(
        "Senator Ann Ruiz criticised the Harbour Board over the cost of the new terminal. "
        "The Harbour Board rejected her figures and accused Ruiz of misleading voters. "
        "Ruiz said the two sides disagree with them on almost everything."
    )
    assert brief.tensions
    for tension in brief.tensions:
        assert tension.parties, tension
        assert len(tension.description.split()) >= 4
        assert tension.description.split()[-1].lower() not in ("them", "that", "he", "the")


TOPIC_TEXT = (
    "The council approved a new flood defence scheme for the river district on Monday. "
    "The flood defence scheme will raise the river wall by a metre and add pumping "
    "stations. Residents said the flood defence scheme was long overdue after the "
    "floods of last winter, which damaged hundreds of homes in the river district. "
    "The council said the pumping stations would be built first, and the river wall "
    "work would start in the spring after a public consultation on the design."
)


def test_topics_are_keyphrases_not_lone_common_nouns() -> None:
    names = [t.name for t in brief_of(TOPIC_TEXT).topics]
    assert any("flood defence" in n.lower() for n in names), names
    lower_words = set(TOPIC_TEXT.replace(".", " ").replace(",", " ").split())
    for name in names:
        # One word is a topic only as a proper noun: never a word the text writes in
        # lower case ("council", "floods").
        assert len(name.split()) > 1 or name.lower() not in lower_words, name


def test_a_name_is_not_cut_mid_role() -> None:
    brief = brief_of(
        "Deputy Director of Public Prosecutions Lena Berg said on Monday that the case "
        "was closed. The city's chief inspector of public works, Omar Haddad, said the "
        "bridge would reopen. Berg and Haddad spoke at the same briefing."
    )
    people = roles(brief)
    assert "Director of Public Prosecutions" in (people.get("Lena Berg") or ""), people
    assert "inspector of public works" in (people.get("Omar Haddad") or ""), people


def test_two_people_who_share_a_surname_stay_two() -> None:
    brief = brief_of(
        "Former Vice President Biden spoke to voters in Iowa on Monday. "
        "Hunter Biden, a lawyer, was not at the event, his spokesman said. "
        "Biden told the crowd that he would win the state."
    )
    people = roles(brief)
    assert people.get("Hunter Biden") == "a lawyer", people
    assert "Vice President" not in (people.get("Hunter Biden") or "")


def test_intent_and_deadlines_are_next_steps() -> None:
    brief = brief_of(
        "The dockworkers' union hopes to reach a deal with the port operators by Friday. "
        "The operators have until 1 March to answer the union's latest offer."
    )
    evidence = " ".join(s.evidence for s in brief.next_steps)
    assert "hopes to reach a deal" in evidence and "have until 1 March" in evidence


def test_contractions_are_no_names() -> None:
    brief = brief_of(
        "I’m told the council will vote on the plan in May, said Nora Quist, a councillor. "
        "We’re ready, Quist said. I’ve seen the figures, and I’m sure of them. "
        "They’ll decide by Friday. I’m not worried."
    )
    names = participant_names(brief)
    assert "Nora Quist" in names
    assert not any("’" in n for n in names), names


def test_a_name_that_opens_a_sentence_keeps_its_first_word() -> None:
    # "New" and "Home" are common words, but the article writes "New Harbor Gazette" and
    # "Home Depot" mid-sentence too: at a sentence's start they are still part of the name.
    brief = brief_of(
        "Home Depot reported higher sales on Tuesday, the New Harbor Gazette wrote. "
        "New Harbor Gazette editors said the chain gained customers. "
        "Analysts said Home Depot expects a quieter winter."
    )
    names = participant_names(brief)
    assert "Home Depot" in names, names
    assert "Harbor Gazette" not in names and "Depot" not in names, names


def test_a_name_that_recurs_and_acts_is_an_organisation() -> None:
    brief = brief_of(
        "Investors sold Brightwater Mills on Monday. Brightwater Mills reported a loss "
        "for the quarter, and analysts cut their targets."
    )
    assert "Brightwater Mills" in participant_names(brief)


def test_going_to_and_has_to_are_next_steps() -> None:
    brief = brief_of(
        "The river authority is going to rebuild the northern levee before the spring floods. "
        "The county has to approve the budget for the levee first, an engineer said."
    )
    evidence = " ".join(s.evidence for s in brief.next_steps)
    assert "going to rebuild the northern levee" in evidence, brief.next_steps
    assert "has to approve the budget" in evidence, brief.next_steps


def test_no_item_ends_on_a_pronoun_or_a_contraction() -> None:
    brief = brief_of(
        "Keep the spare batteries in a drawer so you don’t. The club will publish the results "
        "of the vote so members can. The board pledged to review the fees that we."
    )
    texts = [s.action for s in brief.next_steps] + [t.description for t in brief.tensions]
    assert texts, brief
    for text in texts:
        last = text.split()[-1].lower().strip(".,;:")
        assert last not in {"don’t", "can", "we", "you", "so"}, text


def test_harsh_verbs_courts_and_shortfalls_are_tensions() -> None:
    brief = brief_of(
        "Mayor Ana Ruiz hammered council member Tom Vale over his housing plan on Monday. "
        "A jury convicted Lee Park of fraud at the Harlow county court last week. "
        "Revenue at Corvel Foods fell short of estimates as shares slumped, Corvel Foods said."
    )
    evidence = " ".join(t.evidence for t in brief.tensions)
    assert "hammered council member Tom Vale" in evidence, brief.tensions
    assert "convicted Lee Park of fraud" in evidence, brief.tensions
    assert "fell short of estimates" in evidence, brief.tensions


def test_what_could_or_may_happen_is_a_next_step() -> None:
    brief = brief_of(
        "The Ostrava listing could raise up to 4 billion crowns for the rail group. "
        "Minority holders may challenge the price at the commercial court, their lawyer said."
    )
    evidence = " ".join(s.evidence for s in brief.next_steps)
    assert "could raise up to 4 billion crowns" in evidence, brief.next_steps
    assert "may challenge the price" in evidence, brief.next_steps


def test_a_role_in_front_of_an_organisation_is_not_its_name() -> None:
    brief = brief_of(
        "Dana Cole, the CEO of Harbor Media Group, said the papers would merge. "
        "CEO of Harbor Media Group Dana Cole spoke in Boston. "
        "The Former National Transit Board said it had no view. Cole said so again."
    )
    names = participant_names(brief)
    assert not any(n.startswith(("CEO", "Former")) for n in names), names


def test_a_web_address_does_not_make_a_name_a_common_word() -> None:
    brief = brief_of(
        "Veltro said on Monday that it had opened a plant in Ghent. Analysts said "
        "Veltro was growing fast. The plant makes parts for Veltro and others. "
        "Customers asked Veltro for more. More at www.veltro.com or press@veltro.com."
    )
    assert "Veltro" in participant_names(brief), brief.participants


def test_a_given_name_makes_a_person_named_once() -> None:
    brief = brief_of(
        "The panel of Catherine Whitlow, David Orsk and Will Penhale judged the final round "
        "in Leeds on Sunday. The winner gets a trip to Oslo."
    )
    names = participant_names(brief)
    assert {"Catherine Whitlow", "David Orsk", "Will Penhale"} <= set(names), names


def test_a_shorter_form_of_one_organisation_is_that_organisation() -> None:
    brief = brief_of(
        "The Northern Rail Workers Union said on Monday that its members would strike. "
        "Later the Rail Workers Union said talks had failed. The Northern Rail Workers "
        "Union will meet the ministry on Friday."
    )
    names = participant_names(brief)
    assert "Northern Rail Workers Union" in names, names
    assert "Rail Workers Union" not in names, names


def test_the_at_a_sentence_start_does_not_hide_a_name() -> None:
    brief = brief_of(
        "The Harriers spent Monday at the training ground. The Harriers and their rivals "
        "play on Sunday. The Harriers lost twice in May. Coach Ben Ode praised the Harriers."
    )
    assert "Harriers" in participant_names(brief), brief.participants


def test_a_list_of_people_does_not_lend_one_the_next_ones_title() -> None:
    brief = brief_of(
        "The debate stage will hold Ohio Sen. Mara Quist, Texas Rep. Dale Ferrante, "
        "and the businessman Omar Lindqvist. Quist said she would press on health costs. "
        "Ferrante said he wanted a fight on taxes. Lindqvist said he had nothing to lose."
    )
    people = roles(brief)
    assert people["Dale Ferrante"] == "Texas Representative"
    # "Texas Rep. Dale Ferrante" is the next item of the list, not Mara Quist's role.
    assert "Ferrante" not in (people.get("Mara Quist") or "")


def test_a_shorter_form_with_a_middle_name_is_the_same_person() -> None:
    brief = brief_of(
        "Prisons director Kathleen Rue Danner told senators the unit was understaffed. "
        "Rue Danner said two guards had skipped their rounds that night. "
        "Senators asked Rue Danner to return with a plan in January."
    )
    names = participant_names(brief)
    assert "Kathleen Rue Danner" in names
    assert "Rue Danner" not in names  # one person, one item


def test_an_administrator_is_a_title_not_part_of_a_name() -> None:
    brief = brief_of(
        "The agency's Administrator Jonas Pell said the lander contracts would be signed "
        "next year. Pell said six companies had applied. The agency expects bids by March."
    )
    people = roles(brief)
    assert people.get("Jonas Pell") == "Administrator"
    assert "Administrator Jonas Pell" not in people


def test_a_dated_sentence_told_in_the_past_is_no_next_step() -> None:
    brief = brief_of(
        "The harbour board approved the dredging plan on Monday. Its chair, Ines Varga, "
        "was elected to the board in 2011 and led the port authority in 2015. "
        "The first barges arrive on 14 March, and the board meets again in April."
    )
    actions = " | ".join(f"{s.action} {s.when or ''}" for s in brief.next_steps)
    assert "2011" not in actions and "2015" not in actions
    assert "14 March" in actions or "April" in actions  # what is ahead stays


def test_the_items_of_a_list_of_names_share_one_kind() -> None:
    brief = brief_of(
        "Three companies bid for the ferry contract: Norland Shipping Group, Velmar and "
        "Ostrava Lines Holdings. Norland Shipping Group said its offer was the lowest. "
        "Velmar said it would appeal if it lost. The candidates include Ines Marlow, "
        "Petrov and Okafor. Petrov said the vote was close. Okafor conceded on Friday. "
        "Senator Anna Petrov and Judge Samuel Okafor spoke to reporters afterwards."
    )
    names = participant_names(brief)
    assert "Velmar" in names  # named beside a known company: a company
    assert "Ines Marlow" in names  # named once, beside two known people: a person


def test_a_counted_word_in_a_recipe_is_no_organisation() -> None:
    lines = [
        "Swap the portions below to suit your week of meals.",
        "Portion containers: 1 Green, 1 Red, 1 Yellow, 2 Tbsp. oil.",
        "Lunch: 1 Red, 1 Yellow, 1 Purple, 1 Tbsp. seeds.",
        "Dinner: 1 Green, 1 Red, 1 Purple, 2 Tbsp. dressing.",
        "Snack: 1 Yellow, 1 Purple, 1 Red, 1 Tbsp. nut butter.",
        "Keep the containers in the fridge for up to four days.",
    ]
    names = [p.name for p in brief_of("\n".join(lines)).participants]
    assert not {"Red", "Yellow", "Purple", "Tbsp"} & set(names)


def test_a_bare_weekday_or_clock_time_dates_a_step() -> None:
    brief = brief_of(
        "Norland Steel cut its sales forecast for the year on Tuesday. Its rival Baltica "
        "Metals reports earnings Wednesday. Norland Steel hosts a call with analysts at "
        "9 a.m. to explain the cut. Shares of both companies fell in early trading."
    )
    whens = {s.when for s in brief.next_steps}
    assert "Wednesday" in whens
    assert any(w and "9 a.m" in w for w in whens)


def test_what_might_have_been_is_no_next_step() -> None:
    brief = brief_of(
        "The guards could have checked the cell every half hour, the report said. "
        "They should have raised the alarm sooner. The warden must hand the board a new "
        "staffing plan by Friday."
    )
    actions = " | ".join(s.action for s in brief.next_steps)
    assert "checked" not in actions and "raised" not in actions
    assert "staffing plan" in actions


def test_a_relative_clause_step_belongs_to_the_one_named_before_who() -> None:
    brief = brief_of(
        "The panel questioned the envoy for nine hours on Tuesday. "
        '"I asked on whose authority," said Ines Marlow, who will testify Thursday. '
        "Marlow is a former adviser to the council. The panel has yet to publish its report."
    )
    steps = {s.action: s for s in brief.next_steps}
    assert steps["Testify"].owner == "Ines Marlow" and steps["Testify"].when == "Thursday"
    assert any("publish its report" in action.lower() for action in steps)


def test_a_game_lost_by_a_score_and_a_launch_glitch_are_tensions() -> None:
    brief = brief_of(
        "The Ridgeback Owls beat the Harbor City Gulls 31-28 on Sunday. "
        "The Gulls said they would review the tape. The Owls said the win was earned. "
        "The Gulls said two starters were hurt, and the Owls said they expected a rematch. "
        "Separately, Velmar Media said a coding glitch caused widespread problems for new "
        "subscribers. Velmar Media said it had fixed the fault."
    )
    text = " | ".join(f"{t.description} {t.evidence}" for t in brief.tensions)
    assert "31-28" in text
    assert "glitch" in text


def test_products_and_technical_acronyms_are_no_participants() -> None:
    brief = brief_of(
        "Lumina Labs unveiled the Orbit Pro laptop on Tuesday in Denver. "
        "The Orbit Pro has two USB ports, an HDMI port and a faster GPU than last year's "
        "model. Chief executive Dana Whitfield said the GPU doubles battery life. "
        "Lumina Labs said the Orbit Pro ships in March, and that a cheaper Orbit Series "
        "model with the same USB ports and GPU follows in May. Whitfield said Lumina Labs "
        "expects the Orbit Series to sell out."
    )
    names = participant_names(brief)
    assert "Dana Whitfield" in names and "Lumina Labs" in names
    for thing in ("Orbit Pro", "Orbit Series", "USB", "HDMI", "GPU"):
        assert thing not in names


def test_the_company_in_a_title_is_not_a_person_holding_it() -> None:
    brief = brief_of(
        '"We will not raise prices," said Ana Ferreira, CEO of Brightwater, on Monday. '
        "Brightwater sells filters in nine states. Ferreira said CEO of Brightwater was "
        "her first job as a chief executive. Brightwater said sales rose by a third. "
    )
    people = roles(brief)
    assert "Ana Ferreira" in people
    assert people.get("Brightwater") is None  # an organisation: no role "CEO of"
    brief = brief_of(
        "Capt. Lena Moss, a spokesperson for Tarvik Resolve, the U.S. navy operation off the "
        "coast, said the camp is safe. Moss said Tarvik Resolve will review the camp."
    )
    assert roles(brief).get("Tarvik Resolve") is None  # no role "spokesperson for"


def test_a_role_is_whole_words_on_one_line() -> None:
    for role in ("CEO", "Governor", "head of research at Kestrel Bank", "a spokesperson"):
        assert plausible_role(role), role
    # Cut before what it is of; across a line of a tour list; a state's abbreviation.
    for role in ("Head of", "spokesperson for", "OH @ Pines Arena\nJuly 26", "NY"):
        assert not plausible_role(role), role
    brief = brief_of(
        "The Harbor Lights will tour this summer with singer Paul Reyes, the band said on "
        "Monday. Reyes said the band would play old songs.\nThe dates:\n"
        "July 2 -- Akron Falls, OH @ Pines Music Center\n"
        "July 9 -- Dayton Springs, OH @ Riverbend Music Center\n"
        "Tickets go on sale Friday."
    )
    people = roles(brief)
    assert people["Paul Reyes"] == "singer"
    assert all("\n" not in (role or "") for role in people.values())
    assert people.get("Akron Falls") is None


def test_a_word_that_only_opens_list_items_is_no_organisation() -> None:
    brief = brief_of(
        "Corvo Audio released the Wave headphones on Monday, the company said in a "
        "statement. Corvo Audio said the Wave costs $199.\nFeatures:\n"
        "- Take calls and skip songs with one tap.\n- Take the headphones anywhere.\n"
        "- Take a look at the colours.\n- Take notes with the voice assistant.\n"
        "Q: Favorite colour?\nA: Blue.\nQ: Favorite song?\nA: Any.\nQ: Favorite place?\n"
        "A: Home.\nQ: Favorite food?\nA: Rice."
    )
    names = participant_names(brief)
    assert "Corvo Audio" in names
    assert "Take" not in names and "Favorite" not in names


def test_a_section_label_glued_to_its_sentence_is_not_part_of_a_name() -> None:
    brief = brief_of(
        "Ruth Okonkwo, a dietitian at Fernhill Clinic, said sleep and fibre help most people. "
        "Okonkwo said the clinic would publish a guide in June.\n"
        "Summary Kale helps control appetite, Okonkwo said.\n"
        "Summary Miso keeps you full for longer.\n"
        "Summary Oats after meals lower blood sugar.\n"
        "Summary Rooibos can replace a late snack.\n"
        "Kale is cheap in winter. Miso lasts for months. Oats cost little. Rooibos has no "
        "caffeine."
    )
    names = participant_names(brief)
    assert "Ruth Okonkwo" in names
    assert not [n for n in names if n.startswith("Summary")], names


def test_a_one_word_company_named_twice_with_a_verb_is_a_participant() -> None:
    brief = brief_of(
        "The kids loved the trail near the lake. We had to make a pit stop at Brightmart "
        "for some water and snack bars. The trail was steep. Hopefully, Brightmart will "
        "have these available soon so we do not have to wait."
    )
    assert "Brightmart" in participant_names(brief)


def test_a_word_inside_a_title_or_a_body_in_space_is_no_organisation() -> None:
    brief = brief_of(
        "Novelist Ada Brenner sold Web of Lanterns in 1978. Brenner said Web of Lanterns "
        "would be reprinted. Web of Lanterns is her best-known book. Lanterns features a "
        "long voyage away from Earth. Earth is never seen again, Brenner said. Earth stays "
        "a memory, and Earth is the ending."
    )
    names = participant_names(brief)
    assert "Ada Brenner" in names
    assert "Lanterns" not in names and "Earth" not in names


def test_and_before_a_persons_name_ends_an_organisation() -> None:
    brief = brief_of(
        "In a letter to Tom Reyes, the acting director of the Department of Labor and "
        "Maria Gomez, the Health and Safety secretary, the doctors said they would give "
        "100 doses of the vaccine. Reyes said the Department of Labor would reply by June."
    )
    names = participant_names(brief)
    assert "Maria Gomez" in names
    assert not [n for n in names if " and " in n], names
