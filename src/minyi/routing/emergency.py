"""Emergencies (应急快速处置): requests about life and safety that cannot wait for the
normal time limit."""

from __future__ import annotations

# Words of fire, gas, collapse, drowning, electrocution, flooding, mass incidents and
# public-health emergencies, as citizens write them.
EMERGENCY_TERMS = (
    "着火", "起火", "失火", "火灾", "火情", "冒烟起火", "燃气泄漏", "煤气泄漏", "天然气泄漏", "液化气泄漏", "闻到煤气",
    "爆炸", "坍塌", "倒塌", "塌方", "垮塌", "山体滑坡", "泥石流", "溺水", "落水", "掉进河", "触电", "漏电伤人",
    "电线掉落", "高压线断", "洪水", "洪涝", "内涝严重", "水淹", "决堤", "溃坝", "群体性事件", "聚集闹事", "围堵",
    "堵路", "集体上访", "食物中毒", "集体中毒", "疫情", "传染病", "不明原因发热", "有人被困", "人员被困", "生命危险",
)


def is_emergency(text: str) -> bool:
    return any(term in text for term in EMERGENCY_TERMS)
