"""The label scheme: which targets carry a stance, which stance values exist, which frames.

It is declared in the config and saved in every run folder, so adding a target or a frame
is a matter of YAML and data, never code.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LabelSchema:
    targets: tuple[str, ...] = ("west", "russia")
    stance_values: tuple[str, ...] = ("favor", "against", "none")
    frames: tuple[str, ...] = ("sovereignty", "security", "humiliation")
    none_label: str = "none"

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "stance_values", tuple(self.stance_values))
        object.__setattr__(self, "frames", tuple(self.frames))
        for name, values in (("targets", self.targets), ("stance_values", self.stance_values), ("frames", self.frames)):
            if len(set(values)) != len(values):
                raise ValueError(f"label schema: duplicate value in {name}: {list(values)}")
        if not self.targets:
            raise ValueError("label schema: at least one target is required")
        if self.none_label not in self.stance_values:
            raise ValueError(f"label schema: none_label {self.none_label!r} must be one of stance_values {list(self.stance_values)}")

    @property
    def stance_fields(self) -> tuple[str, ...]:
        """Record field names of the stance heads, e.g. ``stance_west``."""
        return tuple(f"stance_{t}" for t in self.targets)

    @property
    def polar_values(self) -> tuple[str, ...]:
        """Stance values other than ``none`` (favor, against): the ones F_avg averages."""
        return tuple(v for v in self.stance_values if v != self.none_label)

    @property
    def heads(self) -> tuple[str, ...]:
        """Every prediction head: one per stance field, then ``frames``."""
        return (*self.stance_fields, "frames")

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict) -> "LabelSchema":
        known = {"targets", "stance_values", "frames", "none_label"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"label schema: unknown keys {sorted(unknown)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
