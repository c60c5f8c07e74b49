"""Unit tests of the Chroma embedding function and guarded collections (fake adapter)."""

from __future__ import annotations

import numpy as np
import pytest
from chromadb.utils.embedding_functions import known_embedding_functions

from autoembedding.adapters import get_adapter
from autoembedding.chroma.records import get_record, write_record
from autoembedding.errors import (
    ChromaUnavailableError,
    CollectionError,
    CollectionNotFoundError,
    ModelMismatchError,
)
from autoembedding.integrations.chroma import (
    FUNCTION_NAME,
    AutoEmbeddingFunction,
    GuardedCollection,
    get_collection,
    get_or_create_collection,
    http_client,
)

DOCS = ["red apple pie", "blue car engine", "green tree leaf", "yellow sun light"]


def test_registered_under_its_name():
    assert known_embedding_functions[FUNCTION_NAME] is AutoEmbeddingFunction


def test_config_round_trip_keeps_vectors_identical():
    ef = AutoEmbeddingFunction(
        "fake/c", truncate_dim=32, precision="int8", query_prompt="q: ", document_prompt="d: "
    )
    again = AutoEmbeddingFunction.build_from_config(ef.get_config())
    assert again.record() == ef.record()
    np.testing.assert_array_equal(np.array(ef(DOCS)), np.array(again(DOCS)))
    np.testing.assert_array_equal(
        np.array(ef.embed_query(["x"])), np.array(again.embed_query(["x"]))
    )


def test_query_uses_query_prompt():
    ef = AutoEmbeddingFunction("fake/c", query_prompt="query: ", document_prompt="")
    bare = get_adapter("fake/c", query_prompt="query: ", document_prompt="")
    np.testing.assert_allclose(ef.embed_query(["apple"])[0], bare.embed_query("apple"), rtol=1e-6)
    assert not np.allclose(ef.embed_query(["apple"])[0], ef(["apple"])[0])


def test_config_update_changing_model_is_refused():
    ef = AutoEmbeddingFunction("fake/c")
    new = AutoEmbeddingFunction("fake/d").get_config()
    with pytest.raises(ModelMismatchError, match="swap"):
        ef.validate_config_update(ef.get_config(), new)
    ef.validate_config_update(ef.get_config(), {**ef.get_config(), "batch_size": 8})


def test_none_document_names_the_index():
    with pytest.raises(TypeError, match="index 2"):
        AutoEmbeddingFunction("fake/c")(["a", "b", None])


def test_create_records_model_and_queries(chroma_client):
    col = get_or_create_collection(chroma_client, "docs", model="fake/c")
    assert isinstance(col, GuardedCollection)
    assert get_record(col.collection).model_id == "fake/c"
    col.add(ids=[str(i) for i in range(4)], documents=DOCS)
    assert col.query(query_texts=["car"], n_results=1)["ids"] == [["1"]]
    assert col.count() == 4  # passthrough


def test_reopen_without_function_restores_model(chroma_client):
    ef = AutoEmbeddingFunction("fake/c", truncate_dim=32, query_prompt="q: ")
    made = get_or_create_collection(chroma_client, "docs", function=ef)
    made.add(ids=["0", "1"], documents=DOCS[:2])
    plain = chroma_client.get_collection("docs")  # no embedding function passed
    restored = plain.configuration["embedding_function"]
    assert isinstance(restored, AutoEmbeddingFunction)
    assert restored.record() == ef.record()
    again = get_collection(chroma_client, "docs")
    assert again.function.record() == ef.record()
    assert again.query(query_texts=["apple"], n_results=1)["ids"] == [["0"]]


