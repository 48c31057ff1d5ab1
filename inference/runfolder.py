"""Read, write and verify a run folder.

A run folder holds the resolved config, the label schema, the decision thresholds, the model
files of one model kind, metrics, and ``manifest.json`` with the sha256 of every file. Loading
verifies the manifest first, so a changed, missing or foreign file is refused before any of it
is deserialised.
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

from data.schema import LabelSchema

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SCHEMA = "schema.json"
THRESHOLDS = "thresholds.json"
CONFIG = "config.yaml"
METRICS = "metrics.json"


class RunFolderError(ValueError):
    """A run folder that cannot be trusted or read."""


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stanceframe")
    except PackageNotFoundError:
        return "0+unknown"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json(path: Path, obj: object) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_manifest(run_dir: Path, kind: str) -> dict:
    """Hash every file in the folder (recursively) except the manifest itself."""
    files = {
        str(p.relative_to(run_dir)): sha256_file(p)
        for p in sorted(run_dir.rglob("*")) if p.is_file() and p.name != MANIFEST
    }
    manifest = {
        "format_version": FORMAT_VERSION,
        "package_version": package_version(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "kind": kind,
        "files": files,
    }
    write_json(run_dir / MANIFEST, manifest)
    return manifest


def verify(run_dir: str | os.PathLike) -> dict:
    """Check the manifest against the folder; return it, or raise :class:`RunFolderError`."""
    run_dir = Path(run_dir)
    path = run_dir / MANIFEST
    if not path.is_file():
        raise RunFolderError(f"{run_dir}: not a run folder (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        version = int(manifest["format_version"])
        files = dict(manifest["files"])
        manifest["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RunFolderError(f"{path}: unreadable manifest ({exc})") from None
    if version > FORMAT_VERSION:
        raise RunFolderError(f"{path}: format version {version} is newer than this stanceframe supports "
                             f"({FORMAT_VERSION}); upgrade stanceframe")
    for name, digest in files.items():
        file = run_dir / name
        if not file.is_file():
            raise RunFolderError(f"{run_dir}: file {name} listed in the manifest is missing")
        if sha256_file(file) != digest:
            raise RunFolderError(f"{run_dir}: file {name} was changed after training (sha256 mismatch)")
    for required in (SCHEMA, THRESHOLDS):
        if required not in files:
            raise RunFolderError(f"{run_dir}: {required} is not covered by the manifest")
    return manifest


def read_schema(run_dir: Path) -> LabelSchema:
    return LabelSchema.from_dict(json.loads((run_dir / SCHEMA).read_text(encoding="utf-8")))
