"""Where int8 exports live, what their manifest says, and how a finished one is put in place.

An export of model ``M`` for CPU kind ``K`` with settings ``C`` lives in
``<cache>/export/<M>/<K>/<key>/`` (``<cache>`` is :func:`autoembedding.offline.cache_dir`), where
``<key>`` hashes everything the output depends on: the source weights' pinned sha256, ``C`` and
:data:`EXPORT_FORMAT`. The folder holds ``model.onnx``, ``tokenizer.json`` and ``export.json``
(the manifest: its format, how the adapter must run it, sha256 of both files, the settings, the
tool versions, the agreement with PyTorch). :func:`verify_export` checks the format and those
hashes on every load.

Format 3 (issue 22.1): an export is run one text per ``session.run`` (``"texts_per_run": 1`` in
the manifest), because its activations are quantised dynamically, with one scale per input
tensor: in a padded batch a text's scale, and so its vector, depended on its batch-mates (cosine
0.99 alone vs in a batch). One text per run gives each text its own scales, no padding, and the
same vector alone or in any batch. A folder of another format (older exports ran batched) fails
:func:`verify_export`; the cache key includes the format, so the cache builds a new one.

A new export is written into a temporary folder beside its target and renamed into place
(:func:`install`): readers never see a half-written export, and when two processes export at once
the first rename wins and the other process uses it.

Example:
    >>> from autoembedding.adapters.export.config import QuantConfig
    >>> export_dir("all-MiniLM-L6-v2", kind="avx2", config=QuantConfig()).parts[-3:-1]
    ('sentence-transformers--all-MiniLM-L6-v2', 'avx2')
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from autoembedding.adapters.export.config import QuantConfig, config_for_cpu
from autoembedding.catalog import ModelSpec, get_spec
from autoembedding.errors import BackendError, WeightsIntegrityError
from autoembedding.offline import cache_dir, sha256_file

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_MANIFEST",
    "EXPORTED_FILES",
    "TEXTS_PER_RUN",
    "export_dir",
    "export_key",
    "install",
    "new_staging_dir",
    "source_spec",
    "verify_export",
    "write_manifest",
]

#: Name of the manifest written beside ``model.onnx``.
EXPORT_MANIFEST = "export.json"
#: The files of an export whose sha256 the manifest holds.
EXPORTED_FILES: tuple[str, ...] = ("model.onnx", "tokenizer.json")
#: Version of what the export code produces; bump it when the same inputs would give other bytes
#: or the adapter must run the file another way (3: one text per ``session.run``).
EXPORT_FORMAT = 3
#: Texts per ``session.run`` an export is run with (the manifest's ``texts_per_run``): one, so a
#: text's dynamic activation scales, and its vector, never depend on its batch-mates.
TEXTS_PER_RUN = 1


def source_spec(model_id: str) -> ModelSpec:
    """The PyTorch model an int8 export is built from.

    Args:
        model_id: A sentence-transformers catalog id, or an int8 ONNX entry that names its source
            (``ModelSpec.export_from``, e.g. ``sentence-transformers/all-MiniLM-L6-v2:onnx-int8``).

    Raises:
        UnknownModelError: For an id not in the catalog.
        BackendError: If the model cannot be exported this way.
    """
    spec = get_spec(model_id)
    if spec.export_from:
        spec = get_spec(spec.export_from)
    if spec.backend != "sentence-transformers" or spec.pooling not in ("mean", "cls"):
        raise BackendError(
            f"The int8 export handles sentence-transformers models with mean/CLS pooling; "
            f"{spec.id} is backend={spec.backend!r}, pooling={spec.pooling!r}."
        )
    return spec


def export_key(source: ModelSpec, config: QuantConfig) -> str:
    """A short hash of everything an export's bytes depend on (16 hex digits).

    The tool versions are not part of it: an export stays valid when they change, and is found
    even where the export tools are not installed; they are recorded in the manifest.
    """
    pinned = sorted((f.path, f.sha256) for f in (source.offline.files if source.offline else ()))
    payload = {
        "format": EXPORT_FORMAT,
        "model": source.id,
        "weights": pinned,
        "max_tokens": source.max_tokens,
        "config": config.to_dict(),
    }
    text = json.dumps(payload, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def export_dir(
    model_id: str, *, kind: str | None = None, config: QuantConfig | None = None
) -> Path:
    """The cache folder of a model's int8 export for a CPU kind and settings.

    Args:
        model_id: The source model or its int8 entry (see :func:`source_spec`).
        kind: A CPU kind (:data:`autoembedding.adapters.cpu.CPU_KINDS`); this machine's by
            default.
        config: The settings; the CPU kind's (:func:`config_for_cpu`) by default.

    Returns:
        ``<cache>/export/<model>/<kind>/<key>`` (not created).
    """
    if kind is None:
        from autoembedding.adapters.cpu import cpu_kind

        kind = cpu_kind()
    source = source_spec(model_id)
    config = config or config_for_cpu(kind)
    slug = source.id.replace("/", "--").replace(":", "-")
    return cache_dir() / "export" / slug / kind / export_key(source, config)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Hash :data:`EXPORTED_FILES` in ``folder`` and write them with ``manifest`` to its JSON.

    The manifest's ``format`` is :data:`EXPORT_FORMAT` unless ``manifest`` says otherwise.
    """
    files = {name: sha256_file(folder / name) for name in EXPORTED_FILES}
    full = {"format": EXPORT_FORMAT, **manifest, "files": files}
    text = json.dumps(full, indent=2, sort_keys=True) + "\n"
    (folder / EXPORT_MANIFEST).write_text(text, encoding="utf-8")
    return full