def test_other_model_refused_before_writing(chroma_client):
    col = get_or_create_collection(chroma_client, "docs", model="fake/c")
    col.add(ids=["0"], documents=DOCS[:1])
    with pytest.raises(ModelMismatchError, match=r"fake/c.*fake/other.*swap"):
        get_or_create_collection(chroma_client, "docs", model="fake/other")
    # same model, other truncation: also refused
    with pytest.raises(ModelMismatchError):
        get_or_create_collection(chroma_client, "docs", model="fake/c", truncate_dim=16)
    # a function passed straight to Chroma slips past Chroma's name check; the guard does not
    sneaky = chroma_client.get_collection(
        "docs", embedding_function=AutoEmbeddingFunction("fake/x")
    )
    guarded = GuardedCollection(sneaky, AutoEmbeddingFunction("fake/x"))
    with pytest.raises(ModelMismatchError):
        guarded.add(ids=["9"], documents=["new"])
    with pytest.raises(ModelMismatchError):
        guarded.query(query_texts=["new"])
    assert chroma_client.get_collection("docs").count() == 1


def test_guard_rejects_none_documents_before_writing(chroma_client):
    col = get_or_create_collection(chroma_client, "docs", model="fake/c")
    with pytest.raises(TypeError, match="index 1"):
        col.add(ids=["0", "1"], documents=["ok", None])
    assert col.count() == 0


def test_record_swapped_underneath_is_refused(chroma_client):
    col = get_or_create_collection(chroma_client, "docs", model="fake/c")
    write_record(col.collection, get_adapter("fake/new").record())
    with pytest.raises(ModelMismatchError):
        col.upsert(ids=["0"], documents=["x"])


def test_existing_plain_collection_checks_dimension(chroma_client):
    plain = chroma_client.create_collection("plain", embedding_function=None)
    plain.add(ids=["0"], embeddings=[[0.1] * 32], documents=["x"])
    with pytest.raises(ModelMismatchError, match="32-d"):
        get_or_create_collection(chroma_client, "plain", model="fake/c")  # 64-d
    with pytest.warns(UserWarning, match="no model record"):
        col = get_or_create_collection(chroma_client, "plain", model="fake/c", truncate_dim=32)
    assert col.function.record().dim == 32


def test_get_collection_unknown_origin_is_clear(chroma_client):
    chroma_client.create_collection("plain", embedding_function=None)
    with pytest.raises(CollectionError, match="model="):
        get_collection(chroma_client, "plain")
    with pytest.raises(CollectionNotFoundError, match="'missing'.*get_or_create_collection"):
        get_collection(chroma_client, "missing")


def test_http_client_to_closed_port_is_clear():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        ChromaUnavailableError, match=f"no Chroma server answers at http://127.0.0.1:{port}"
    ):
        http_client("127.0.0.1", port)


def test_collection_of_another_chroma_function_is_refused(chroma_client):
    from chromadb.utils.embedding_functions import DefaultEmbeddingFunction

    # creating stores only the function's config; nothing is downloaded or embedded
    chroma_client.create_collection(
        "made-by-default", embedding_function=DefaultEmbeddingFunction()
    )
    with pytest.raises(ModelMismatchError, match="another Chroma embedding function.*swap"):
        get_or_create_collection(chroma_client, "made-by-default", model="fake/c")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model", "fake/d"),
        ("truncate_dim", 16),
        ("precision", "int8"),
        ("query_prompt", "q: "),
        ("document_prompt", "d: "),
        ("normalize", False),
    ],
)
def test_config_update_changing_any_vector_option_is_refused(key, value):
    ef = AutoEmbeddingFunction("fake/c")
    with pytest.raises(ModelMismatchError, match=key):
        ef.validate_config_update(ef.get_config(), {**ef.get_config(), key: value})


def test_config_is_the_record_plus_batch_size():
    ef = AutoEmbeddingFunction("fake/c", truncate_dim=32, batch_size=8, latency_ms=0.5)
    config = ef.get_config()
    assert config == {
        **ef.record().to_config(model_key="model"),
        "batch_size": 8,
        "latency_ms": 0.5,  # JSON-ready adapter options are kept
    }


