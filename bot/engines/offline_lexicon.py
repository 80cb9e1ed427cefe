"""Word lists behind the offline engine's heuristics (English news prose).

Kept apart from the logic so they can grow without touching it. All entries are lower case.
"""

from __future__ import annotations

# The country table is long: it lives apart, and is re-exported here.
from bot.engines.offline_countries import COUNTRIES, COUNTRY_MAX_WORDS, COUNTRY_NAMES

__all__ = ["COUNTRIES", "COUNTRY_MAX_WORDS", "COUNTRY_NAMES"]


def wordset(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text`` as a set."""
    return frozenset(text.split())


STOPWORDS = wordset(
    """a an the and or but nor so yet for of to in on at by with from into onto upon over under
    about above after against along amid amidst among around as before behind below beneath
    beside besides between beyond despite during except inside near off out outside past since
    through throughout till toward towards until via within without per than then there here
    is are was were be been being am do does did done doing have has had having will would
    shall should can could may might must ought not no yes also too very just only even still
    already again further more most less least much many few several some any all both each
    every either neither other others another such own same this that these those it its
    itself they them their theirs themselves he him his himself she her hers herself we us our
    ours ourselves you your yours i me my mine who whom whose which what when where why how
    whether if while because although though unless whereas however therefore thus meanwhile
    said says say told added according including included include includes like well one two
    three four five six seven eight nine ten first second new last next earlier later now today
    yesterday tomorrow ago amid etc"""
)

# Words that name a position a person holds: the head of a role phrase.
TITLES = wordset(
    """president vice-president minister secretary ambassador envoy chancellor governor senator
    administrator
    mayor premier king queen prince princess emperor sheikh pope cardinal bishop chairman
    chairwoman chairperson chair ceo cfo coo cto cio founder co-founder director
    spokesperson spokesman spokeswoman commissioner commander general admiral colonel captain
    lieutenant sergeant judge justice magistrate prosecutor attorney lawyer counsel
    professor dr mr mrs ms mx sir dame lord lady official officials negotiator economist analyst
    adviser advisor representative rep sen gov congressman congresswoman lawmaker legislator
    mp mla deputy undersecretary under-secretary head leader chief executive manager partner
    consul attaché attache diplomat treasurer auditor regulator inspector superintendent
    organiser organizer convenor convener coordinator principal dean rector provost editor
    correspondent reporter researcher scientist engineer officer trustee steward
    mediator arbitrator conciliator ombudsman ombudswoman strategist consultant campaigner
    activist commentator columnist pollster banker investor broker
    coach quarterback pitcher striker goalkeeper midfielder defender linebacker receiver
    rusher center centre forward guard tackle cornerback safety catcher shortstop player
    captain skipper manager owner driver rider jockey referee umpire
    actor actress singer songwriter rapper musician artist author writer novelist poet
    producer designer architect chef doctor physician surgeon nurse teacher student
    employee worker staffer resident neighbor neighbour witness victim suspect defendant
    plaintiff detective sheriff deputy trooper constable chancellor mp candidate nominee
    challenger incumbent host presenter anchor journalist photographer analyst historian
    astronomer physicist biologist chemist pilot astronaut soldier veteran officer"""
)

# Modifiers that sit inside a role phrase before its head ("acting assistant defence ...").
ROLE_MODIFIERS = wordset(
    """acting assistant associate senior junior deputy vice additional joint principal special
    permanent chief general managing executive former interim foreign home external internal
    defence defense finance trade commerce labour labor health education justice interior
    energy economy economic treasury industry agriculture transport environment state federal
    national regional local union party company group board bank central top lead lead-
    spokesperson press communications public political military naval army air security
    non-executive independent elected incoming outgoing prime first second retired veteran
    longtime long-time"""
)

# Words that make a capitalised run a ministry, portfolio or department ("External Affairs").
DEPARTMENT_WORDS = wordset(
    """affairs defence defense finance trade commerce labour labor health education justice
    interior home foreign external energy economy treasury industry industries agriculture
    transport environment state security homeland development commerce communications
    information culture tourism housing planning science technology telecommunications
    fisheries mines mining petroleum power railways water welfare employment competition
    infrastructure investment revenue customs immigration"""
)

# Words that make a capitalised run an organisation.
ORG_WORDS = wordset(
    """steel metals energy oil gas foods pharma pharmaceuticals logistics shipping telecom
    media software electric chemicals insurance securities investments ventures solutions
    robotics semiconductors works airline motor bancorp brands stores retail democrats
    republicans socialists greens conservatives liberals
    department ministry bureau agency commission council committee union bank inc ltd llc
    plc corp corporation co company group association federation authority office party court
    parliament congress senate assembly institute university college school foundation fund
    board administration alliance forum service services organisation organization centre
    center network holdings industries partners capital airlines airways motors systems
    technologies labs laboratories press times post journal news television tv radio police
    army navy force forces guard secretariat cabinet government regulator exchange league
    club society trust cooperative co-operative consortium tribunal commissionariat"""
)

# Generic technical and trade abbreviations: capitalised and recurring like an
# organisation's acronym ("NASA", "BART"), but names of things, never a party.
TECH_ACRONYMS = wordset(
    """cpu gpu ram ssd hdd usb usb-a usb-c hdmi led lcd oled suv suvs ev evs fps rpg ai vr ar
    api pc pcs tv dvd gps lte wi-fi wifi nfc ios mph rpm kw kwh mb gb tb mhz ghz dna rna
    ceo cfo cto coo ipo gdp vpn app apps url html pdf faq diy"""
)

# Last words that make a capitalised run a product line or edition: "AirPods Pro",
# "Apple Watch Series", "Premiere Edition".
PRODUCT_WORDS = wordset("series edition pro plus max ultra mini collection")

# Bodies in space: a one-word name that recurs, but a place, never a party.
CELESTIAL = wordset(
    """earth moon sun mercury venus mars jupiter saturn uranus neptune pluto ceres europa
    titan enceladus ganymede callisto io phobos deimos"""
)

# Org words that open a name ("Bureau of ...", "Ministry of ...").
ORG_OPENERS = wordset(
    "department ministry bureau office institute university bank council commission court"
)

# Heads of an organisation described by its members: "the dockworkers' union".
DESCRIBED_ORG_HEADS = wordset(
    "union unions association federation council guild alliance confederation league "
    "society chamber coalition"
)

HONORIFICS = wordset("mr mrs ms mx dr prof sir dame lord lady")

# Verbs after an organisation that show it acting in the story.
ACTION_VERBS = wordset(
    """said says say told added announced announces released releases issued issues stated
    states warned warns agreed agrees rejected rejects denied denies confirmed confirms
    echoed echoes signed signs approved approves launched launches filed files ruled rules
    decided decides blocked blocks opened opens imposed imposes proposed proposes offered
    offers called calls urged urges criticised criticized criticises criticizes welcomed
    welcomes plans planned will would has have had is was are were estimates estimated
    accuses accused argues argued claims claimed insists insisted demands demanded seeks
    sought wants wanted expects expected predicts predicted forecasts reports threatens
    threatened blames blamed backs backed supports supported opposes opposed represents"""
)

SPEECH_VERBS = wordset(
    """said says told added argued stated noted warned insisted explained wrote tweeted posted
    asked replied responded claimed admitted acknowledged conceded"""
)

DAYS = wordset("monday tuesday wednesday thursday friday saturday sunday")
MONTHS = wordset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec"""
)

