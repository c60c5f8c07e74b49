"""Sample texts and labelled queries for the pytest plugin: jsonl/txt files or a Chroma collection.

Only the standard library at import time; Chroma is opened through :mod:`autoembedding.chroma`
when a collection is configured.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Corpus", "LabelledQuery", "corpus_from_chroma", "load_corpus", "load_queries"]

#: Fields tried, in order, when a jsonl record has no ``autoembedding_text_field``.
_TEXT_FIELDS = ("text", "document", "content", "page_content", "body")
_ID_FIELDS = ("_id", "id", "doc_id", "corpus-id")
_QUERY_FIELDS = ("query", "text", "question")
_RELEVANT_FIELDS = ("relevant", "relevant_ids", "ids", "answers_ids")


@dataclass(frozen=True)
class Corpus:
    """Sample texts with their ids (jsonl ``_id``/``id``, Chroma ids, or line numbers).

    Attributes:
        ids: One id per text, as strings.
        texts: The texts.
        source: Where they came from, for messages.

    """

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class LabelledQuery:
    """A query and the ids of the corpus texts that answer it.

    Attributes:
        text: The query.
        relevant: Ids of relevant texts (see :class:`Corpus`).

    """

    text: str
    relevant: frozenset[str]


def _first_field(record: dict[str, Any], names: Sequence[str]) -> Any:
    for name in names:
        if name in record:
            return record[name]
    return None


def load_corpus(
    path: str | Path, *, text_field: str | None = None, limit: int | None = None
) -> Corpus:
    """Read sample texts from a ``.jsonl`` or text file.

    Args:
        path: A ``.jsonl`` file (one JSON object a line; ``title`` is prepended when present, as
            BEIR corpora expect) or any other text file (one text a line, blank lines skipped).
        text_field: The jsonl field with the text; by default the first of ``text``,
            ``document``, ``content``, ``page_content``, ``body``.
        limit: Read at most this many texts.

    Returns:
        The corpus; ids come from ``_id``/``id`` fields, else line numbers.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: If a jsonl line is not an object with a text field, or the file is empty.

    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(
            f"autoembedding_texts: {file} does not exist; set autoembedding_texts (ini) or "
            "--autoembedding-texts to a .jsonl or .txt file."
        )
    ids: list[str] = []
    texts: list[str] = []
    is_jsonl = file.suffix.lower() in {".jsonl", ".ndjson"}
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and len(texts) >= limit:
                break
            line = line.rstrip("\n")
            if not line.strip():
                continue
            if not is_jsonl:
                ids.append(str(number))
                texts.append(line)
                continue
            doc_id, text = _jsonl_text(file, number, line, text_field)
            ids.append(doc_id if doc_id is not None else str(number))
            texts.append(text)
    if not texts:
        raise ValueError(f"{file} holds no texts.")
    return Corpus(tuple(ids), tuple(texts), str(file))


def _jsonl_text(
    file: Path, number: int, line: str, text_field: str | None
) -> tuple[str | None, str]:
    """(id or None, text with its title) of one jsonl line of a corpus."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file}:{number + 1} is not valid JSON ({exc}).") from exc
    fields = (text_field,) if text_field else _TEXT_FIELDS
    text = _first_field(record, fields) if isinstance(record, dict) else None
    if not isinstance(text, str):
        raise ValueError(
            f"{file}:{number + 1} has no string field {' / '.join(fields)}; set "
            "autoembedding_text_field to the field that holds the text."
        )
    title = record.get("title") if text_field is None else None
    if isinstance(title, str) and title.strip():
        text = f"{title}\n{text}"
    found_id = _first_field(record, _ID_FIELDS)
    return (str(found_id) if found_id is not None else None), text


def corpus_from_chroma(
    name: str, *, path: str | None, url: str | None, limit: int | None
) -> Corpus:
    """Read up to ``limit`` documents (with their ids) from a Chroma collection.

    Args:
        name: The collection.
        path: Folder of a persistent Chroma (must exist; nothing is created).
        url: URL of a Chroma server (``http://host:port``; ``host:port`` means http); wins
            over ``path``.
        limit: Read at most this many records.

    Returns:
        The corpus of the collection's non-empty documents.

    Raises:
        ValueError: If neither ``path`` nor ``url`` is given, or the collection holds no
            documents.
        autoembedding.errors.CollectionError: If the database cannot be opened or the collection
            does not exist (subclasses name which).

    """
    from autoembedding.chroma.client import connect
    from autoembedding.chroma.errors import chroma_errors
    from autoembedding.chroma.pages import iter_pages

    if url:
        client = connect(url=url if "://" in url else f"http://{url}")
    elif path:
        client = connect(str(Path(path).expanduser()), must_exist=True)
    else:
        raise ValueError(
            "autoembedding_collection needs autoembedding_chroma_path (a persistent folder) or "
            "autoembedding_chroma_url (a server)."
        )
    where = url or path
    with chroma_errors("open collection", collection=name, where=where):
        collection = client.get_collection(name)
    ids: list[str] = []
    texts: list[str] = []
    with chroma_errors("read", collection=name, where=where):
        for page in iter_pages(collection, include=("documents",), limit=limit):
            for doc_id, doc in zip(page.ids, page.documents, strict=False):
                if doc:
                    ids.append(doc_id)
                    texts.append(doc)
    if not texts:
        raise ValueError(f"Chroma collection {name!r} has no documents to sample.")
    return Corpus(tuple(ids), tuple(texts), f"chroma:{where}/{name}")


def load_queries(path: str | Path) -> list[LabelledQuery]:
    """Read labelled queries from a jsonl file.

    Each line is ``{"query": "...", "relevant": ["id", ...]}`` (``relevant`` may be a single id;
    ids are compared as strings with the corpus ids).

    Args:
        path: The jsonl file.

    Returns:
        The queries, in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        ValueError: On a line without a query or without relevant ids.

    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise FileNotFoundError(f"autoembedding_queries: {file} does not exist.")
    queries: list[LabelledQuery] = []
    with file.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{file}:{number} is not valid JSON ({exc}).") from exc
            text = _first_field(record, _QUERY_FIELDS) if isinstance(record, dict) else None
            relevant = _first_field(record, _RELEVANT_FIELDS) if isinstance(record, dict) else None
            if isinstance(relevant, (str, int)):
                relevant = [relevant]
            if not isinstance(text, str) or not relevant:
                raise ValueError(
                    f'{file}:{number} must be {{"query": str, "relevant": [ids]}}, got '
                    f"{line.strip()[:80]!r}."
                )
            queries.append(LabelledQuery(text, frozenset(str(r) for r in relevant)))
    if not queries:
        raise ValueError(f"{file} holds no queries.")
    return queries
