"""Residents write Simplified or Traditional Chinese, and type on pinyin keyboards: fold everything to
Simplified (OpenCC t2s) before matching, and give each character its toneless pinyin so that a word typed
with the wrong homophone (垃及桶, 门金卡, 物页费) can still be recognised. The only module that imports OpenCC
or pypinyin."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(unicodedata.normalize("NFKC", text)).lower()


@lru_cache(maxsize=8192)
def syllable(char: str) -> str:
    """The character's most common reading without tone ("禁" → "jin"); any other character stands for itself.
    Pinyin keyboards have no tones, so a mistyped homophone differs in characters but not in this."""
    return lazy_pinyin(char, style=Style.NORMAL)[0] if "\u4e00" <= char <= "\u9fff" else char