# Lines after which nothing is article text.
TERMINATORS = (
    "related stories",
    "related articles",
    "related news",
    "more stories",
    "you may also like",
    "recommended for you",
    "most read",
    "trending now",
)

# Generic nouns that are never a topic by themselves.
GENERIC_NOUNS = wordset(
    """statement statements readout readouts official officials meeting meetings country
    countries side sides time times year years day days people person week weeks month months
    part number way thing things lot report reports news article story stories source sources
    spokesperson spokesman official government governments issue issues matter matters note
    term terms area areas future past end start place case cases point points group groups
    percent cent per company companies firm firms talks dialogue session sessions"""
)

# Cue words for a tension sentence (stems matched at word start), in three tiers: 2.0 a
# dispute by itself, 1.5 a strong sign, 1.0 a weak one that needs company.
TENSION_CUES: dict[str, float] = {
    "tension": 2.0,
    "tariff": 1.5,
    "punitive": 2.0,
    "sanction": 2.0,
    "harsh": 1.5,
    "critici": 2.0,
    "condemn": 2.0,
    "reject": 2.0,
    "refut": 2.0,
    "fight": 2.0,
    "suspen": 1.5,
    "defeat": 2.0,
    "beat": 1.5,
    "impeach": 2.0,
    "disciplin": 1.5,
    "punish": 1.5,
    "stab": 2.0,
    "kill": 1.5,
    "charged": 1.5,
    "charges": 1.5,
    "espionage": 2.0,
    "guilty": 2.0,
    "prosecut": 2.0,
    "controvers": 2.0,
    "doctored": 1.5,
    "mislead": 2.0,
    "deceiv": 2.0,
    "misinformation": 1.5,
    "lies": 1.5,
    "dishonest": 2.0,
    "distrust": 2.0,
    "chaos": 1.5,
    "illegal": 1.5,
    "violat": 1.5,
    "apolog": 1.5,
    "lose": 1.5,
    "lost": 1.5,
    "loss": 1.5,
    "missed": 1.0,
    "battle": 1.5,
    "attack": 2.0,
    "assault": 2.0,
    "arrest": 1.5,
    "abuse": 2.0,
    "scandal": 2.0,
    "backlash": 2.0,
    "outrage": 2.0,
    "slam": 1.5,
    "rival": 1.0,
    "appeal": 1.0,
    "deny": 2.0,
    "denie": 2.0,
    "denied": 2.0,
    "disput": 2.0,
    "contest": 1.5,
    "clash": 2.0,
    "row": 1.0,
    "standoff": 2.0,
    "stand-off": 2.0,
    "strike": 2.0,
    "insult": 1.5,
    "walkout": 2.0,
    "protest": 1.5,
    "threat": 1.5,
    "warn": 1.5,
    "accus": 2.0,
    "alleg": 1.5,
    "blame": 1.5,
    "retaliat": 2.0,
    "friction": 2.0,
    "disagree": 2.0,
    "object": 1.0,
    "oppos": 2.0,
    "concern": 1.0,
    "lawsuit": 2.0,
    "sue": 1.5,
    "boycott": 2.0,
    "escalat": 1.5,
    "rift": 2.0,
    "deadlock": 2.0,
    "impasse": 2.0,
    "stalled": 1.5,
    "penalt": 1.5,
    "fine": 1.0,
    "unfair": 1.5,
    "impos": 1.0,
    "quota": 1.0,
    "anger": 1.5,
    "angry": 1.5,
    "frustrat": 1.5,
    "dismiss": 1.0,
    "probe": 1.0,
    "investigat": 1.0,
    "block": 1.0,
    "ban": 1.0,
    "dumping": 1.5,
    "hostile": 1.5,
    "conflict": 1.0,
    "war": 1.0,
    "crisis": 1.0,
    # Harsh words in other verbs: "hammered X on", "blasted", "lashed out", "rebuked".
    "hammer": 2.0,
    "blast": 1.5,
    "lash": 1.5,
    "rebuk": 2.0,
    "rebuff": 2.0,
    "denounc": 2.0,
    "decr": 1.0,
    "feud": 2.0,
    "defy": 1.5,
    "defian": 1.5,
    "critic": 1.5,
    "complain": 1.5,
    "refus": 1.5,
    "resist": 1.0,
    "veto": 2.0,
    "debate": 1.0,
    "divided": 1.5,
    "division": 1.0,
    # Courts: "indicted", "convicted", "sentenced", "fraud", "complaint".
    "indict": 2.0,
    "convict": 2.0,
    "sentenced": 1.5,
    "fraud": 2.0,
    "complaint": 1.5,
    "breach": 1.5,
    "trial": 1.0,
    "verdict": 1.0,
    # Results against expectations: "fell short", "missing estimates", "a shortfall".
    "short": 1.0,
    "shortfall": 1.5,
    "missing": 1.0,
    "plunge": 1.0,
    "slump": 1.0,
    "downgrad": 1.5,
    # Contests: "a victory", "an upset"; a foul, a confrontation.
    "victor": 1.0,
    "upset": 1.5,
    "foul": 1.5,
    "confront": 1.5,
    # Things going wrong, and a bad reception: "a coding glitch", "disappointing results".
    "glitch": 1.5,
    "problem": 1.0,
    "disappoint": 1.5,
    "headwind": 1.0,
    "erod": 1.0,
    "rage": 1.5,
    "conspiracy": 1.5,
    "misinterpret": 1.0,
}

