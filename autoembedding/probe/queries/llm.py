"""LLM questions: a LangChain chat model writes one question per document (optional)."""

from __future__ import annotations

from typing import Any

from autoembedding.probe.queries.base import BuildContext, Made, QueryKind
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery
from autoembedding.probe.queries.text import terms

__all__ = ["KIND", "LLM_PROMPT", "llm_query"]

#: The prompt; ``{passage}`` is the document's first 2,000 characters.
LLM_PROMPT = (
    "Write one question, in the same language as the passage, that a person might ask a search "
    "engine and that this passage answers. Do not copy phrases from the passage. Reply with the "
    "question only.\n\nPassage:\n{passage}"
)


def llm_query(doc: ProbeDoc, llm: Any) -> Made | None:
    """One question written by a LangChain chat model (``llm.invoke(prompt).content``).

    Args:
        doc: The document.
        llm: A LangChain chat model (or anything whose ``invoke`` returns text or a message).

    Returns:
        The ``"llm"`` query (the reply's first line) and the unchanged text, or ``None`` when the
        reply has fewer than two terms or is verbatim in the document.

    """
    reply = llm.invoke(LLM_PROMPT.format(passage=doc.text[:2000]))
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks
        content = " ".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        )
    reply_text = str(content or "").strip()
    text = reply_text.splitlines()[0].strip() if reply_text else ""
    if len(terms(text)) < 2 or text in doc.text:
        return None
    return ProbeQuery(text, frozenset({doc.id}), "llm"), doc.text


def _make(doc: ProbeDoc, context: BuildContext) -> Made | None:
    return None if context.llm is None else llm_query(doc, context.llm)


#: The LLM kind of the registry: first when a model is given.
KIND = QueryKind("llm", _make)
