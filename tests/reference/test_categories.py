"""The merchant-category reference data: shape, internal consistency and the published facts it encodes."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from cardwise.reference.categories import (
    AGE_BANDS,
    Category,
    CategoryCatalog,
    load_categories,
    parse_categories,
)

# The agreed codes, in file order; other modules depend on them.
EXPECTED_CODES = [
    *("KOREAN", "JAPANESE", "WESTERN", "CHINESE", "BAKERY", "CAFE", "FASTFOOD", "BAR", "KARAOKE"),
    *("DEPT_STORE", "HYPERMARKET", "SUPERMARKET", "CONVENIENCE", "HOUSEHOLD", "BUTCHER", "PRODUCE"),
    *("CLOTHING", "FASHION_ACC", "JEWELRY", "OPTICIAN"),
    *("CINEMA", "FITNESS", "GOLF", "BOOKSTORE", "HOBBY", "SPORTS_GOODS", "FLORIST"),
    *("HOTEL", "TRAVEL_AGENCY", "AIRLINE", "DUTY_FREE", "TRANSIT", "TAXI"),
    *(
        "HAIR_SALON",
        "BEAUTY_SERVICE",
        "COSMETICS",
        "LAUNDRY",
        "INTERIOR",
        "TELECOM",
        "INSURANCE",
        "UTILITIES",
    ),
    *("ACADEMY", "LANGUAGE_SCHOOL", "KINDERGARTEN", "HOSPITAL", "CLINIC", "DENTAL", "PHARMACY"),
    *("APPLIANCE", "FURNITURE", "CAR_SALES", "CAR_REPAIR", "GAS_STATION"),
    *("ONLINE_MALL", "DIGITAL_CONTENT", "PET", "BABY"),
]
HANGUL = re.compile(r"[가-힣]")


@pytest.fixture(scope="module")
def catalog() -> CategoryCatalog:
    return load_categories()


@pytest.fixture(scope="module")
def raw_yaml() -> str:
    from importlib.resources import files

    return files("cardwise.reference").joinpath("data", "categories.yaml").read_text(encoding="utf-8")


def test_exactly_the_agreed_57_codes_in_file_order(catalog: CategoryCatalog) -> None:
    assert len(EXPECTED_CODES) == 57
    assert catalog.codes == tuple(EXPECTED_CODES)
    assert len(set(catalog.codes)) == 57
    assert [catalog.index(code) for code in catalog.codes] == list(range(57))
    assert catalog.by_code("CAFE").code == "CAFE"
    with pytest.raises(KeyError, match="NOPE"):
        catalog.by_code("NOPE")


def test_every_category_has_korean_and_english_names_and_a_known_group(catalog: CategoryCatalog) -> None:
    group_codes = {g.code for g in catalog.groups}
    assert 12 <= len(group_codes) <= 18
    for c in catalog.categories:
        assert HANGUL.search(c.name_ko), c.code
        assert c.name_en.isascii() and c.name_en.strip(), c.code
        assert c.group in group_codes
    for g in catalog.groups:
        assert HANGUL.search(g.name_ko) and g.name_en.isascii()
    # Every group is used.
    assert {c.group for c in catalog.categories} == group_codes


def test_count_shares_sum_to_one(catalog: CategoryCatalog) -> None:
    assert math.fsum(c.share for c in catalog.categories) == pytest.approx(1.0, abs=1e-3)
    assert all(c.share > 0 for c in catalog.categories)


def test_everyday_categories_are_most_frequent_and_big_tickets_rare(catalog: CategoryCatalog) -> None:
    by_count = sorted(catalog.categories, key=lambda c: -c.share)
    top8 = {c.code for c in by_count[:8]}
    assert {"CONVENIENCE", "KOREAN", "CAFE", "SUPERMARKET", "TRANSIT", "ONLINE_MALL"} <= top8
    for rare in ("CAR_SALES", "AIRLINE", "JEWELRY", "HOTEL", "INTERIOR", "FURNITURE"):
        assert catalog.by_code(rare).share < 0.005, rare


def test_hour_profiles_exist_and_have_24_non_negative_weights(catalog: CategoryCatalog) -> None:
    assert len(catalog.hour_profiles) >= 10
    for name, weights in catalog.hour_profiles.items():
        assert len(weights) == 24, name
        assert all(w >= 0 for w in weights) and sum(weights) > 0, name
    for c in catalog.categories:
        assert c.hour_profile in catalog.hour_profiles, c.code
        assert len(catalog.hour_weights(c.code)) == 24
        assert sum(catalog.hour_weights(c.code)) == pytest.approx(1.0)


def test_cafe_profile_peaks_around_midday(catalog: CategoryCatalog) -> None:
    cafe = catalog.hour_profiles["cafe"]
    assert 11 <= cafe.index(max(cafe)) <= 14
    # Morning coffee is real but smaller than the after-lunch peak.
    assert max(cafe[8:11]) < max(cafe)
    assert cafe[3] < 0.05 * max(cafe)


def test_nightlife_profile_is_mostly_between_19h_and_02h(catalog: CategoryCatalog) -> None:
    night = catalog.hour_profiles["nightlife"]
    window = sum(night[19:24]) + sum(night[0:2])
    assert window / sum(night) > 0.7


def test_dining_profile_reproduces_shinhan_dinner_figures(catalog: CategoryCatalog) -> None:
    """Shinhan 2018: 58.9% of dinner payments 17-20h, 26.1% in the 19-20h peak hour."""
    dining = catalog.hour_profiles["dining"]
    dinner = sum(dining[17:24])
    assert sum(dining[17:20]) / dinner == pytest.approx(0.589, abs=0.01)
    assert dining[19] / dinner == pytest.approx(0.261, abs=0.01)
    assert dining[19] == max(dining[17:24])
    # A lunch peak too.
    assert 11 <= dining.index(max(dining[:15])) <= 13


def test_hour_mix_by_age_is_close_to_kb(catalog: CategoryCatalog) -> None:
    """KB: 74.9% of spending by ages 20-49 in 11-22h; 78.3% by 65+ in 10-19h (hours are per category only)."""

    def amount_by_hour(bands: tuple[str, ...]) -> list[float]:
        hours = [0.0] * 24
        for c in catalog.categories:
            weight = c.share * c.mean_amount_krw * sum(c.age_weights[b] for b in bands)
            for h, p in enumerate(catalog.hour_weights(c.code)):
                hours[h] += weight * p
        total = sum(hours)
        return [v / total for v in hours]

    young = amount_by_hour(("20s", "30s", "40s"))
    old = amount_by_hour(("60s", "70s"))
    assert sum(young[11:22]) == pytest.approx(0.749, abs=0.05)
    assert 0.6 < sum(old[10:19]) <= 0.8
    assert sum(old[10:19]) > sum(young[10:19])


def test_commute_profile_has_morning_and_evening_peaks(catalog: CategoryCatalog) -> None:
    commute = catalog.hour_profiles["commute"]
    assert commute.index(max(commute[:12])) in (7, 8)
    assert commute.index(max(commute[12:])) in (17, 18, 19)


def _amount_rank(catalog: CategoryCatalog) -> list[str]:
    amount = {c.code: c.share * c.amount_median_krw * math.exp(c.amount_sigma**2 / 2) for c in catalog.categories}
    return sorted(amount, key=lambda code: -amount[code])


def test_fuel_and_hypermarkets_are_among_the_top_five_by_amount(catalog: CategoryCatalog) -> None:
    top5 = _amount_rank(catalog)[:5]
    assert "GAS_STATION" in top5
    assert "HYPERMARKET" in top5
    assert _amount_rank(catalog) == sorted(catalog.amount_shares(), key=lambda code: -catalog.amount_shares()[code])
    assert math.fsum(catalog.amount_shares().values()) == pytest.approx(1.0)


def test_average_ticket_is_plausible(catalog: CategoryCatalog) -> None:
    """Korean credit-card transactions average a few tens of thousands of won."""
    mean_ticket = math.fsum(c.share * c.mean_amount_krw for c in catalog.categories)
    assert 25_000 < mean_ticket < 60_000


def test_amount_medians_follow_the_brief(catalog: CategoryCatalog) -> None:
    assert 4_000 <= catalog.by_code("CAFE").amount_median_krw <= 6_000
    assert catalog.by_code("CONVENIENCE").amount_median_krw < catalog.by_code("KOREAN").amount_median_krw
    assert catalog.by_code("CAR_SALES").amount_median_krw >= 1_000_000
    assert catalog.by_code("AIRLINE").amount_median_krw > catalog.by_code("HOTEL").amount_median_krw
    assert catalog.by_code("TELECOM").amount_sigma <= 0.35


def test_age_weights_have_the_six_bands(catalog: CategoryCatalog) -> None:
    for c in catalog.categories:
        assert tuple(c.age_weights.as_dict()) == AGE_BANDS
        assert all(0 < w <= 5 for w in c.age_weights.as_tuple()), c.code


def test_older_customers_use_clinics_and_pharmacies_much_more(catalog: CategoryCatalog) -> None:
    for code in ("CLINIC", "PHARMACY"):
        weights = catalog.by_code(code).age_weights
        assert weights["60s"] >= 1.8 and weights["70s"] >= 1.8, code
    assert catalog.by_code("HOSPITAL").age_weights["70s"] >= 1.8


def test_age_patterns_from_the_reference(catalog: CategoryCatalog) -> None:
    aw = {c.code: c.age_weights for c in catalog.categories}
    assert aw["ONLINE_MALL"]["70s"] <= 0.4
    for code in ("CLOTHING", "CAFE", "CONVENIENCE", "ONLINE_MALL", "BAR", "KARAOKE"):
        assert aw[code]["20s"] > aw[code]["50s"], code
    for code in ("ACADEMY", "KINDERGARTEN", "BABY"):
        weights = aw[code].as_dict()
        assert max(weights, key=weights.__getitem__) in ("30s", "40s"), code
    assert max(AGE_BANDS, key=lambda band: aw["GOLF"][band]) in ("40s", "50s", "60s")


def test_spending_mix_by_age_matches_bc_card_shape(catalog: CategoryCatalog) -> None:
    """BC Card: 20s spend most on clothing/online; 60+ spend ~10% on medical; 40s-50s hypermarket & fuel."""

    def amount_mix(band: str) -> dict[str, float]:
        raw = {c.code: c.share * c.age_weights[band] * c.mean_amount_krw for c in catalog.categories}
        total = sum(raw.values())
        return {k: v / total for k, v in raw.items()}

    mix20 = amount_mix("20s")
    assert mix20["CLOTHING"] > amount_mix("50s")["CLOTHING"]
    assert sorted(mix20, key=lambda k: -mix20[k])[:2] == ["ONLINE_MALL", "CLOTHING"]
    for band in ("40s", "50s"):
        mix = amount_mix(band)
        assert {"HYPERMARKET", "GAS_STATION"} <= set(sorted(mix, key=lambda k: -mix[k])[:3]), band
    medical = {"HOSPITAL", "CLINIC", "DENTAL", "PHARMACY"}
    for band in ("60s", "70s"):
        assert sum(amount_mix(band)[k] for k in medical) > 0.07, band
    assert sum(amount_mix("30s")[k] for k in medical) < 0.05


def test_gender_weights(catalog: CategoryCatalog) -> None:
    fw = {c.code: c.female_weight for c in catalog.categories}
    assert fw["COSMETICS"] > 2
    assert fw["BEAUTY_SERVICE"] > 2
    assert fw["CAFE"] < 1  # Hyundai Card: men spend ~40% more at coffee shops
    assert fw["HYPERMARKET"] > 1.3  # Samsung: hypermarkets are women's largest category
    assert fw["GAS_STATION"] < 1 and fw["CAR_REPAIR"] < 1


def test_channels_and_online_shares(catalog: CategoryCatalog) -> None:
    for code in ("ONLINE_MALL", "DIGITAL_CONTENT", "TELECOM", "INSURANCE", "UTILITIES"):
        c = catalog.by_code(code)
        assert c.channel == "online" and c.online_share == 1.0, code
    for code in ("AIRLINE", "TRAVEL_AGENCY", "HOTEL", "DUTY_FREE", "BOOKSTORE", "COSMETICS", "CLOTHING"):
        c = catalog.by_code(code)
        assert c.channel == "mixed" and 0 < c.online_share < 1, code
    for c in catalog.categories:
        if c.channel == "offline":
            assert c.online_share == 0.0


def test_overseas_shares(catalog: CategoryCatalog) -> None:
    ov = {c.code: c.overseas_share for c in catalog.categories}
    assert ov["AIRLINE"] >= 0.2 and ov["DUTY_FREE"] >= 0.2 and ov["DIGITAL_CONTENT"] >= 0.2
    assert ov["UTILITIES"] == 0 and ov["ACADEMY"] == 0
    overall = math.fsum(c.share * c.overseas_share for c in catalog.categories)
    assert 0.005 < overall < 0.03  # a few percent of transactions happen abroad


def test_fraud_weights(catalog: CategoryCatalog) -> None:
    fr = {c.code: c.fraud_weight for c in catalog.categories}
    magnets = (
        "JEWELRY",
        "APPLIANCE",
        "CONVENIENCE",
        "GAS_STATION",
        "ONLINE_MALL",
        "DIGITAL_CONTENT",
        "DUTY_FREE",
    )
    for code in magnets:
        assert fr[code] >= 3, code
    for code in ("UTILITIES", "INSURANCE", "ACADEMY", "HOSPITAL"):
        assert fr[code] <= 0.2, code


def test_flags(catalog: CategoryCatalog) -> None:
    excluded = {c.code for c in catalog.categories if c.prev_month_excluded}
    recurring = {c.code for c in catalog.categories if c.recurring}
    assert excluded == {"UTILITIES", "INSURANCE"}
    assert recurring == {"TELECOM", "INSURANCE", "UTILITIES", "DIGITAL_CONTENT"}


def test_weekend_factors(catalog: CategoryCatalog) -> None:
    wf = {c.code: c.weekend_factor for c in catalog.categories}
    for code in ("HYPERMARKET", "DEPT_STORE", "CINEMA", "GOLF", "WESTERN"):
        assert wf[code] >= 1.3, code
    for code in ("TRANSIT", "ACADEMY", "CLINIC", "HOSPITAL", "KINDERGARTEN"):
        assert wf[code] <= 0.7, code


def test_catalog_is_cached_and_immutable(catalog: CategoryCatalog) -> None:
    assert load_categories() is catalog
    cafe = catalog.by_code("CAFE")
    with pytest.raises(ValidationError, match="frozen"):
        cafe.share = 0.5
    with pytest.raises(TypeError):
        catalog.hour_profiles["cafe"] = (1.0,) * 24  # type: ignore[index]
    assert isinstance(hash(cafe), int)


# --- corrupted files -------------------------------------------------------------------------------


def _write_and_parse(tmp_path: Path, doc: dict[str, object]) -> CategoryCatalog:
    path = tmp_path / "categories.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return parse_categories(path.read_text(encoding="utf-8"))


def test_round_trip_of_the_packaged_file(tmp_path: Path, raw_yaml: str) -> None:
    assert _write_and_parse(tmp_path, yaml.safe_load(raw_yaml)).codes == tuple(EXPECTED_CODES)


def test_shares_not_summing_to_one_are_rejected(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    doc["categories"][0]["share"] += 0.05
    with pytest.raises(ValueError, match=r"shares sum to 1\.05\d*, expected 1\.0"):
        _write_and_parse(tmp_path, doc)


def test_unknown_hour_profile_is_rejected(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    doc["categories"][5]["hour_profile"] = "brunch"
    with pytest.raises(ValueError, match=r"CAFE refers to unknown hour_profile 'brunch'"):
        _write_and_parse(tmp_path, doc)


def test_short_hour_profile_is_rejected(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    doc["hour_profiles"]["cafe"] = doc["hour_profiles"]["cafe"][:23]
    with pytest.raises(ValueError, match=r"hour_profile 'cafe'.*24 hourly weights, got 23"):
        _write_and_parse(tmp_path, doc)


def test_missing_age_band_and_unknown_group_are_rejected(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    del doc["categories"][0]["age_weights"]["70s"]
    with pytest.raises(ValueError, match=r"category KOREAN: age_weights\.70s: Field required"):
        _write_and_parse(tmp_path, doc)
    doc = yaml.safe_load(raw_yaml)
    doc["categories"][0]["group"] = "FOOD"
    with pytest.raises(ValueError, match=r"KOREAN refers to unknown group 'FOOD'"):
        _write_and_parse(tmp_path, doc)


def test_mixed_channel_needs_an_online_share(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    airline = next(c for c in doc["categories"] if c["code"] == "AIRLINE")
    del airline["online_share"]
    with pytest.raises(ValueError, match="mixed category AIRLINE needs an online_share"):
        _write_and_parse(tmp_path, doc)


def test_duplicate_codes_and_bad_yaml_are_rejected(tmp_path: Path, raw_yaml: str) -> None:
    doc = yaml.safe_load(raw_yaml)
    doc["categories"].append(dict(doc["categories"][0], share=0.0))
    with pytest.raises(ValueError, match="duplicate category codes: KOREAN"):
        _write_and_parse(tmp_path, doc)
    with pytest.raises(ValueError, match="not valid YAML"):
        parse_categories("categories: [\n")
    with pytest.raises(ValueError, match="missing top-level keys: groups"):
        parse_categories("hour_profiles: {}\ncategories: []\n")


def test_category_model_validates_ranges() -> None:
    good = load_categories().by_code("CAFE").model_dump(by_alias=True)
    assert Category.model_validate(good) == load_categories().by_code("CAFE")
    with pytest.raises(ValueError, match="share"):
        Category.model_validate(dict(good, share=1.5))
    with pytest.raises(ValueError, match="channel"):
        Category.model_validate(dict(good, channel="phone"))