# Words that must be whole words to count (their stems are too common as prefixes).
TENSION_WHOLE = wordset("row sue fine ban war object block beat lies lose lost loss stab kill slam")

# Common place words: a capitalised run holding one is a place, not a person.
PLACE_WORDS = wordset(
    """street road avenue place lane boulevard stadium arena square city town village river
    lake sea ocean island islands mountain valley bay port harbour harbor airport
    station bridge north south east west central northern southern eastern western
    province state county district region coast delhi washington london beijing moscow
    paris berlin tokyo brussels geneva new york mumbai kolkata chennai bengaluru
    islamabad dhaka kabul tehran kyiv kiev canberra ottawa asia europe africa america
    americas pacific atlantic indo-pacific gulf middle"""
)

# Capitalised nouns that name things (plans, events), never people.
THING_WORDS = wordset(
    """partnership framework agreement deal treaty act bill plan programme program initiative
    dialogue summit conference strategy policy accord pact compact operation ministerial
    meeting talks round report review index fund project mission scheme award prize cup
    war conflict crisis law code rule rules standard protocol charter declaration
    memorandum convention festival day week"""
)

# Verbs that report speech or intent: "X said (that) Y will ...".
REPORTING_VERBS = wordset(
    "said says say told added announced confirmed stated believes believe expects expect "
    "hopes hope agreed decided insisted promised pledged indicated signalled signaled "
    "suggested predicted warned noted argued claimed ensure ensured stressed"
)