def test_old_config_without_prompts_keeps_the_catalog_prompts():
    ef = AutoEmbeddingFunction("fake/c")
    config = {"model": "fake/c", "dim": ef.record().dim}  # options left out
    assert AutoEmbeddingFunction.build_from_config(config).record() == ef.record()


# ------------------------------------------------------------ build_from_config keeps the record
def test_build_from_config_keeps_the_dimension_of_a_fake_model():
    # A fake's dimension is an option: it was dropped, so the rebuilt function made 64-d vectors
    # and Chroma could not reopen a collection made with FakeAdapter(dim=16).
    ef = AutoEmbeddingFunction(adapter=get_adapter("fake/c", dim=16))
    again = AutoEmbeddingFunction.build_from_config(ef.get_config())
    assert again.record() == ef.record() and again.adapter.dim == 16
    np.testing.assert_array_equal(np.array(ef(DOCS)), np.array(again(DOCS)))


def test_build_from_config_keeps_the_retrieval_fields():
    record = get_adapter("fake/c", dim=16).record()
    hybrid = record.with_retrieval("hybrid", tokenizer="en", fusion="convex", fusion_weight=0.3)
    ef = AutoEmbeddingFunction.from_record(hybrid)
    config = ef.get_config()
    assert config == {**hybrid.to_config(model_key="model"), "batch_size": 32}
    again = AutoEmbeddingFunction.build_from_config(config)
    assert again.record() == hybrid  # not passed to the adapter (it would refuse them)
    lexical = record.with_retrieval("lexical", tokenizer="zh")
    assert (
        AutoEmbeddingFunction.build_from_config(
            AutoEmbeddingFunction.from_record(lexical).get_config()
        ).record()
        == lexical
    )


def test_a_dense_config_has_no_retrieval_fields():
    config = AutoEmbeddingFunction("fake/c").get_config()
    assert not {"retrieval", "tokenizer", "fusion", "fusion_weight", "rrf_k"} & set(config)


def test_build_from_config_keeps_backend_and_adapter_options():
    ef = AutoEmbeddingFunction("fake/c", batch_size=8, latency_ms=0.5)
    again = AutoEmbeddingFunction.build_from_config(ef.get_config())
    assert again.record().backend == "fake"
    assert again.adapter.batch_size == 8 and again.get_config() == ef.get_config()


def test_build_from_config_refuses_a_recorded_dimension_the_model_cannot_make():
    config = {**AutoEmbeddingFunction("fake/c", truncate_dim=32).get_config(), "dim": 48}
    with pytest.raises(ModelMismatchError, match="48 dims"):
        AutoEmbeddingFunction.build_from_config(config)


def test_a_collection_made_with_a_custom_dimension_reopens_from_its_config(chroma_client):
    ef = AutoEmbeddingFunction(adapter=get_adapter("fake/c", dim=16))
    made = get_or_create_collection(chroma_client, "docs16", function=ef)
    made.add(ids=[str(i) for i in range(len(DOCS))], documents=DOCS)
    plain = chroma_client.get_collection("docs16")  # Chroma rebuilds the function from config
    assert plain.query(query_texts=["apple"], n_results=1)["ids"] == [["0"]]
    assert get_collection(chroma_client, "docs16").function.record() == ef.record()


def test_the_mismatch_hint_is_a_command_that_reaches_the_database(chroma_client, chroma_path):
    import shlex

    from autoembedding.chroma.records import check_record

    docs = get_or_create_collection(chroma_client, "papers", model="fake/c")
    docs.add(ids=["a"], documents=["apple"])
    raw = chroma_client.get_collection("papers", embedding_function=None)
    with pytest.raises(ModelMismatchError) as err:
        check_record(raw, AutoEmbeddingFunction("fake/d").record(), action="add to")
    command = str(err.value).split("migrate the collection: ")[1].split(" (or")[0]
    assert shlex.split(command) == [
        "autoembed", "swap", "--chroma-path", str(chroma_path),
        "--collection", "papers", "--model", "fake/d",
    ]  # fmt: skip
