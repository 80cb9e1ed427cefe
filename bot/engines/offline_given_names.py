"""Common given names: a capitalised pair that opens with one is a person.

Without a model, a name that the article gives once, with no role, no quote and no later
surname ("The podcast team of Catherine Whitaker, David Law and Matt Roberts") has nothing
else to go on. The list holds frequent given names of English-language news across many
countries; it is no list of the people of any article.
"""

from __future__ import annotations

from bot.engines.offline_lexicon import wordset

GIVEN_NAMES = wordset(
    """aaron abdul abigail adam adrian ahmed aisha alan albert alex alexander alexandra alexis
    ali alice alicia allison amanda amber amy ana andre andrea andrew andy angela angelina anita
    ann anna anne annie anthony antonio arjun arthur ashley barbara barry ben benjamin bernard
    beth betty bill billy bob bobby bonnie boris brad bradley brandon brenda brendan brent brian
    bruce bryan caleb cameron carl carla carlos carol caroline carolyn catherine charles charlie
    charlotte chloe chris christian christina christine christopher cindy claire clara colin
    craig cynthia dan daniel danielle danny darren dave david deborah debra denise dennis
    derek diana diane donald donna doris dorothy doug douglas dylan ed eddie edward elena eli
    elizabeth ellen emily emma eric erica erin ethan eugene eva evan fatima fernando fiona frances
    francis frank fred gabriel gary george gerald gina glenn gloria gordon grace greg gregory hannah
    harold harry heather helen henry holly howard ian isaac isabel jack jackie jacob james jamie
    jan jane janet janice jared jason jean jeff jeffrey jennifer jenny jeremy jerry jesse jessica
    jill jim jimmy joan joe joel john johnny jon jonathan jose joseph josh joshua joyce
    juan judith judy julia julian julie justin karen kate katherine kathleen kathryn katie kay
    keith kelly ken kenneth kevin kim kimberly kyle larry laura lauren lawrence leah lee leo leon
    lily linda lisa liz lois louis lucas lucy luis luke lynn maria marie marilyn mario mark marta
    martha martin mary matt matthew maureen max megan melissa michael michelle miguel mike
    mohammed muhammad nancy natalie nathan neil nick nicholas nicole noah nora olivia omar oscar
    pamela pat patricia patrick paul paula peggy peter philip phil rachel rahul ralph ramon randy
    raymond rebecca richard rick rita rob robert robin roger ron ronald rose ruth ryan sam samantha
    samuel sandra sara sarah scott sean sergei shannon sharon shirley simon sophia sophie stephanie
    stephen steve steven sue susan tammy teresa terry theresa thomas tim timothy tina todd tom
    tony tracy travis tyler valerie vanessa victor vincent walter wayne wendy
    will william willie zachary"""
)
