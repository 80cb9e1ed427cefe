"""Countries and blocs: canonical names, aliases and demonyms (lower-case lookups)."""

from __future__ import annotations

# Countries and blocs: the first name is canonical; later ones are aliases and demonyms.
_COUNTRY_TABLE = """
Afghanistan|Afghan|Afghans
Albania|Albanian
Algeria|Algerian
Angola|Angolan
Argentina|Argentine|Argentinian
Armenia|Armenian
Australia|Australian|Australians
Austria|Austrian
Azerbaijan|Azerbaijani
Bahrain|Bahraini
Bangladesh|Bangladeshi
Belarus|Belarusian
Belgium|Belgian
Bhutan|Bhutanese
Bolivia|Bolivian
Bosnia|Bosnian
Botswana
Brazil|Brazilian
Bulgaria|Bulgarian
Cambodia|Cambodian
Cameroon|Cameroonian
Canada|Canadian|Canadians
Chile|Chilean
China|Chinese|PRC
Colombia|Colombian
Congo|Congolese
Croatia|Croatian
Cuba|Cuban
Cyprus|Cypriot
Czech Republic|Czechia|Czech
Denmark|Danish
Ecuador|Ecuadorian
Egypt|Egyptian
Estonia|Estonian
Ethiopia|Ethiopian
Finland|Finnish
France|French
Georgia|Georgian
Germany|German|Germans
Ghana|Ghanaian
Greece|Greek
Hungary|Hungarian
Iceland|Icelandic
India|Indian|Indians
Indonesia|Indonesian
Iran|Iranian
Iraq|Iraqi
Ireland|Irish
Israel|Israeli|Israelis
Italy|Italian
Japan|Japanese
Jordan|Jordanian
Kazakhstan|Kazakh
Kenya|Kenyan
Kuwait|Kuwaiti
Latvia|Latvian
Lebanon|Lebanese
Libya|Libyan
Lithuania|Lithuanian
Luxembourg
Malaysia|Malaysian
Maldives|Maldivian
Mexico|Mexican
Moldova|Moldovan
Mongolia|Mongolian
Morocco|Moroccan
Myanmar|Burmese
Nepal|Nepali|Nepalese
Netherlands|Dutch|Holland
New Zealand
Nigeria|Nigerian
North Korea|DPRK
Norway|Norwegian
Oman|Omani
Pakistan|Pakistani|Pakistanis
Palestine|Palestinian|Palestinians
Peru|Peruvian
Philippines|Filipino|Philippine
Poland|Polish
Portugal|Portuguese
Qatar|Qatari
Romania|Romanian
Russia|Russian|Russians|Russian Federation
Saudi Arabia|Saudi
Serbia|Serbian
Singapore|Singaporean
Slovakia|Slovak
Slovenia|Slovenian
Somalia|Somali
South Africa|South African
South Korea|Korea|Korean|Republic of Korea
Spain|Spanish
Sri Lanka|Sri Lankan
Sudan|Sudanese
Sweden|Swedish
Switzerland|Swiss
Syria|Syrian
Taiwan|Taiwanese
Tanzania|Tanzanian
Thailand|Thai
Tunisia|Tunisian
Turkey|Turkish|Türkiye
Uganda|Ugandan
Ukraine|Ukrainian|Ukrainians
United Arab Emirates|UAE|Emirati
UK|U.K.|United Kingdom|Britain|British|Great Britain
US|U.S.|USA|U.S.A.|United States|United States of America|America|American|Americans
Uruguay|Uruguayan
Uzbekistan|Uzbek
Venezuela|Venezuelan
Vietnam|Vietnamese|Viet Nam
Yemen|Yemeni
Zambia|Zambian
Zimbabwe|Zimbabwean
EU|European Union|E.U.
"""


def _country_aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for line in _COUNTRY_TABLE.strip().splitlines():
        names = line.split("|")
        for alias in names:
            table[alias.lower()] = names[0]
    return table


#: lower-case alias or demonym -> canonical country name.
COUNTRIES: dict[str, str] = _country_aliases()
#: Aliases that name the country itself (not a demonym): what a participant is called.
COUNTRY_NAMES = frozenset(
    {alias.lower() for line in _COUNTRY_TABLE.strip().splitlines() for alias in line.split("|")[:1]}
    | {alias for alias in COUNTRIES if alias.replace(".", "").isalpha() and alias.isupper()}
    | {
        alias.lower()
        for alias in [
            "US",
            "U.S.",
            "USA",
            "U.S.A.",
            "UK",
            "U.K.",
            "UAE",
            "PRC",
            "DPRK",
            "EU",
            "E.U.",
        ]
    }
    | {
        "united states",
        "united states of america",
        "america",
        "united kingdom",
        "britain",
        "great britain",
        "holland",
        "czechia",
        "türkiye",
        "viet nam",
        "korea",
        "republic of korea",
        "russian federation",
        "european union",
    }
)
#: The longest alias in words, so lookups know how far to look ahead.
COUNTRY_MAX_WORDS = max(len(alias.split()) for alias in COUNTRIES)
