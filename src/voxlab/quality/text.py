"""Text normalisation and Levenshtein alignment for word and character error rates.

Both the reference text and the ASR hypothesis go through :func:`normalize_text` before
they are compared, so that case, punctuation and the spelling of simple numbers do not
count as errors: ``"It costs $25, OK?"`` and ``"it costs twenty five dollars ok"`` are
the same words. :func:`align` is the classic Levenshtein dynamic programme (unit costs for
substitutions, deletions and insertions) with a back-trace, so every error is attributed.

WER is ``(S + D + I) / N`` over reference words; CER is the same over the characters of the
normalised text, single spaces between words included (the convention of ``jiwer.cer``).
Corpus figures add up the errors and reference lengths of all utterances before dividing
(micro average), which is how ASR toolkits report them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from voxlab.errors import MetricError

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "@": " at ", "=": " equals "}
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}
_NUMBER = re.compile(r"(?P<cur>[$£€])?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)(?P<ord>st|nd|rd|th)?\b")


def number_to_words(n: int) -> str:
    """English words of a non-negative integer (``1905 -> "one thousand nine hundred five"``).

    Args:
        n: The number, ``0 <= n < 10**12``.

    Returns:
        Lower-case words without hyphens or "and".
    """
    if n < 0 or n >= 10**12:
        raise MetricError(f"number_to_words handles 0 <= n < 10**12, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] if ones == 0 else f"{_TENS[tens]} {_ONES[ones]}"
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            words = f"{number_to_words(head)} {name}"
            return words if rest == 0 else f"{words} {number_to_words(rest)}"
    raise AssertionError("unreachable")  # pragma: no cover


def _ordinal(words: str) -> str:
    head, _, last = words.rpartition(" ")
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head} {last}".strip()


def _spell_number(match: re.Match) -> str:
    text = match.group("num").replace(",", "")
    whole, _, frac = text.partition(".")
    if len(whole) > 12:  # an id, not a quantity: spell digit by digit
        words = " ".join(_ONES[int(d)] for d in whole)
    else:
        words = number_to_words(int(whole))
    if match.group("ord") and not frac:
        words = _ordinal(words)
    if frac:
        words += " point " + " ".join(_ONES[int(d)] for d in frac)
    if match.group("cur"):
        words += " " + _CURRENCY[match.group("cur")]
    return f" {words} "


def normalize_text(text: str) -> str:
    """Lower-cases, spells simple numbers, drops punctuation and collapses spaces.

    Steps: Unicode NFKC; curly quotes to ASCII; ``& % + @ =`` to words; numbers with an
    optional currency sign, thousands commas, decimals and ordinal suffixes to words
    (``$2.50 -> "two point five zero dollars"``, ``21st -> "twenty first"``); hyphens and
    other punctuation to spaces, apostrophes inside words kept (``don't``); lower case.

    Args:
        text: Any text.

    Returns:
        Words separated by single spaces (empty when the text holds no words).
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    text = _NUMBER.sub(_spell_number, text)
    text = text.lower()
    text = re.sub(r"[^\w']+|_", " ", text)  # punctuation and hyphens split words
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)  # quotes, not apostrophes inside words
    return " ".join(text.split())


@dataclass(frozen=True)
class EditCounts:
    """Result of aligning a hypothesis to a reference.

    Attributes:
        hits: Tokens that match.
        substitutions: Reference tokens replaced by another token.
        deletions: Reference tokens missing from the hypothesis.
        insertions: Hypothesis tokens with no reference token.
    """

    hits: int = 0
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0

    @property
    def errors(self) -> int:
        """``S + D + I``."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        """``N = H + S + D``, the number of reference tokens."""
        return self.hits + self.substitutions + self.deletions

    @property
    def rate(self) -> float:
        """``(S + D + I) / N``; raises when the reference is empty."""
        if self.reference_length == 0:
            raise MetricError(
                "the error rate is undefined for an empty reference text; give the text "
                "that was spoken (--text or --transcripts)"
            )
        return self.errors / self.reference_length

    def __add__(self, other: EditCounts) -> EditCounts:
        return EditCounts(
            self.hits + other.hits,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )


def align(reference: Sequence[str], hypothesis: Sequence[str]) -> list[tuple[str, int, int]]:
    """Minimum-edit alignment of two token sequences (Levenshtein, unit costs).

    Args:
        reference: Reference tokens.
        hypothesis: Hypothesis tokens.

    Returns:
        Operations in order, each ``(op, ref_index, hyp_index)`` with ``op`` one of
        ``"="`` (hit), ``"S"``, ``"D"`` (``hyp_index`` -1) or ``"I"`` (``ref_index`` -1).
        On ties the back-trace prefers hits/substitutions, then deletions.
    """
    n, m = len(reference), len(hypothesis)
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        cost[i][0] = i
    for j in range(1, m + 1):
        cost[0][j] = j
    for i in range(1, n + 1):
        row, prev, ref = cost[i], cost[i - 1], reference[i - 1]
        for j in range(1, m + 1):
            diagonal = prev[j - 1] + (ref != hypothesis[j - 1])
            row[j] = min(diagonal, prev[j] + 1, row[j - 1] + 1)
    ops: list[tuple[str, int, int]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0:
            same = reference[i - 1] == hypothesis[j - 1]
            if cost[i][j] == cost[i - 1][j - 1] + (not same):
                ops.append(("=" if same else "S", i - 1, j - 1))
                i, j = i - 1, j - 1
                continue
        if i > 0 and cost[i][j] == cost[i - 1][j] + 1:
            ops.append(("D", i - 1, -1))
            i -= 1
        else:
            ops.append(("I", -1, j - 1))
            j -= 1
    return ops[::-1]


def edit_counts(reference: Sequence[str], hypothesis: Sequence[str]) -> EditCounts:
    """Hits, substitutions, deletions and insertions of the best alignment."""
    ops = [op for op, _, _ in align(reference, hypothesis)]
    return EditCounts(ops.count("="), ops.count("S"), ops.count("D"), ops.count("I"))


def word_counts(reference: str, hypothesis: str, *, normalize: bool = True) -> EditCounts:
    """Word-level edit counts of two texts (normalised first unless ``normalize`` is False)."""
    if normalize:
        reference, hypothesis = normalize_text(reference), normalize_text(hypothesis)
    return edit_counts(reference.split(), hypothesis.split())


def char_counts(reference: str, hypothesis: str, *, normalize: bool = True) -> EditCounts:
    """Character-level edit counts (single spaces between words count as characters)."""
    if normalize:
        reference, hypothesis = normalize_text(reference), normalize_text(hypothesis)
    else:
        reference, hypothesis = " ".join(reference.split()), " ".join(hypothesis.split())
    return edit_counts(list(reference), list(hypothesis))


def wer(reference: str, hypothesis: str, *, normalize: bool = True) -> float:
    """Word error rate ``(S + D + I) / N`` of one utterance (may exceed 1)."""
    return word_counts(reference, hypothesis, normalize=normalize).rate


def cer(reference: str, hypothesis: str, *, normalize: bool = True) -> float:
    """Character error rate ``(S + D + I) / N`` of one utterance (may exceed 1)."""
    return char_counts(reference, hypothesis, normalize=normalize).rate