def verify_export(folder: str | Path) -> dict[str, Any]:
    """Check an export's format and every file hash its manifest lists.

    Args:
        folder: An export folder.

    Returns:
        The manifest.

    Raises:
        FileNotFoundError: If the folder has no manifest (nothing was exported there).
        WeightsIntegrityError: If the manifest is unreadable, of another format than
            :data:`EXPORT_FORMAT` (an older export, which ran batched), or a file is missing or
            changed.
    """
    root = Path(folder).expanduser()
    manifest_file = root / EXPORT_MANIFEST
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{root} has no {EXPORT_MANIFEST}; it was not exported there.")
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsIntegrityError(f"{manifest_file} is not a valid export manifest.") from exc
    for name in EXPORTED_FILES:
        if name not in files:
            raise WeightsIntegrityError(f"{manifest_file} lists no sha256 for {name}.")
    found = manifest.get("format")
    if found != EXPORT_FORMAT:
        raise WeightsIntegrityError(
            f"{root} is an export of format {found}, but this version of autoembedding runs "
            f"format {EXPORT_FORMAT} (one text per run, so vectors do not depend on their batch). "
            "Re-export it (`autoembed export MODEL --force`, or export_int8(..., overwrite=True))."
        )
    for name, expected in files.items():
        path = root / name
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != expected:
            raise WeightsIntegrityError(
                f"{path} has sha256 {actual}, but {EXPORT_MANIFEST} says {expected}; the export "
                "was changed or is incomplete. Re-export it (`autoembed export MODEL --force`)."
            )
    return dict(manifest)


def new_staging_dir(target: Path) -> Path:
    """A fresh empty folder beside ``target`` (same file system, so a rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    return staging


def _verified(folder: Path) -> bool:
    try:
        verify_export(folder)
    except (FileNotFoundError, WeightsIntegrityError):
        return False
    return True


def install(staging: Path, target: Path, *, replace: bool = False) -> Path:
    """Move a finished export from ``staging`` to ``target`` in one rename.

    If ``target`` already holds a verified export (another process finished first), that one
    is kept and ``staging`` is removed, unless ``replace``. A target that fails verification (or
    any target, with ``replace``) is moved aside first and removed once the new one is in place.

    Returns:
        ``target``.
    """
    aside: Path | None = None
    if target.exists():
        if not replace and _verified(target):
            shutil.rmtree(staging, ignore_errors=True)
            return target
        if any(target.iterdir()) and not (target / EXPORT_MANIFEST).is_file():
            raise BackendError(
                f"{target} exists and holds files that are not an export; not replacing it. "
                "Choose an empty or new folder."
            )
        aside = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(target, aside)
        except FileNotFoundError:  # someone else moved it meanwhile
            aside = None
    try:
        os.replace(staging, target)  # atomic; fails if another export landed meanwhile
    except OSError:
        if not (target / EXPORT_MANIFEST).is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
    return target
