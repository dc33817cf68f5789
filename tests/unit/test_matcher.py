"""The matcher and `minyi dispatch` on the complete county duty list."""

import io
import json
import logging
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jieba
from hypothesis import given, settings
from hypothesis import strategies as st

from minyi.models.duty import DutyList
from minyi.routing import dispatch, duty_list
from minyi.routing.emergency import is_emergency
from minyi.routing.matcher import EVERYDAY_WORDS, Matcher, dictionary
from minyi.routing.places import GANXIAN_TOWNSHIPS, Place, places, townships
from minyi.routing.segmenter import Segmenter

COUNTY = Matcher(DutyList(version=3, matters=duty_list.parse_csv(duty_list.county_csv())))


def _jieba_with(words: dict[str, int]) -> jieba.Tokenizer:
    """The real jieba (a dev dependency only), its dictionary loaded from the same words the
    way jieba loads a dictionary file: the reference the vendored segmenter must equal."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    lines = "".join(f"{word} {count}\n" for word, count in words.items())
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(lines.encode("utf-8")))
    tokenizer.initialized = True
    return tokenizer


# the matcher's vocabulary: duty-list terms, township names, everyday words
JIEBA = _jieba_with(dictionary(set(COUNTY.index.term_matters) | set(GANXIAN_TOWNSHIPS) | set(EVERYDAY_WORDS)))
MINYI = str(Path(sys.executable).with_name("minyi"))


def test_the_county_list_covers_every_taxonomy_leaf_once():
    matters = COUNTY.duty_list.matters
    assert len(matters) == 517
    assert len({m.path for m in matters}) == 517
    assert len({m.code for m in matters}) == 517
    assert all(m.keywords for m in matters)


def test_whole_terms_come_out_of_segmentation():
    assert set(COUNTY.terms("老板拖欠农民工工资三个月了")) >= {"农民工工资"}


def test_everyday_words_that_contain_a_term_are_not_that_term():
    # Given words citizens write daily that contain a duty-list term inside them
    text = "市政府门口的电动车和机动车乱停，部分地区的人民政府不管"
    # When the text is segmented, Then 市政 / 动车 / 分地 / 民政 are not found in them
    assert not {"市政", "动车", "分地", "民政"} & set(COUNTY.terms(text))
    # a park named 文化公园 is a park, not a culture matter
    assert set(COUNTY.terms("文化公园晚上没有路灯")) >= {"公园"} and "文化" not in COUNTY.terms("文化公园")
    # and a longer term that contains one of them still counts, as do the terms on their own
    assert "电动车充电" in COUNTY.terms("楼下电动车充电不安全")
    assert {"市政设施", "民政局"} <= set(COUNTY.terms("市政设施损坏，民政局的电话打不通"))


def test_the_place_a_citizen_lives_does_not_decide_the_matter():
    # Given a noise complaint from a housing estate (小区 says where, 扰民 says what)
    result = COUNTY.match("某小区楼下饭店扰民严重", "小区业主每天晚上被吵醒，噪音很大")
    # Then it is a noise matter for the environment bureau, not estate management
    assert result.matter.path == ("环境保护", "环境污染", "噪音污染")


def test_typical_requests_find_their_department():
    cases = {
        ("小区路灯坏了", "小区门口路灯晚上不亮"): "区城管局",
        ("工地夜间施工", "工地夜间施工噪音扰民"): "区生态环境局",
        ("社保卡", "请问社保卡丢了怎么补办"): "区人社局",
    }
    for (title, content), lead in cases.items():
        assert dispatch.route(COUNTY, title, content, None).lead == lead, title


def _local_matter_matcher():
    """A township's own matter (宅基地纠纷) beside a district one, and words naming it."""
    rows = [m for m in COUNTY.duty_list.matters if m.path[2] in ("宅基地纠纷", "城市公共设施")]
    local = next(m for m in rows if m.local)
    return local, Matcher(DutyList(version=1, matters=tuple(rows))), "，".join(local.keywords[:3])


def test_a_townships_own_matter_goes_to_that_township_or_to_a_person():
    local, small, words = _local_matter_matcher()
    named = dispatch.route(small, words, f"南塘镇{words}", None)
    assert named.matter == local and named.lead == "南塘镇人民政府" and not named.manual
    unnamed = dispatch.route(small, words, words, None)
    assert unnamed.matter == local and unnamed.manual  # which township? an operator decides


def test_places_and_emergencies():
    assert townships("赣县王母渡镇和梅林镇交界处") == ("王母渡镇", "梅林镇")
    assert places("赣县王母渡镇和梅林镇交界处") == (Place("王母渡镇"), Place("梅林镇"))
    assert places("田村镇圩镇主街农贸市场门口的井盖缺失") == (Place("田村镇", "圩镇主街"),)
    assert [str(p) for p in places("家住长洛乡长洛村，在梅林镇城南社区上班；长洛乡长洛村的路")] == \
        ["长洛乡长洛村", "梅林镇城南社区"]
    assert is_emergency("小区地下室燃气泄漏，闻到很大气味")
    assert not is_emergency("小区路灯坏了")
    assert dispatch.route(COUNTY, "紧急", "居民楼起火，有人被困", None).urgent


