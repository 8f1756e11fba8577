"""WER/CER: normalisation and Levenshtein alignment against hand-checked cases."""

import pytest

from voxlab.errors import MetricError
from voxlab.quality.evaluate import summarize
from voxlab.quality.text import (
    EditCounts,
    align,
    cer,
    char_counts,
    edit_counts,
    normalize_text,
    number_to_words,
    wer,
    word_counts,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, World!", "hello world"),
        ("It costs $25, OK?", "it costs twenty five dollars ok"),
        ("The 21st of May", "the twenty first of may"),
        ("1,000,000 people", "one million people"),
        ("3.5% & more", "three point five percent and more"),
        ("Don't \u201cquote\u201d me \u2014 well-known", "don't quote me well known"),
        ("  'tis   the season's end  ", "tis the season's end"),
        ("12th 3rd 40th 2nd 101st", "twelfth third fortieth second one hundred first"),
        ("...", ""),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "zero"),
        (13, "thirteen"),
        (40, "forty"),
        (99, "ninety nine"),
        (100, "one hundred"),
        (1905, "one thousand nine hundred five"),
        (2024, "two thousand twenty four"),
        (7_000_017, "seven million seventeen"),
    ],
)
def test_number_to_words(n, words):
    assert number_to_words(n) == words


def test_number_and_words_compare_equal():
    assert wer("We counted 42 ships.", "we counted forty-two ships") == 0.0


def test_align_hand_checked():
    # ref: a b c d ; hyp: a x c d e -> hit, sub, hit, hit, insertion
    ops = align("a b c d".split(), "a x c d e".split())
    assert ops == [("=", 0, 0), ("S", 1, 1), ("=", 2, 2), ("=", 3, 3), ("I", -1, 4)]
    # ref: a b c ; hyp: a c -> b deleted
    assert align(["a", "b", "c"], ["a", "c"]) == [("=", 0, 0), ("D", 1, -1), ("=", 2, 1)]
    assert align([], ["x"]) == [("I", -1, 0)]
    assert align(["x"], []) == [("D", 0, -1)]


def test_word_error_rate_hand_checked():
    # "the cat sat on the mat" vs "the cat sit on mat": sat->sit (S), "the" deleted (D)
    counts = word_counts("The cat sat on the mat.", "the cat sit on mat")
    assert counts == EditCounts(hits=4, substitutions=1, deletions=1, insertions=0)
    assert wer("The cat sat on the mat.", "the cat sit on mat") == pytest.approx(2 / 6)
    # insertions can push WER above 1
    assert wer("yes", "no no no") == pytest.approx(3.0)
    assert wer("hello there", "") == 1.0


def test_character_error_rate_hand_checked():
    # "kitten" -> "sitting": k->s, e->i, +g = 3 edits over 6 characters
    assert cer("kitten", "sitting") == pytest.approx(3 / 6)
    # spaces count: "a b" vs "ab" is one deletion over 3 characters
    assert char_counts("a b", "ab") == EditCounts(hits=2, deletions=1)
    assert cer("Hello!", "hello") == 0.0


def test_empty_reference_is_a_clear_error():
    with pytest.raises(MetricError, match="empty reference"):
        wer("?!", "something")


def test_edit_counts_add_up():
    a = edit_counts("a b".split(), "a c".split())
    b = edit_counts("d".split(), [])
    total = a + b
    assert (total.errors, total.reference_length) == (2, 3)


def test_summary_is_a_micro_average():
    rows = [
        {"system": "x", "status": "ok", "word_errors": 1, "words": 10, "char_errors": 2,
         "chars": 40, "duration_s": 2.0, "synthesis_s": 1.0, "dnsmos_ovrl": 3.0},
        {"system": "x", "status": "ok", "word_errors": 3, "words": 2, "char_errors": 0,
         "chars": 10, "duration_s": 6.0, "synthesis_s": 1.0, "dnsmos_ovrl": 2.0},
        {"system": "x", "status": "error", "error": "boom"},
        {"system": "y", "status": "ok", "duration_s": 1.0, "dnsmos_ovrl": 4.0},
    ]  # fmt: skip
    x, y = summarize(rows)
    assert x["wer"] == pytest.approx(4 / 12)  # not the mean of 0.1 and 1.5
    assert x["cer"] == pytest.approx(2 / 50)
    assert x["rtf"] == pytest.approx(2.0 / 8.0)
    assert x["dnsmos_ovrl"] == pytest.approx(2.5)
    assert (x["files"], x["failed"]) == (3, 1)
    assert y["wer"] is None and y["rtf"] is None and y["dnsmos_ovrl"] == 4.0
