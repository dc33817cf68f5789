"""The matcher: which matter of the duty list a citizen's words are about (分得更准).

Text is segmented as jieba does it (its route through a dictionary, vendored in
`minyi.routing.segmenter`) with a dictionary made of the duty list's own terms (each
matter's keywords and names), so words like 拖欠工资 or 公共厕所 come out whole.
Every term found adds its weight to the matters it belongs to; the weight is its
inverse document frequency over matters, so a term that names one matter counts far
more than one shared by twenty. A matter also gets part of the score of its level-2
and level-1 group, so several weak words about the same domain add up. Terms in the
title count more than in the content. Corrections by operators (改派) add learned
weights per term and matter (see `learn`).

Confidence combines the margin over the best matter of another level-1 category
with how much evidence there is at all; below the threshold the order goes to the
manual queue.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from operator import add

from minyi.models.duty import DutyList, Matter
from minyi.routing.places import GANXIAN_TOWNSHIPS, townships
from minyi.routing.segmenter import Segmenter

TITLE_WEIGHT = 2.0
GROUP2_SHARE = 0.35  # part of the level-2 group's evidence every matter of the group gets
GROUP1_SHARE = 0.8  # the level-1 domain decides most; the matter within it is then the best-scored
LENGTH_BONUS = 0.15  # per character beyond two: 拖欠农民工工资 says more than 工资
EVIDENCE_FOR_FULL_CONFIDENCE = 6.0  # a score at which the amount of evidence stops limiting confidence
MAX_COUNT = 3  # repetitions of one term beyond this add nothing

# Everyday words that contain a duty-list term but mean something else. They are in the
# segmenter's dictionary so that it takes them whole, and they count as the terms given
# here (mostly none): 市政府 is not 市政 (municipal works), 人民政府 not 民政, 电动车 and
# 机动车 not 动车 (the train), 部分地区 not 分地 (land allotment), and 文化公园 is a park,
# not a culture matter. Found by segmenting real traffic with jieba's general dictionary and
# listing where a term sat inside another word. A longer duty-list term that contains one of
# them (电动车充电) still wins, being longer.
EVERYDAY_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("市政府", "县市政府", "人民政府", "区人民政府", "县人民政府", "市人民政府"), ()),
    **dict.fromkeys(("电动车", "机动车", "非机动车", "机动车道", "高架桥"), ()),
    **dict.fromkeys(("部分地区", "部分地方", "部分地段", "入户门", "110kV", "110KV", "110kv"), ()),
    "文化公园": ("公园",), "文化园": ("公园",),
}


@dataclass(frozen=True)
class MatchResult:
    matter: Matter | None
    confidence: float
    score: float
    terms: tuple[str, ...] = ()
    runner_up: Matter | None = None
    places: tuple[str, ...] = ()


@dataclass
class _Index:
    term_matters: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    weights: dict[str, float] = field(default_factory=dict)


# jieba's own split of text into the runs it segments (jieba.re_han_default)
_BLOCKS = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+", re.U)


def dictionary(terms: set[str]) -> dict[str, int]:
    """The segmenter's whole dictionary: the duty list's terms (plus place names), each
    with a frequency that grows with its length, so that the route prefers them whole.
    No general dictionary: it is built in memory in a few ms. A term with whitespace in
    it is left out, as jieba's dictionary format (one "<word> <frequency>" a line)
    always left it out; no run of text to segment has whitespace in it anyway."""
    return {term: 10 ** min(len(term), 6) for term in terms if term.split() == [term]}


class Matcher:
    def __init__(self, duty_list: DutyList, learned: dict[str, dict[str, float]] | None = None) -> None:
        self.duty_list = duty_list
        self.by_code = {m.code: m for m in duty_list.matters}
        index = _Index()
        for matter in duty_list.matters:
            # a matter is named by its keywords, its own name and its group's name (the
            # taxonomy's level 2: 就业培训, 教育收费, 环境污染 ...); "其他" names nothing
            for term in {*matter.keywords, matter.path[2], matter.path[1]} - {"其他"}:
                if len(term) >= 2:
                    index.term_matters[term].add(matter.code)
        total = max(len(duty_list.matters), 1)
        index.weights = {term: math.log(1 + total / len(codes)) * (1 + LENGTH_BONUS * (len(term) - 2))
                         for term, codes in index.term_matters.items()}
        self.index = index
        self.learned = learned or {}
        vocabulary = set(index.term_matters) | set(GANXIAN_TOWNSHIPS) | set(self.learned) | set(EVERYDAY_WORDS)
        self.segmenter = Segmenter(dictionary(vocabulary))
        self._vocabulary = frozenset(t for t in vocabulary if len(t) >= 2)
        # each two-character opening of a term, and the lengths of the terms it opens
        lengths: dict[str, set[int]] = defaultdict(set)
        for term in self._vocabulary:
            lengths[term[:2]].add(len(term))
        self._lengths = {opening: tuple(sorted(ns)) for opening, ns in lengths.items()}
        self.group2: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.group1: dict[str, list[str]] = defaultdict(list)
        for matter in duty_list.matters:
            self.group2[matter.path[:2]].append(matter.code)
            self.group1[matter.path[0]].append(matter.code)

    def terms(self, text: str) -> dict[str, int]:
        """The duty-list terms in the text, as jieba segments it (HMM off) with the terms as its
        dictionary.

        jieba segments each run of Han characters (and letters, digits) on its own, taking the
        most probable route through the words of its dictionary found in the run. Where no
        dictionary word is found the route goes one character at a time, and a word that
        overlaps no other is always taken whole (its probability beats its characters'). So
        only stretches where found words overlap need jieba's route; the tokens are exactly
        those of cutting the whole text, at a fraction of the cost on long messages."""
        counts: dict[str, int] = defaultdict(int)
        wanted = self.index.term_matters
        for block in _BLOCKS.findall(text):
            for start, end, alone in self._stretches(block):
                if alone:
                    counts[block[start:end]] += 1
                    continue
                span = block[start:end]
                route = self.segmenter.route(span, self.segmenter.dag(span))
                at = 0
                while at < len(span):
                    stop = route[at][1] + 1
                    if stop - at >= 2:
                        counts[span[at:stop]] += 1
                    at = stop
        for word in EVERYDAY_WORDS.keys() & counts.keys():
            for term in EVERYDAY_WORDS[word]:
                counts[term] += counts[word]
        return {t: n for t, n in counts.items() if t in wanted or t in self.learned}

    def _stretches(self, block: str) -> list[tuple[int, int, bool]]:
        """(start, end, alone) of each stretch of overlapping dictionary words in a run;
        `alone` when the stretch is one word."""
        lengths, vocabulary = self._lengths, self._vocabulary
        found = []
        for i in [i for i, pair in enumerate(map(add, block, block[1:])) if pair in lengths]:
            ends = [i + n for n in lengths[block[i:i + 2]] if block[i:i + n] in vocabulary]
            if ends:
                found.append((i, max(ends), len(ends)))
        stretches = []
        for start, end, words in found:
            if stretches and start < stretches[-1][1]:
                first, last, _ = stretches[-1]
                stretches[-1] = (first, max(last, end), False)
            else:
                stretches.append((start, end, words == 1))
        return stretches

    def scores(self, title: str, content: str) -> tuple[dict[str, float], tuple[str, ...]]:
        raw: dict[str, float] = defaultdict(float)
        found = set()
        for text, factor in ((title, TITLE_WEIGHT), (content, 1.0)):
            for term, count in self.terms(text).items():
                found.add(term)
                weight = factor * min(count, MAX_COUNT) ** 0.5
                for code in self.index.term_matters.get(term, ()):
                    raw[code] += weight * self.index.weights[term]
                for code, learned in self.learned.get(term, {}).items():
                    if code in self.by_code:
                        raw[code] += weight * learned
        if not raw:
            return {}, ()
        group2 = defaultdict(float)
        group1 = defaultdict(float)
        for code, score in raw.items():
            path = self.by_code[code].path
            group2[path[:2]] += score
            group1[path[0]] += score
        combined = {}
        for code in {c for key in group2 for c in self.group2[key]}:
            path = self.by_code[code].path
            combined[code] = raw.get(code, 0.0) + GROUP2_SHARE * group2[path[:2]] + GROUP1_SHARE * group1[path[0]]
        return combined, tuple(sorted(found))

    def match(self, title: str, content: str = "", address: str | None = None) -> MatchResult:
        text_places = townships(f"{title}\n{content}\n{address or ''}")
        combined, found = self.scores(title, f"{content}\n{address or ''}")
        if not combined:
            return MatchResult(None, 0.0, 0.0, (), None, text_places)
        ranked = sorted(combined.items(), key=lambda pair: (-pair[1], pair[0]))
        best_code, best = ranked[0]
        best_matter = self.by_code[best_code]
        other = next(((code, score) for code, score in ranked[1:]
                      if self.by_code[code].path[0] != best_matter.path[0]), (None, 0.0))
        margin = (best - other[1]) / best
        evidence = min(1.0, best / EVIDENCE_FOR_FULL_CONFIDENCE)
        confidence = round(max(0.0, min(1.0, margin * evidence)), 4)
        runner_up = self.by_code[other[0]] if other[0] else None
        return MatchResult(best_matter, confidence, round(best, 4), found, runner_up, text_places)
