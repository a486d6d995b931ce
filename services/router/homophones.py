"""Words typed with the wrong character of the right sound (pinyin keyboards), read as the lexicon's word.
Pure; part of the classifier (classification.py, docs/classifier.md)."""
from __future__ import annotations

from typing import Callable, Iterable

HOMOPHONE_SIZES = (5, 4, 3)  # longest first; two characters are too few: 打了 sounds like 搭了, 可以 like 可疑


class HomophoneFolder:
    """A resident on a pinyin keyboard picks the wrong character with the right sound (垃及桶, 门金卡, 物页费).
    A run of three or more characters that sounds exactly like a lexicon word (toneless pinyin), shares at
    least one character with it in the same place, and is not that word, is rewritten to the word."""

    def __init__(self, words: Iterable[str], syllable: Callable[[str], str], exceptions: Iterable[str] = ()):
        self._syllable = syllable
        self._exceptions = frozenset(exceptions)
        self._words = frozenset(w for w in words if len(w) in HOMOPHONE_SIZES and _all_han(w))
        self._by_sound: dict[tuple[str, ...], str] = {}
        for word in sorted(self._words):
            self._by_sound.setdefault(tuple(map(syllable, word)), word)
        self._first_sounds = frozenset(sound[0] for sound in self._by_sound)  # screens out most positions

    def fold(self, text: str) -> tuple[str, list[dict]]:
        """The text with sound-alikes rewritten, and what was rewritten (for the explanation)."""
        sounds = [self._syllable(c) for c in text]
        out, folded, i = [], [], 0
        while i < len(text):
            word = self._word_at(text, sounds, i)
            typed = text[i:i + len(word)] if word else text[i]
            if word and word != typed:
                folded.append({"typed": typed, "read_as": word})
            out.append(word or typed)
            i += len(typed)
        return "".join(out), folded

    def _word_at(self, text: str, sounds: list[str], i: int) -> str | None:
        """The word the characters at i spell or sound like (a word spelled right is kept whole)."""
        if sounds[i] not in self._first_sounds:
            return None
        for size in HOMOPHONE_SIZES:
            typed = text[i:i + size]
            if typed in self._words:
                return typed
            word = self._by_sound.get(tuple(sounds[i:i + size])) if len(typed) == size else None
            if word and typed not in self._exceptions and any(a == b for a, b in zip(typed, word)):
                return word
        return None


def _all_han(word: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in word)
