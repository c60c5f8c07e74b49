"""`autoembed swap --json` prints the result as JSON; the Ray options need --engine ray."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("chromadb")

from autoembedding.cli import main  # noqa: E402
from autoembedding.integrations.chroma import get_or_create_collection  # noqa: E402


def test_swap_json_prints_the_result(chroma_client, chroma_path, capsys):
    docs = get_or_create_collection(chroma_client, "docs", model="fake/old")
    docs.add(ids=[str(i) for i in range(12)], documents=[f"text number {i}" for i in range(12)])
    argv = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]
    code = main([*argv, "--model", "fake/new", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["name"] == "docs" and data["docs"] == 12
    assert data["record"]["model_id"] == "fake/new"
    assert "docs" in data["summary"]


def test_ray_options_without_the_ray_engine_are_a_usage_error(chroma_path, capsys):
    argv = ["swap", "--chroma-path", str(chroma_path), "--collection", "docs"]
    code = main([*argv, "--model", "fake/new", "--workers", "2"])
    assert code == 2
    assert "--engine ray" in capsys.readouterr().err
