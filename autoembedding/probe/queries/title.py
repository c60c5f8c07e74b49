"""Title queries: a title in the document's metadata, the document text the answer.

Metadata keys are matched without regard to case (``title``, ``Title``, ``TITLE``). A title
that chunkers copied into the text (a first line, a heading) is cut out of the answer, as ICT cuts
its sentence, so the query is never verbatim in its document.
"""

from __future__ import annotations

import re

from autoembedding.probe.queries.base import BuildContext, Made, QueryKind
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.probe.queries.text import terms

__all__ = ["KIND", "MIN_ANSWER_TERMS", "TITLE_KEYS", "TITLE_SHARE", "title_query", "titles"]

#: Metadata keys read as a document's title, in order (compared in lower case).
TITLE_KEYS: tuple[str, ...] = (
    "title",
    "doc_title",
    "document_title",
    "page_title",
    "section_title",
    "heading",
    "header",
    "name",
    "subject",
)
#: Terms the answer must keep once a verbatim title is cut out of it.
MIN_ANSWER_TERMS = 3
#: Default share of the documents with a usable title that give a title query before trying
#: ICT (the others try ICT first and fall back to their title).
TITLE_SHARE = 0.5


def title_query(doc: ProbeDoc) -> Made | None:
    """The document's title as the query, its text as the answer.

    Args:
        doc: The document.

    Returns:
        The ``"title"`` query and the text (without the title where the text holds it
        verbatim), or ``None`` when no key of :data:`TITLE_KEYS` (any case) holds a title of
        two terms or more that leaves at least :data:`MIN_ANSWER_TERMS` terms of text.

    """
    for title in titles(doc):
        if len(terms(title)) < 2:
            continue  # a one-word title tests nothing
        answer = _without(doc.text, title)
        if len(terms(answer)) < MIN_ANSWER_TERMS:
            continue  # the text is little more than its title
        return ProbeQuery(title, frozenset({doc.id}), "title"), answer
    return None


def titles(doc: ProbeDoc) -> list[str]:
    """The document's titles: the :data:`TITLE_KEYS` values (any case), spacing normalised.

    Args:
        doc: The document.

    Returns:
        Its non-empty string titles, in :data:`TITLE_KEYS` order (``[]`` without metadata).
    """
    if not doc.metadata:
        return []
    by_key = {str(k).lower(): v for k, v in doc.metadata.items()}
    values = (by_key.get(key) for key in TITLE_KEYS)
    return [" ".join(v.split()) for v in values if isinstance(v, str) and v.strip()]


def _without(text: str, title: str) -> str:
    """``text`` with every verbatim copy of ``title`` cut out (spacing-insensitive)."""
    flat = " ".join(text.split())
    if title.lower() not in flat.lower():
        return text
    pattern = re.compile(r"\s+".join(re.escape(w) for w in title.split()), re.IGNORECASE)
    return pattern.sub("", text).strip()


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return title_query(doc)


def _share(context: BuildContext) -> float:
    return context.title_share


#: The title kind of the registry: tried before ICT for ``title_share`` of the documents.
KIND = QueryKind("title", _make, share=_share)
