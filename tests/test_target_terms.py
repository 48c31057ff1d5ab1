"""Target mentions as placeholders: matching rules, config validation, and explanations that name the mention."""
import pytest

from inference import Predictor
from inference.models.target_terms import TargetMasker, placeholder
from training.config import ConfigError, load_config

from .conftest import BASELINE

MASKER = TargetMasker({"west": ["US", "united states", "occident", "french"], "russia": ["russia", "africa corps"]})


def test_capitalised_terms_match_case_sensitively_and_others_ignore_case():
    text = "Tell us what the US and the United States want."
    assert [text[s:e] for s, e, _ in MASKER.spans(text)] == ["US", "United States"]
    assert MASKER.mask("FRENCH troops") == f" {placeholder('west')}  troops"


def test_whole_words_longest_term_and_french_elision():
    text = "L'Occident, Russian media, Russia et l'Africa Corps; Frenchman."
    found = [(text[s:e], t) for s, e, t in MASKER.spans(text)]
    # "Russian" and "Frenchman" are not the terms "russia" and "french"; the elided article stays out
    assert found == [("Occident", "west"), ("Russia", "russia"), ("Africa Corps", "russia")]


def test_terms_must_name_declared_targets(tmp_path):
    text = BASELINE.read_text().replace("  target_terms:\n", "  target_terms:\n    china: [beijing]\n")
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"target_terms names \['china'\]"):
        load_config(path)


def test_explanations_credit_the_mention_behind_a_placeholder(baseline_run):
    p = Predictor.load(baseline_run)
    for sentence, word in [("Thousands marched to demand that US troops leave Niger now.", "US"),
                           ("Des milliers de manifestants ont exigé le départ immédiat de Barkhane.", "Barkhane")]:
        pred = p.predict([sentence], explain=True)[0]
        assert pred.stances["stance_west"] == "against"
        words = [w for w, _ in pred.explanation["stance_west"]["against"]]
        assert word in words, words
