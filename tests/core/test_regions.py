import pytest
from django.core.exceptions import ValidationError

from credo.core.regions import (
    ancestors,
    children_of,
    full_name,
    get_region,
    provinces,
    validate_region_code,
)


def test_shanxi_complete():
    shanxi = get_region("140000")
    assert shanxi is not None and shanxi.name == "山西省"
    cities = {r.name for r in children_of("140000")}
    assert len(cities) == 11 and {"太原市", "大同市", "运城市", "吕梁市"} <= cities
    taiyuan_counties = {r.name for r in children_of("140100")}
    assert {"小店区", "迎泽区", "清徐县", "古交市"} <= taiyuan_counties
    assert get_region("140105").level == "county"


def test_names_and_hierarchy():
    assert full_name("140105") == "山西省太原市小店区"
    assert full_name("110101") == "北京市东城区"  # 市辖区 skipped
    assert [r.code for r in ancestors("140105")] == ["140000", "140100", "140105"]
    assert len(provinces()) >= 31


def test_invalid_code():
    with pytest.raises(ValidationError, match="行政区划代码"):
        validate_region_code("149999")


def test_self_parented_cities_do_not_loop():
    assert full_name("441900").endswith("东莞市")
