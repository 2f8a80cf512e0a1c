"""Character error rate (CER) for Chinese transcripts, after normalisation.

Recognisers disagree with reference transcripts on things that are not
recognition errors: punctuation, spaces, traditional vs simplified characters,
Arabic vs Chinese numerals, Latin letter case. `normalize_for_cer` removes those
differences so that CER counts only real errors.

Numbers: a reference transcript writes numbers the way they were read aloud.
  - Digit strings (phone numbers, account and hotline numbers such as 95598) are
    read digit by digit: runs of 5 or more digits, and runs of 2 or more digits
    starting with 0, become one Chinese numeral per digit ("95598" -> "九五五九八").
  - Everything else goes through cn2an ("29度" -> "二十九度", "1.5倍" -> "一点五倍",
    "50%" -> "百分之五十", "2016年" -> "二零一六年": cn2an reads years digit by digit).
  - 〇 is written 零 and the telephone reading 幺 is written 一, on both sides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import cn2an
import opencc
from rapidfuzz.distance import Levenshtein

_DIGIT_NAMES = dict(zip("0123456789", "零一二三四五六七八九"))
_DIGIT_STRING = re.compile(r"(?<![\d.])(?:\d{5,}|0\d+)(?![\d.])")
_SAME_NUMERAL = str.maketrans({"〇": "零", "幺": "一"})


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def _read_digits(match: re.Match[str]) -> str:
    return "".join(_DIGIT_NAMES[d] for d in match.group(0))


def _keep(char: str) -> bool:
    """Letters and numerals count for CER; punctuation, symbols, spaces and controls do not."""
    return unicodedata.category(char)[0] in "LN"


def normalize_for_cer(text: str) -> str:
    """Normalise a transcript for CER: see the module docstring for the rules."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits/letters -> ASCII
    text = _t2s().convert(text)
    text = _DIGIT_STRING.sub(_read_digits, text)
    text = cn2an.transform(text, "an2cn")
    text = text.translate(_SAME_NUMERAL).lower()
    return "".join(ch for ch in text if _keep(ch))


def char_errors(ref: str, hyp: str, *, normalize: bool = True) -> tuple[int, int]:
    """(edit distance, reference length) in characters, after normalisation by default."""
    if normalize:
        ref, hyp = normalize_for_cer(ref), normalize_for_cer(hyp)
    return Levenshtein.distance(ref, hyp), len(ref)


def cer(ref: str, hyp: str, *, normalize: bool = True) -> float:
    """Character error rate of `hyp` against `ref`: edits / reference characters.

    An empty reference gives 0.0 for an empty hypothesis and 1.0 otherwise.
    """
    errors, length = char_errors(ref, hyp, normalize=normalize)
    if length == 0:
        return 0.0 if errors == 0 else 1.0
    return errors / length


def corpus_cer(pairs: Iterable[tuple[str, str]], *, normalize: bool = True) -> float:
    """CER over many (reference, hypothesis) pairs: total edits / total reference characters."""
    total_errors = total_length = 0
    for ref, hyp in pairs:
        errors, length = char_errors(ref, hyp, normalize=normalize)
        total_errors += errors
        total_length += length
    if total_length == 0:
        raise ValueError("corpus_cer needs at least one non-empty reference")
    return total_errors / total_length
