import pytest

from minyi.core.errors import ValidationFailed
from minyi.routing import duty_list

HEADER = "事项编码,一级分类,二级分类,三级分类,主办部门,协办部门,办理类型,办理时限(工作日),关键词\n"


def test_sample_duty_list_parses_with_bom():
    matters = duty_list.parse_csv("\ufeff" + duty_list.sample_csv())
    assert len(matters) >= 10
    assert all(m.keywords for m in matters)


def test_every_problem_is_reported_by_row_and_column():
    text = HEADER + "A1,城乡建设,城市建设和市政管理,城市公共设施,区城管局,,求助,5,路灯\n" \
                    "A1,城乡建设,城市建设和市政管理,环境卫生,区城管局,,求助,5,垃圾\n" \
                    "A3,城乡建设,,环境卫生,区城管局,,抱怨,0,\n"
    with pytest.raises(ValidationFailed) as caught:
        duty_list.parse_csv(text)
    problems = {(p["row"], p["column"]) for p in caught.value.details}
    assert (3, "事项编码") in problems  # duplicate code
    assert {(4, "二级分类"), (4, "办理类型"), (4, "办理时限(工作日)"), (4, "关键词")} <= problems


def test_missing_columns_are_reported():
    with pytest.raises(ValidationFailed) as caught:
        duty_list.parse_csv("事项编码,主办部门\nA,区城管局\n")
    assert {p["column"] for p in caught.value.details} >= {"一级分类", "关键词"}


def test_a_name_with_a_space_inside_is_rejected_by_row_and_column():
    from minyi.core.errors import ValidationFailed
    from minyi.routing import duty_list

    text = duty_list.sample_csv().replace("路灯|井", "路 灯|井", 1)
    try:
        duty_list.parse_csv(text)
    except ValidationFailed as error:
        assert error.details[0]["row"] == 2 and error.details[0]["column"] == "关键词"
    else:
        raise AssertionError("accepted a keyword with a space inside")
