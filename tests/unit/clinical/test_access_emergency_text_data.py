"""The emergency text routes are data with their sources (issue 7, item 4), and their words are plain."""

from __future__ import annotations

import textstat

from alscare.clinical.emergency_text import all_routes, route, route_for_locale
from alscare.clinical.wording import load_wording


def test_every_route_names_its_source_and_whether_it_was_verified() -> None:
    routes = all_routes()
    countries = [r.country for r in routes]
    assert len(countries) == len(set(countries)), "one route per country"
    assert countries.count("*") == 1
    for r in routes:
        assert r.source.strip(), r.id
        assert isinstance(r.verified, bool)
        assert r.sms_to == "" or r.sms_to.isdigit(), r.id
        assert r.web == "" or r.web.startswith("https://"), r.id
    assert not route("general").verified  # type: ignore[union-attr]


def test_the_locale_picks_its_country_and_falls_back_to_general_advice() -> None:
    assert route_for_locale("en-GB").id == "gb_emergency_sms"
    assert route_for_locale("en_IE").id == "ie_112_sms"
    assert route_for_locale("en-US").sms_to == "911"
    assert route_for_locale("fr-CA").id == "ca_t911"
    assert route_for_locale("de-DE").sms_to == ""
    assert route_for_locale("en").id == "general"
    assert route_for_locale("pt-BR").id == "general"


def test_the_uk_route_says_to_register_first_as_the_service_requires() -> None:
    uk = route_for_locale("en-GB")
    assert uk.register_first and "register" in uk.register and uk.send_to == "999"


def test_the_words_a_person_reads_are_at_grade_8_or_below() -> None:
    texts = [t for r in all_routes() for t in (r.use, r.register, r.wait)]
    words = load_wording("emergency_card.en")
    texts += [v for section in ("text_route", "settings") for v in words[section].values()]
    texts += [words["card"][k] for k in ("als", "talk", "breathing_unknown", "baseline", "wishes_none")]
    for t in texts:
        assert textstat.flesch_kincaid_grade(t) <= 8.0, t
