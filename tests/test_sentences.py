import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.sentences import MAX_SENTENCE_CHARS, split_sentences


def texts(text, lang):
    spans = split_sentences(text, lang)
    for s in spans:
        assert text[s.start:s.end] == s.text
    return [s.text for s in spans]


@pytest.mark.parametrize("text,expected", [
    ("Le P.-D.G. d'Orano est arrivé le 3 janv. à Niamey. Il repart demain.",
     ["Le P.-D.G. d'Orano est arrivé le 3 janv. à Niamey.", "Il repart demain."]),
    ("Voir le rapport, p. 12 et suivantes. M. Traoré a répondu.",
     ["Voir le rapport, p. 12 et suivantes.", "M. Traoré a répondu."]),
    ("Mme Diallo et le Gén. Tiani se sont vus en févr. dernier. Rien n'a filtré.",
     ["Mme Diallo et le Gén. Tiani se sont vus en févr. dernier.", "Rien n'a filtré."]),
])
def test_french_abbreviations(text, expected):
    assert texts(text, "fr") == expected


def test_english_abbreviations():
    text = "Dr. Amadou met U.S. officials in Washington on Jan. 5. They discussed the base."
    assert texts(text, "en") == ["Dr. Amadou met U.S. officials in Washington on Jan. 5.", "They discussed the base."]


def test_line_breaks_are_boundaries_and_headline_kept():
    text = "Niger: the partnership that displeases the West\n\nNiamey ended the agreements. Protests followed."
    assert texts(text, "en") == ["Niger: the partnership that displeases the West", "Niamey ended the agreements.", "Protests followed."]


def test_runaway_sentence_is_capped():
    text = "mot " * 1250
    spans = split_sentences(text, "fr")
    assert len(spans) >= 5 and all(len(s.text) <= MAX_SENTENCE_CHARS for s in spans)
    assert "".join(s.text + " " for s in spans).split() == text.split()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400), st.sampled_from(["en", "fr", "xx"]))
def test_offsets_always_slice_back(text, lang):
    for s in split_sentences(text, lang):
        assert text[s.start:s.end] == s.text and s.text.strip() == s.text and s.text
