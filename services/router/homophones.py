"""Words typed with the wrong character of the right sound (pinyin keyboards), read as the lexicon's word.
Pure; part of the classifier (classification.py, docs/classifier.md)."""
from __future__ import annotations

from itertools import compress, count
from typing import Iterable, Mapping

HOMOPHONE_SIZES = (5, 4, 3)  # longest first; two characters are too few: 打了 sounds like 搭了, 可以 like 可疑


class HomophoneFolder:
    """A resident on a pinyin keyboard picks the wrong character with the right sound (垃及桶, 门金卡, 物页费).
    A run of three or more characters that sounds exactly like a lexicon word (toneless pinyin), shares at
    least one character with it in the same place, and is not that word, is rewritten to the word."""

    def __init__(self, words: Iterable[str], sounds: Mapping[str, str], exceptions: Iterable[str] = ()):
        """``sounds``: a character's toneless pinyin; a character it does not hold is its own sound."""
        self._sounds = sounds
        self._exceptions = frozenset(exceptions)
        self._words = frozenset(w for w in words if len(w) in HOMOPHONE_SIZES and _all_han(w))
        self._by_sound: dict[tuple[str, ...], str] = {}
        for word in sorted(self._words):
            self._by_sound.setdefault(tuple(map(sounds.get, word, word)), word)
        self._first_two_sounds = frozenset(sound[:2] for sound in self._by_sound)  # screens out most positions

    def fold(self, text: str) -> tuple[str, list[dict]]:
        """The text with sound-alikes rewritten, and what was rewritten (for the explanation). Only the
        positions whose first two sounds can begin a word are tried (every word has three characters or more);
        the text between them is copied in one piece."""
        sounds = list(map(self._sounds.get, text, text))
        out, folded, done = [], [], 0
        for i in compress(count(), map(self._first_two_sounds.__contains__, zip(sounds, sounds[1:]))):
            word = self._word_at(text, sounds, i) if i >= done else None
            if word:
                typed = text[i:i + len(word)]  # a word found is as long as what was typed
                if word != typed:
                    folded.append({"typed": typed, "read_as": word})
                out += (text[done:i], word)
                done = i + len(word)
        out.append(text[done:])
        return "".join(out), folded

    def _word_at(self, text: str, sounds: list[str], i: int) -> str | None:
        """The word the characters at i spell or sound like (a word spelled right is kept whole); i is a
        position whose first two sounds can begin a word."""
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
