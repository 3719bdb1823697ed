"""Learn articles: the required topics, the triage-generated article, links from prompts and check-ins,
search, and the associations by locale."""

from __future__ import annotations

import pytest

from alscare.clinical.history_prompts import PROMPT_IDS
from alscare.clinical.triage import RULES, Tier, rule_message
from alscare.clinical.wording import load_wording
from alscare.content import articles as learn

REQUIRED = {
    "what-is-als",
    "causes",
    "symptoms",
    "diagnosis",
    "slowing-als",
    "symptom-medicines",
    "rehabilitation",
    "care-wishes",
    "talking-with-family",
    "when-to-get-help",
    "caring-for-the-carer",
    "where-to-find-help",
}


def test_every_required_topic_has_an_article_in_reading_order() -> None:
    ids = [a.id for a in learn.all_articles()]
    assert set(ids) >= REQUIRED
    assert ids == [i for i in learn.ARTICLE_ORDER if i in ids]
    assert learn.all_articles("es") == ()


def test_the_emergency_article_lists_every_triage_rule_with_its_own_words() -> None:
    article = learn.article("when-to-get-help")
    assert article is not None and article.generated_from == "triage"
    generated = [s for s in article.sections if s.rule_ids]
    listed = [rule_id for s in generated for rule_id in s.rule_ids]
    assert sorted(listed) == sorted(r.id for r in RULES), "every triage rule, once"
    fields = load_wording("triage.en")["fields"]
    by_id = {r.id: r for r in RULES}
    for section in generated:
        tiers = {by_id[i].tier for i in section.rule_ids}
        assert len(tiers) == 1, "one section per tier"
        for rule_id, bullet in zip(section.rule_ids, section.bullets, strict=True):
            if by_id[rule_id].tier is Tier.ROUTINE:
                assert bullet == fields[rule_id.removeprefix("noted_")]["label"]
            else:
                assert bullet == rule_message(rule_id), rule_id
    assert [s.heading for s in generated] == [
        "Call the emergency number now",
        "Contact your care team today",
        "Tell your team at the next review",
    ]
    assert all(r.source in article.sources for r in RULES)


def test_every_prompt_links_the_clinic_to_an_existing_article() -> None:
    for prompt_id in (*PROMPT_IDS, "riluzole_liver_test_due_2026-03-01", "withdrawn_medicine_pb_taurursodiol"):
        target = learn.article_for_prompt(prompt_id)
        assert target is not None and learn.article(target) is not None, prompt_id
    assert learn.article_for_prompt("no_such_prompt") is None


def test_rule_links_point_at_existing_articles() -> None:
    rule_ids = {r.id for r in RULES}
    for rule_id, target in learn._RULE_ARTICLES.items():
        assert rule_id in rule_ids, f"{rule_id} is not a triage rule"
        assert learn.article(target) is not None


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ((), ["when-to-get-help"]),
        (
            ("orthopnea", "morning_headache", "noted_cramps"),
            ["when-to-get-help", "breathing-and-eating-support", "symptom-medicines"],
        ),
        (("chest_pain_severe",), ["when-to-get-help"]),
    ],
)
def test_check_in_links_when_to_get_help_then_one_per_topic(rules: tuple[str, ...], expected: list[str]) -> None:
    assert [a.id for a in learn.articles_for_check_in(rules)] == expected


@pytest.mark.parametrize(
    ("query", "must_find", "must_not_find"),
    [
        ("riluzole", {"slowing-als", "when-to-get-help"}, {"what-is-als"}),
        ("MRI metal", {"diagnosis"}, {"caring-for-the-carer"}),
        ("RILUZ", {"slowing-als"}, set()),  # case-insensitive, word prefixes
        ("carer", {"caring-for-the-carer"}, set()),
        ("zebra", set(), {"what-is-als"}),
        ("   ", set(), {"what-is-als"}),
    ],
)
def test_search_over_title_and_text(query: str, must_find: set[str], must_not_find: set[str]) -> None:
    found = {a.id for a in learn.search(query)}
    assert must_find <= found
    assert not (must_not_find & found)


def test_search_ranks_title_matches_first() -> None:
    assert learn.search("carer")[0].id == "caring-for-the-carer"


@pytest.mark.parametrize(
    ("locale", "country", "first"),
    [
        ("en-GB", "GB", "MND Association (England, Wales and Northern Ireland)"),
        ("en_US", "US", "The ALS Association"),
        ("en-CA", "CA", "ALS Canada"),
    ],
)
def test_associations_for_the_locale_come_first(locale: str, country: str, first: str) -> None:
    assert learn.country_of(locale) == country
    local, international, others = learn.associations_for(locale)
    assert local[0].name == first
    assert all(a.country == country for a in local)
    assert international and all(a.country == "*" for a in international)
    assert not {a.country for a in others} & {country, "*"}


def test_a_locale_without_country_shows_everyone_but_no_local_list() -> None:
    local, international, others = learn.associations_for("en")
    assert local == [] and international and {"US", "GB", "CA"} <= {a.country for a in others}


def test_every_association_has_a_web_address_and_unchecked_phones_say_so() -> None:
    local, international, others = learn.associations_for("en")
    for a in local + international + others:
        assert a.web.startswith("https://")
        assert a.source_of_phone.strip()
        if a.phone_checked:
            assert a.phone, a.name
