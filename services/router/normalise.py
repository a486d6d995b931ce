"""Residents write Simplified or Traditional Chinese: fold everything to Simplified (OpenCC t2s)
before matching. The only module that imports OpenCC."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(unicodedata.normalize("NFKC", text)).lower()
