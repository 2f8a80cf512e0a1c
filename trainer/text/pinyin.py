"""Toneless pinyin with the usual confusions folded, encoded two symbols per character.

Recognisers (and many speakers) confuse z/zh, c/ch, s/sh, n/l, an/ang, en/eng,
in/ing; those pairs are folded to one symbol. 您/你 (nin/ni), the single most
frequent confusion of small Chinese models, is folded as a whole syllable, and
so is ning (宁, written for 您 by whisper), which in/ing folding makes nin.

Each character of a normalised text becomes exactly two symbols (initial,
final), each one Unicode private-use character, so rapidfuzz can align pinyin
strings like ordinary strings: a character with the same initial but another
final (收 shou / 说 shuo) still scores half. Position 2k..2k+1 of the encoding
belongs to character k of the text.

Digits are read as their Chinese numerals (1 -> yi); Latin letters and the
placeholder symbols used by the matcher get symbols of their own.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "r", "z", "c", "s", "y", "w")
FOLD_INITIALS = {"zh": "z", "ch": "c", "sh": "s", "n": "l"}
FOLD_FINALS = {"ang": "an", "eng": "en", "ing": "in", "iang": "ian", "uang": "uan"}
FOLD_SYLLABLES = {"nin": "ni", "ning": "ni"}
DIGIT_READINGS = dict(zip("0123456789", ("ling", "yi", "er", "san", "si", "wu", "liu", "qi", "ba", "jiu")))

_symbols: dict[str, str] = {}


def _symbol(name: str) -> str:
    """One private-use character per distinct initial/final name (stable within a process)."""
    code = _symbols.get(name)
    if code is None:
        code = chr(0xE000 + len(_symbols))
        _symbols[name] = code
    return code


def split_syllable(syllable: str) -> tuple[str, str]:
    """Toneless syllable -> (initial, final), e.g. "zhuang" -> ("zh", "uang"), "an" -> ("", "an")."""
    for initial in INITIALS:
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def fold_syllable(syllable: str, *, strict: bool = False) -> tuple[str, str]:
    """(initial, final) with the confusable pairs folded; `strict` keeps whole-syllable folds (您/你) apart."""
    if not strict:
        syllable = FOLD_SYLLABLES.get(syllable, syllable)
    initial, final = split_syllable(syllable)
    return FOLD_INITIALS.get(initial, initial), FOLD_FINALS.get(final, final)


def _encode_syllable(syllable: str, strict: bool = False) -> str:
    initial, final = fold_syllable(syllable, strict=strict)
    return _symbol("i:" + initial) + _symbol("f:" + final)


def _encode_other(char: str) -> str:
    if char in DIGIT_READINGS:
        return _encode_syllable(DIGIT_READINGS[char])
    return _symbol("x:" + char) * 2


def syllables(text: str) -> list[str]:
    """One toneless pinyin syllable per character (non-Chinese characters stay as they are)."""
    result = lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: list(s))
    if len(result) != len(text):  # pypinyin grouped something unexpectedly: go character by character
        result = [lazy_pinyin(ch, style=Style.NORMAL, errors=lambda s: list(s))[0] for ch in text]
    return result


@lru_cache(maxsize=16384)
def encode(text: str, strict: bool = False) -> str:
    """Folded pinyin of a normalised text, two symbols per character (see module docstring).

    `strict=True` does not fold whole syllables (您/你 stay different): used for
    forbidden phrases, where 你找谁 must not be found in the polite 您找谁.
    """
    out: list[str] = []
    for char, syllable in zip(text, syllables(text)):
        if syllable == char or not syllable.isascii() or not syllable.isalpha():
            out.append(_encode_other(char))
        else:
            out.append(_encode_syllable(syllable, strict))
    return "".join(out)


# Finals that recognisers confuse although they are not folded (收 shou / 说 shuo).
CONFUSABLE_FINALS = frozenset({frozenset({"ou", "uo"}), frozenset({"o", "uo"})})


def _name(symbol: str) -> str:
    for name, code in _symbols.items():
        if code == symbol:
            return name
    return ""


def close_sounds(a: str, b: str) -> bool:
    """Encoded texts of equal length that sound alike: every syllable the same, or
    the same initial with a confusable final (see CONFUSABLE_FINALS)."""
    if len(a) != len(b) or len(a) % 2:
        return False
    for k in range(0, len(a), 2):
        if a[k : k + 2] == b[k : k + 2]:
            continue
        if a[k] != b[k]:
            return False
        finals = frozenset({_name(a[k + 1])[2:], _name(b[k + 1])[2:]})
        if finals not in CONFUSABLE_FINALS:
            return False
    return True


def same_sound(a: str, b: str) -> bool:
    """True when two normalised texts have the same folded pinyin."""
    return encode(a) == encode(b)
