from pathlib import Path

import pytest

from training.config import ConfigError, load_config

from .conftest import BASELINE


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_config_loads():
    cfg = load_config(BASELINE)
    assert cfg.model.kind == "tfidf"
    assert cfg.labels.schema().stance_fields == ("stance_west", "stance_russia")


def test_unknown_key_names_key_and_file(tmp_path):
    text = BASELINE.read_text().replace("  C: 4.0", "  C: 4.0\n  learning_rat: 0.1")
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert "model.learning_rat" in str(err.value) and str(p) in str(err.value)


def test_bad_value_names_key(tmp_path):
    p = write(tmp_path, BASELINE.read_text().replace("C: 4.0", "C: -1"))
    with pytest.raises(ConfigError, match=r"model\.C"):
        load_config(p)


def test_dotted_override_applies_and_is_validated():
    assert load_config(BASELINE, ["model.C=2.0"]).model.C == 2.0
    with pytest.raises(ConfigError, match=r"model\.C"):
        load_config(BASELINE, ["model.C=abc"])
    with pytest.raises(ConfigError, match="unknown key 'model.nope'"):
        load_config(BASELINE, ["model.nope=1"])
    with pytest.raises(ConfigError, match="not a section"):
        load_config(BASELINE, ["nosuch.section.key=1"])


def test_labels_come_from_config(tmp_path):
    text = BASELINE.read_text().replace("targets: [west, russia]", "targets: [west, russia, china]") \
        .replace("frames: [sovereignty, security, humiliation]", "frames: [sovereignty, security, humiliation, economy]")
    schema = load_config(write(tmp_path, text)).labels.schema()
    assert schema.stance_fields[-1] == "stance_china" and schema.frames[-1] == "economy"
