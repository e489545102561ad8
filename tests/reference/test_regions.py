"""The region reference data: administrative codes, coordinates, populations and the home-region view."""

from __future__ import annotations

import math

import pytest

from cardwise.reference.regions import RegionCatalog, load_regions, parse_regions

# File order: the metropolitan cities first, then the provinces (codes 51 and 52 are the new 특별자치도).
PROVINCE_CODES = (
    *("11", "26", "27", "28", "29", "30", "31", "36", "41"),
    *("51", "43", "44", "52", "46", "47", "48", "50"),
)
SEOUL_DISTRICT_CODES = [
    *("11110", "11140", "11170", "11200", "11215", "11230", "11260", "11290", "11305", "11320"),
    *("11350", "11380", "11410", "11440", "11470", "11500", "11530", "11545", "11560", "11590"),
    *("11620", "11650", "11680", "11710", "11740"),
]

HEADER = "code,level,parent_code,name_ko,name_en,lat,lon,population_k\n"
OVERSEAS = "XX,overseas,,해외,Overseas,,,0\n"
SEOUL = "11,province,,서울특별시,Seoul,37.5665,126.9780,9386\n"


@pytest.fixture(scope="module")
def regions() -> RegionCatalog:
    return load_regions()


def test_counts_and_codes(regions: RegionCatalog) -> None:
    assert tuple(r.code for r in regions.provinces) == PROVINCE_CODES
    assert [r.code for r in regions.seoul_districts] == SEOUL_DISTRICT_CODES
    assert regions.overseas.code == "XX"
    assert regions.overseas.level == "overseas" and not regions.overseas.is_domestic
    assert len(regions) == 17 + 25 + 1
    assert len(set(regions.codes)) == len(regions.codes)
    assert all(d.parent_code == "11" for d in regions.seoul_districts)


def test_names(regions: RegionCatalog) -> None:
    assert regions.by_code("11").name_ko == "서울특별시"
    assert regions.by_code("51").name_ko == "강원특별자치도"
    assert regions.by_code("52").name_ko == "전북특별자치도"
    assert regions.by_code("11680").name_en == "Gangnam-gu"
    assert regions.province_of("11680").code == "11"
    assert regions.province_of("26").code == "26"
    for r in regions.regions:
        assert r.name_ko and r.name_en.isascii()
    with pytest.raises(KeyError, match="99"):
        regions.by_code("99")


def test_district_populations_add_up_to_seoul(regions: RegionCatalog) -> None:
    seoul = regions.by_code("11").population_k
    districts = sum(d.population_k for d in regions.seoul_districts)
    assert abs(districts - seoul) / seoul < 0.10


def test_national_population_is_about_51_million(regions: RegionCatalog) -> None:
    total = sum(p.population_k for p in regions.provinces)
    assert 50_000 < total < 52_500
    gyeonggi, sejong = regions.by_code("41"), regions.by_code("36")
    assert gyeonggi.population_k == max(p.population_k for p in regions.provinces)
    assert sejong.population_k == min(p.population_k for p in regions.provinces)


def test_coordinates_lie_in_korea(regions: RegionCatalog) -> None:
    for r in regions.regions:
        if not r.is_domestic:
            assert r.lat is None and r.lon is None
            continue
        assert r.lat is not None and r.lon is not None
        assert 33 <= r.lat <= 39 and 124 <= r.lon <= 132, r.code
    # Seoul's districts sit within ~20 km of City Hall; Jeju is the southernmost province.
    hall = regions.by_code("11")
    for d in regions.seoul_districts:
        assert d.lat is not None and d.lon is not None and hall.lat is not None and hall.lon is not None
        assert math.hypot((d.lat - hall.lat) * 111, (d.lon - hall.lon) * 88) < 20, d.code
    assert min(regions.provinces, key=lambda p: p.lat or 99).code == "50"


def test_home_regions(regions: RegionCatalog) -> None:
    homes = regions.home_regions
    assert len(homes) == 41
    codes = {h.code for h in homes}
    assert "11" not in codes and "XX" not in codes
    assert set(SEOUL_DISTRICT_CODES) <= codes
    assert set(PROVINCE_CODES) - {"11"} <= codes
    assert math.fsum(h.weight for h in homes) == pytest.approx(1.0)
    assert all(h.weight > 0 for h in homes)
    # Population weighting: Gyeonggi is about a quarter of the country, Seoul's districts about 18%.
    weights = {h.code: h.weight for h in homes}
    assert 0.23 < weights["41"] < 0.29
    assert 0.16 < sum(weights[c] for c in SEOUL_DISTRICT_CODES) < 0.20


def test_cached(regions: RegionCatalog) -> None:
    assert load_regions() is regions


def test_bad_rows_are_rejected() -> None:
    with pytest.raises(ValueError, match="outside South Korea"):
        parse_regions(HEADER + SEOUL + "26,province,,부산광역시,Busan,35.18,140.0,3293\n" + OVERSEAS)
    with pytest.raises(ValueError, match=r"line 3 .*needs lat and lon"):
        parse_regions(HEADER + SEOUL + "26,province,,부산광역시,Busan,,,3293\n" + OVERSEAS)
    with pytest.raises(ValueError, match="unknown parent 27"):
        parse_regions(HEADER + SEOUL + "27110,district,27,중구,Jung-gu,35.87,128.61,75\n" + OVERSEAS)
    with pytest.raises(ValueError, match="exactly one overseas row"):
        parse_regions(HEADER + SEOUL)
    with pytest.raises(ValueError, match="duplicate region codes: 11"):
        parse_regions(HEADER + SEOUL + SEOUL + OVERSEAS)
    with pytest.raises(ValueError, match="expected columns"):
        parse_regions("code,name\n11,Seoul\n")


def test_minimal_file_parses() -> None:
    gangnam = "11680,district,11,강남구,Gangnam-gu,37.5172,127.0473,535\n"
    catalog = parse_regions(HEADER + SEOUL + gangnam + OVERSEAS)
    assert [h.code for h in catalog.home_regions] == ["11680"]
    assert catalog.home_regions[0].weight == 1.0
