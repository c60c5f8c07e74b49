"""Title queries: a title in the document's metadata, the document text the answer."""

from __future__ import annotations

from autoembedding.selector.probing.queries.base import BuildContext, Made, QueryKind
from autoembedding.selector.probing.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.selector.probing.queries.text import terms

__all__ = ["KIND", "TITLE_KEYS", "TITLE_SHARE", "title_query"]

#: Metadata keys read as a document's title, in order.
TITLE_KEYS: tuple[str, ...] = ("title", "heading", "name", "subject")
#: Default share of the documents with a usable title that give a title query before trying
#: ICT (the others try ICT first and fall back to their title).
TITLE_SHARE = 0.5


def title_query(doc: ProbeDoc) -> Made | None:
    """The document's title as the query, its text as the answer.

    Args:
        doc: The document.

    Returns:
        The ``"title"`` query and the unchanged text, or ``None`` when no key of
        :data:`TITLE_KEYS` holds a title of two terms or more that is not verbatim in the text.

    """
    if not doc.metadata:
        return None
    for key in TITLE_KEYS:
        value = doc.metadata.get(key)
        if isinstance(value, str) and value.strip():
            title = value.strip()
            if title in doc.text or len(terms(title)) < 2:
                continue  # a verbatim or one-word title tests nothing
            return ProbeQuery(title, frozenset({doc.id}), "title"), doc.text
    return None


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return title_query(doc)


def _share(context: BuildContext) -> float:
    return context.title_share


#: The title kind of the registry: tried before ICT for ``title_share`` of the documents.
KIND = QueryKind("title", _make, share=_share)
