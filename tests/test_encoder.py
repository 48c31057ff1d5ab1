"""The transformer kinds (fine-tuned encoder, frozen embeddings) on a tiny random BERT: real
training, saving, loading and serving code paths, in seconds."""
import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from inference import Predictor  # noqa: E402
from inference.models.encoding import length_batches  # noqa: E402
from inference.runfolder import RunFolderError  # noqa: E402
from training.config import load_config  # noqa: E402
from training.train import train  # noqa: E402

from .conftest import ROOT  # noqa: E402

SENTENCES = ["Les instructeurs russes sont arrivés à Niamey.", "Thousands demanded that the French troops leave.",
             "Le ministre a salué le partenariat avec Moscou, « un choix souverain ».", "Rain fell on Bamako.",
             "Washington suspended its aid after the coup, officials said on Tuesday."]


def _train(kind: str, base: Path, corpus: Path, out: Path, *extra: str) -> Path:
    overrides = [f"model.base={base}", "model.prefix=''", "model.max_length=48", f"data.paths=[{corpus}]"]
    if kind == "encoder":
        overrides += ["model.epochs=2", "model.freeze_embeddings=false", "model.batch_size=16"]
    cfg = load_config(ROOT / "configs" / f"{kind}.yaml", overrides + list(extra))
    return train(cfg, ROOT / "configs", out, log=lambda m: None)


@pytest.fixture(scope="module")
def encoder_run(tiny_base, small_corpus, tmp_path_factory) -> Path:
    return _train("encoder", tiny_base, small_corpus, tmp_path_factory.mktemp("runs") / "enc")


def test_encoder_run_folder_is_safetensors_only(encoder_run):
    files = set(json.loads((encoder_run / "manifest.json").read_text())["files"])
    assert {"heads.safetensors", "encoder.json", "encoder/model.safetensors", "encoder/config.json"} <= files
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pkl", ".pth"))]
    metrics = json.loads((encoder_run / "metrics.json").read_text())
    assert {"en", "fr"} == set(metrics["test"]["by_lang"])


def test_encoder_round_trip_and_input_order(encoder_run):
    p1, p2 = Predictor.load(encoder_run), Predictor.load(encoder_run)
    a, b = p1.predict_proba(SENTENCES), p2.predict_proba(SENTENCES)
    for head in a:
        np.testing.assert_allclose(a[head], b[head], atol=1e-6)
    # length-sorted batches must come back in input order: each sentence alone gives the same row
    for i, s in enumerate(SENTENCES):
        alone = p1.predict_proba([s])
        for head in a:
            np.testing.assert_allclose(alone[head][0], a[head][i], atol=1e-5)
    preds = p1.predict(SENTENCES, explain=True)
    assert all(sum(p.probabilities["stance_west"].values()) == pytest.approx(1, abs=1e-4) for p in preds)


def test_length_batches_cover_every_index_once():
    lengths = [5, 50, 3, 17, 17, 90, 1]
    seen = np.concatenate(list(length_batches(lengths, 3)))
    assert sorted(seen.tolist()) == list(range(len(lengths)))
    assert [lengths[i] for i in seen] == sorted(lengths, reverse=True)


def test_int8_agrees_with_fp32(encoder_run):
    fp32 = Predictor.load(encoder_run).predict_proba(SENTENCES)
    int8 = Predictor.load(encoder_run, quantize="int8").predict_proba(SENTENCES)
    for head in fp32:
        assert np.abs(fp32[head] - int8[head]).max() < 0.05


def test_smoothed_int8_tames_an_outlier_channel():
    """One input channel 100x larger than the rest (as in BERT activations) ruins per-tensor int8;
    the calibrated, smoothed quantisation keeps the layer close to fp32."""
    from inference.models.encoding import quantize_int8, recording_input_ranges

    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Linear(64, 32))
    x = torch.randn(256, 64)
    x[:, 7] *= 100
    exact = layer(x).detach()
    with recording_input_ranges(layer) as ranges:
        layer(x)
    plain = torch.ao.quantization.quantize_dynamic(copy.deepcopy(layer), {torch.nn.Linear}, dtype=torch.qint8)(x)
    smoothed = quantize_int8(copy.deepcopy(layer), ranges)(x)
    plain_err, smooth_err = (plain - exact).abs().mean(), (smoothed - exact).abs().mean()
    assert smooth_err < plain_err / 3, (float(smooth_err), float(plain_err))


def test_int8_needs_the_runs_calibration_ranges(encoder_run, tmp_path):
    from inference.runfolder import write_manifest

    old = shutil.copytree(encoder_run, tmp_path / "old")
    (old / "int8_ranges.safetensors").unlink()
    write_manifest(old, json.loads((old / "manifest.json").read_text())["kind"])
    Predictor.load(old)  # fp32 still loads
    with pytest.raises(ValueError, match="int8_ranges.safetensors"):
        Predictor.load(old, quantize="int8")


def test_encoder_explanations_are_words_of_the_sentence(encoder_run):
    p = Predictor.load(encoder_run)
    words = p.model.explain([SENTENCES[2]], "stance_russia", ["favor"], top_k=3)[0]
    assert words and all(w in SENTENCES[2] for w, _ in words)


def test_context_switch_trains_and_scores(tiny_base, small_corpus, tmp_path):
    run = _train("encoder", tiny_base, small_corpus, tmp_path / "ctx", "model.context=true", "model.epochs=1")
    p = Predictor.load(run)
    assert p.uses_context
    result = next(p.score_articles([{"id": "a", "text": " ".join(SENTENCES), "lang": "en"}]))
    assert result.article["n_sentences"] == len(result.sentences) == 5


def test_embeddings_kind_and_base_verification(tiny_base, small_corpus, tmp_path):
    base = tmp_path / "base"
    shutil.copytree(tiny_base, base)
    run = _train("embeddings", base, small_corpus, tmp_path / "emb")
    pred = Predictor.load(run).predict(SENTENCES)
    assert len(pred) == 5
    fp32 = Predictor.load(run).predict_proba(SENTENCES)
    int8 = Predictor.load(run, quantize="int8").predict_proba(SENTENCES)
    for head in fp32:
        assert np.abs(fp32[head] - int8[head]).max() < 0.05
    from transformers import BertModel

    model = BertModel.from_pretrained(base)
    with torch.no_grad():
        model.encoder.layer[0].output.dense.weight.add_(0.01)
    model.save_pretrained(base, safe_serialization=True)
    with pytest.raises(RunFolderError, match="other weights"):
        Predictor.load(run)
