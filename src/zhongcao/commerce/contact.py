"""The platform's contact rule: free text in a DM or live comment may not carry a phone number, a WeChat or
QQ id, an e-mail address or a QR / WeChat link. Contact details travel only on a structured lead card.

People route around the rule, so the text is normalized before it is matched: full-width forms and
Chinese numerals (一二三, 壹贰叁, 幺 for 1) become ASCII digits, and spaces, dashes and dots *between*
digits are dropped (``138 0013-8000``). A map from each normalized character back to the original keeps
masking exact. Digits are matched whole (no digit before or after), so order numbers, prices, dates and
model numbers stay legal: a false positive blocks a real customer, so every pattern is anchored on what
makes it a contact (a mobile prefix and exactly 11 digits, a WeChat keyword before an id, a QR host).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

NUMERALS = str.maketrans({"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
                          "五": "5", "六": "6", "七": "7", "八": "8", "九": "9", "壹": "1", "贰": "2", "叁": "3",
                          "肆": "4", "伍": "5", "陆": "6", "柒": "7", "捌": "8", "玖": "9"})
JOINERS = frozenset(" \t-‐–—_.·•/,，、")
WECHAT_WORDS = r"(?:微信|威信|薇信|徽信|v信|vx|wx|vxin|weixin|wechat|wei xin|加v|\+v|➕v|绿泡泡|卫星号?)"
PATTERNS = {
    "phone": re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)"),
    "landline": re.compile(r"(?<!\d)0[1-9]\d{1,2}\d{7,8}(?!\d)"),  # area code, then the number
    "wechat": re.compile(WECHAT_WORDS + r"\s*(?:号|号码|id)?\s*(?:是|为|[:：])?\s*[a-z][-_a-z0-9]{5,19}(?![a-z0-9_-])",
                         re.IGNORECASE),
    "qq": re.compile(r"(?<![a-z])(?:qq|扣扣|企鹅)\s*(?:号|群)?\s*(?:是|为|[:：])?\s*[1-9]\d{4,10}(?!\d)",
                     re.IGNORECASE),
    "email": re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE),
    "qr_link": re.compile(r"(?:wxp://\S+|https?://(?:[a-z0-9-]+\.)*(?:weixin\.qq\.com|wechat\.com|qr\.alipay\.com|"
                          r"qm\.qq\.com|work\.weixin\.qq\.com)\S*|https?://\S*/qr(?:code)?\b\S*)", re.IGNORECASE),
}


DIGIT = re.compile(r"\d")
# What each pattern cannot match without: most messages skip most patterns on a substring test.
NEEDS: dict[str, Callable[[str], bool]] = {
    "phone": lambda t: len(DIGIT.findall(t)) >= 11,
    "landline": lambda t: len(DIGIT.findall(t)) >= 10,
    "wechat": lambda t: True,
    "qq": lambda t: "qq" in t or "扣扣" in t or "企鹅" in t,
    "email": lambda t: "@" in t,
    "qr_link": lambda t: "://" in t,
}


@dataclass(frozen=True)
class Finding:
    kind: str  # phone | landline | wechat | qq | email | qr_link
    start: int  # a span of the original text
    end: int


@lru_cache(maxsize=65_536)
def _fold(raw: str) -> str:
    """A character as the patterns see it: NFKC (full-width forms), Chinese numerals as digits."""
    c = unicodedata.normalize("NFKC", raw).translate(NUMERALS)
    return c if len(c) == 1 else raw


def _normalize(text: str) -> tuple[str, list[int] | None]:
    """The text as the patterns see it, and where each of its characters came from (None: the same place)."""
    chars = list(text) if text.isascii() else [_fold(c) for c in text]
    if JOINERS.isdisjoint(chars):
        return "".join(chars), None
    kept: list[str] = []
    where: list[int] = []
    for i, c in enumerate(chars):
        if c in JOINERS and kept and kept[-1].isdigit() and _digit_after(chars, i + 1):
            continue  # a separator inside a run of digits
        kept.append(c)
        where.append(i)
    return "".join(kept), where


def _digit_after(chars: list[str], i: int) -> bool:
    """Whether a digit follows at ``i``, past any further separators (``138 - 0013``)."""
    while i < len(chars):
        if chars[i].isdigit():
            return True
        if chars[i] not in JOINERS:
            return False
        i += 1
    return False


def find_contacts(text: str) -> list[Finding]:
    """Every contact detail in ``text``, as spans of the original text, in order."""
    norm, where = _normalize(text)
    lower = norm.lower()
    found = [Finding(kind, m.start(), m.end()) if where is None else
             Finding(kind, where[m.start()], where[m.end() - 1] + 1)
             for kind, pattern in PATTERNS.items() if NEEDS[kind](lower) for m in pattern.finditer(norm)]
    return sorted(found, key=lambda f: (f.start, -f.end))


def mask(text: str, findings: list[Finding]) -> str:
    """The text with every finding's characters replaced by ``*``."""
    chars = list(text)
    for f in findings:
        for i in range(f.start, f.end):
            if not chars[i].isspace():
                chars[i] = "*"
    return "".join(chars)
