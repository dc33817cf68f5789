"""Masking of citizens' personal data (手机号、身份证号) wherever it leaves the store:
log lines, public status answers and reports that do not need it."""

from __future__ import annotations

import re

# Digits on either side mean the match is part of a longer number (a sequence
# number, a timestamp in ms), which is not personal data.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_ID_CARD_15 = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")


def mask_text(text: str) -> str:
    text = _ID_CARD.sub(r"\1********\2", text)
    text = _ID_CARD_15.sub(r"\1******\2", text)
    text = _MOBILE.sub(r"\1****\2", text)
    return _LANDLINE.sub(r"\1****\2", text)