def test_the_township_placeholder_among_co_handlers_names_nobody_until_a_township_is_named():
    # Given a matter whose co-handlers include "属地乡镇" (the township where it happened)
    fire = next(m for m in COUNTY.duty_list.matters if "属地乡镇" in m.co and not m.local)
    small = Matcher(DutyList(version=1, matters=(fire,)))
    words = "，".join(fire.keywords[:3])
    # Then without a township it is dropped, and with one it becomes that township's government
    assert "属地乡镇" not in dispatch.route(small, words, words, None).co
    assert "江口镇人民政府" in dispatch.route(small, words, f"江口镇{words}", None).co


def test_a_village_named_without_its_township_is_found_in_the_gazetteer():
    # Given only a village or community of the county gazetteer (no township named)
    assert townships("家住长洛村，门口路灯坏了") == ("长洛乡",)
    assert places("城南社区的垃圾没人清") == (Place("梅林镇", "城南社区"),)
    # a longer name wins over a shorter one inside it, and a shared name says nothing
    assert places("下白石村的桥断了") == (Place("田村镇", "下白石村"),)
    assert places("横溪村的水渠堵了") == ()
    # a village the text places in another township or district is not Ganxian's
    assert places("赣州市章贡区水南镇水南村") == () and townships("我家在沙地镇城南社区") == ("沙地镇",)
    assert places("赣县区城南社区门口") == (Place("梅林镇", "城南社区"),)
    assert places("吉埠镇瑶村村") == places("瑶村村") == (Place("吉埠镇", "瑶村村"),)
    # When a township's own matter names only the village, Then that township handles it
    _, small, words = _local_matter_matcher()
    routed = dispatch.route(small, words, f"长洛村{words}", None)
    assert routed.lead == "长洛乡人民政府" and not routed.manual


def test_cli_dispatch_answers_each_line_in_order():
    lines = [{"id": "a", "title": "小区路灯坏了", "content": "梅林镇某小区路灯坏了一周", "address": None},
             {"id": "b", "title": "咨询", "content": "请问办事大厅周六开门吗", "address": None},
             {"id": "c", "title": "拖欠工资", "content": "老板拖欠农民工工资", "address": "茅店镇"}]
    done = subprocess.run([MINYI, "dispatch"], input="\n".join(json.dumps(x, ensure_ascii=False) for x in lines),
                          capture_output=True, text=True, check=True)
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["id"] for a in answers] == ["a", "b", "c"]
    assert set(answers[0]) == {"id", "matter", "lead", "co", "confidence", "manual", "urgent"}
    assert answers[0]["matter"][0] == "城乡建设" and answers[0]["lead"] == "区城管局" and not answers[0]["manual"]
    assert answers[1]["manual"] is True
    assert "茅店镇人民政府" in answers[2]["co"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(sorted(COUNTY._vocabulary)),
                          st.sampled_from(list("的了在我们和是请问，。！A1 区镇")),
                          st.text(alphabet="城市管理工作人员学校小区政府没有路灯噪音", min_size=1, max_size=6)),
                min_size=1, max_size=60))
def test_terms_are_exactly_what_jieba_cuts_from_the_whole_text(parts):
    # the matcher segments only where dictionary words overlap; that must change nothing
    text = "".join(parts)
    cut = list(JIEBA.cut(text, HMM=False))
    cut += [term for word in cut for term in EVERYDAY_WORDS.get(word, ())]
    expected = Counter(t for t in cut if t in COUNTY.index.term_matters)
    assert COUNTY.terms(text) == dict(expected)


def test_the_segmenter_has_jiebas_prefix_dictionary():
    assert (COUNTY.segmenter.freq, COUNTY.segmenter.total) == (JIEBA.FREQ, JIEBA.total)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(alphabet="城市管理工作人员", min_size=1, max_size=5), st.integers(1, 10 ** 6),
                       min_size=1, max_size=30),
       st.text(alphabet="城市管理工作人员学校", min_size=1, max_size=40))
def test_the_segmenters_dag_and_route_are_jiebas(words, sentence):
    # any dictionary, any sentence: the same DAG and the same route (scores and tie-breaks)
    reference = _jieba_with(words)
    segmenter = Segmenter(words)
    assert (segmenter.freq, segmenter.total) == (reference.FREQ, reference.total)
    dag = segmenter.dag(sentence)
    assert dag == reference.get_DAG(sentence)
    route: dict[int, tuple[float, int]] = {}
    reference.calc(sentence, dag, route)
    assert segmenter.route(sentence, dag) == route
