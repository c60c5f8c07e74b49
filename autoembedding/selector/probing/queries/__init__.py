"""Probe queries: labelled ones when the user has them, label-free ones built from the documents.

Label-free queries must not be verbatim parts of their answers: a sentence left inside its
document is won by any lexical matcher and ranks models by how well they copy words. So the
answer never contains its query, and the documents are embedded whole (see
:mod:`autoembedding.selector.probing`), the way each model will read them in production:

* **ICT** (Inverse Cloze Task): a sentence is cut from a document and becomes the query; the
  document *without that sentence* is the answer, so the query is never a verbatim part of it.
  Sentences are taken from the middle of the document (first and last sentences are often
  boiler-plate or summaries). Optionally (:data:`MASK_MIN_TERMS`, :data:`MASK_SHARE`, off by
  default) the query's rarest terms that also occur in the rest of the document are masked.
* **Title**: a ``title`` (or ``heading``/``name``) in the document metadata becomes the query,
  the document text the answer.
* **Keyphrase**: when a document has too few sentences for ICT and no title, its most
  distinctive terms (by in-sample IDF) form a short keyword query.
* **LLM questions** (optional): a LangChain chat model passed as ``llm`` writes one question per
  document (``llm.invoke(prompt).content``).

Kinds are mixed: every sampled document gives one query, of the best kind it supports.

Example:
    >>> docs = [ProbeDoc("a", "Cats purr. They sleep a lot. They hunt mice at night.")]
    >>> split_sentences(docs[0].text)
    ['Cats purr.', 'They sleep a lot.', 'They hunt mice at night.']

"""

from __future__ import annotations

import csv
import json
import math
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoembedding.errors import CollectionError

__all__ = [
    "ProbeDoc",
    "ProbeQuery",
    "ProbeSet",
    "build_label_free",
    "is_unspaced",
    "labelled_probe_set",
    "load_beir",
    "split_sentences",
    "tokenize",
]

#: Metadata keys read as a document's title, in order.
TITLE_KEYS: tuple[str, ...] = ("title", "heading", "name", "subject")

_MASK = ""

#: Share of the documents with a usable title that give a title query instead of an ICT one.
TITLE_SHARE = 0.5
#: Terms masked in a cut sentence: its rarest terms that also occur in the rest of the
#: document, ``max(MASK_MIN_TERMS, MASK_SHARE x distinct terms)`` of them. Off by default:
#: measured on SciFact with whole documents (docs/probe-queries.md), masking the single rarest
#: shared term cost e5 0.05-0.07 nDCG@10 against MiniLM and put it below MiniLM, while the real
#: claims, which name their genes and drugs, rank e5 first; unmasked ICT ranked them right.
#: Real queries carry the rare entity names their answer shares.
MASK_MIN_TERMS = 0
MASK_SHARE = 0.0
#: Terms in more than about half of the sampled documents are never masked.
MASK_MIN_IDF = 0.69


@dataclass(frozen=True)
class ProbeDoc:
    """A document of the search pool.

    Attributes:
        id: Document id (unique in the pool).
        text: The text that gets embedded.
        metadata: Its metadata (a ``title`` there gives a title query), or ``None``.

    """

    id: str
    text: str
    metadata: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProbeQuery:
    """One probe query and the ids of the pool documents that answer it.

    Attributes:
        text: The query text.
        relevant: Ids of the relevant documents.
        kind: ``"labelled"``, ``"ict"``, ``"title"``, ``"keyphrase"`` or ``"llm"``.

    """

    text: str
    relevant: frozenset[str]
    kind: str


@dataclass
class ProbeSet:
    """Queries plus the pool to search, exactly as it must be embedded.

    Attributes:
        queries: The probe queries.
        pool: The documents to embed and search; for ICT the cut sentence is removed from its
            document here.
        kind: ``"labelled"`` or ``"label-free"``.

    """

    queries: list[ProbeQuery]
    pool: list[ProbeDoc]
    kind: str
    kinds: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.kinds:
            self.kinds = dict(Counter(q.kind for q in self.queries))

    @property
    def doc_ids(self) -> list[str]:
        """Pool ids, in pool order (the columns of a score matrix)."""
        return [d.id for d in self.pool]

    @property
    def texts(self) -> list[str]:
        """Pool texts, in pool order."""
        return [d.text for d in self.pool]


# --------------------------------------------------------------------------- text utilities
# Sentence ends: Latin/Greek/Cyrillic . ! ? … followed by space (or end); CJK 。！？；… and the
# full-width forms, which need no following space; Devanagari danda; Arabic question mark.
_SENT_END = re.compile(
    r"""(?<=[.!?…])["'”’)\]]*\s+(?=["'“‘(\[]?[\w\d])"""  # spaced scripts
    r"""|(?<=[。！？!?；…｡])["'”’」』）)]*"""  # unspaced scripts: no space needed
    r"""|(?<=[।॥؟])\s*"""
    r"""|\n\s*\n"""
)
# Abbreviations that end in a period but do not end a sentence.
_ABBREV = re.compile(
    r"(?:\b(?:e\.g|i\.e|et al|etc|vs|cf|fig|figs|no|dr|mr|mrs|ms|prof|st|approx|ca|al|resp"
    r"|inc|ltd|co|jr|sr|u\.s|eq|ref|vol|pp)\.|\b[A-Z]\.)$",
    re.IGNORECASE,
)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences, for spaced scripts and for Chinese/Japanese/Thai-like ones.

    Spaced scripts split after ``. ! ? …`` followed by whitespace and an upper-case letter,
    digit or opening quote, except after common abbreviations (``e.g.``, ``et al.``, ``Fig.``,
    initials). Unspaced scripts split after ``。！？；…`` (full- or half-width) with no space
    needed; blank lines always split.

    Args:
        text: Any text.

    Returns:
        Non-empty, stripped sentences in order (``[]`` for blank text).

    """
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        return []
    pieces: list[str] = []
    last = 0
    for match in _SENT_END.finditer(text):
        end = match.end()
        if end <= last:
            continue
        piece = text[last:end]
        head = text[last : match.start()].rstrip()
        if _ABBREV.search(head):
            continue  # keep the abbreviation inside its sentence
        nxt = text[end : end + 1]
        if match.group(0).strip() == "" and nxt.islower() and head.endswith("."):
            continue  # "... 3.5 mg. and" style: a lower-case start is not a new sentence
        pieces.append(piece)
        last = end
    pieces.append(text[last:])
    return [p.strip() for p in pieces if p.strip()]


_CJK = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
    r"\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"
)
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_UNSPACED = re.compile(rf"[{_CJK}]")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; unspaced scripts give one token per character.

    Character bigrams are what lexical matching on Chinese/Japanese uses, so the masking below
    works on bigrams of those characters (see :func:`_terms`).
    """
    return [t.lower() for t in _TOKEN.findall(text)]


def is_unspaced(text: str) -> bool:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    return sum(1 for c in chars if _UNSPACED.match(c)) / len(chars) > 0.3


def _terms(text: str) -> list[str]:
    """Index terms: words for spaced scripts, character bigrams for unspaced ones."""
    tokens = tokenize(text)
    if not is_unspaced(text):
        return tokens
    out: list[str] = []
    run: list[str] = []
    for tok in [*tokens, " "]:
        if len(tok) == 1 and _UNSPACED.match(tok):
            run.append(tok)
            continue
        if run:
            out.extend(a + b for a, b in zip(run, run[1:], strict=False)) if len(run) > 1 else (
                out.extend(run)
            )
            run = []
        if tok != " ":
            out.append(tok)
    return out


# --------------------------------------------------------------------------- labelled
def labelled_probe_set(
    queries: Sequence[tuple[str, Iterable[str]]],
    pool: Sequence[ProbeDoc],
) -> ProbeSet:
    """Build a probe set from the user's own ``(query, relevant ids)`` pairs.

    Relevant ids that are not in ``pool`` are dropped; a query left with none is dropped.

    Args:
        queries: ``(query text, relevant document ids)`` pairs.
        pool: The documents to search (must contain the relevant ones).

    Returns:
        A ``"labelled"`` probe set.

    Raises:
        CollectionError: If no query has a relevant document in ``pool``.

    """
    pool_list = _dedupe(pool)
    ids = {d.id for d in pool_list}
    out: list[ProbeQuery] = []
    for text, rel in queries:
        found = frozenset(str(r) for r in rel) & ids
        if text and text.strip() and found:
            out.append(ProbeQuery(text.strip(), found, "labelled"))
    if not out:
        raise CollectionError(
            f"None of the {len(queries)} labelled queries has a relevant id among the "
            f"{len(pool_list)} pool documents; check that the qrels' corpus ids match the "
            "collection's ids."
        )
    return ProbeSet(out, pool_list, "labelled")


def load_beir(queries_path: str | Path, qrels_path: str | Path) -> list[tuple[str, frozenset[str]]]:
    """Read BEIR-style ``queries.jsonl`` + ``qrels.tsv`` into ``(query, relevant ids)`` pairs.

    ``qrels.tsv`` has a header (``query-id corpus-id score``, tab-separated); rows with a score
    <= 0 are not relevant. Queries without a positive qrel are left out.

    Args:
        queries_path: JSON lines with ``_id`` and ``text``.
        qrels_path: Tab-separated query id, corpus id, score.

    Returns:
        Pairs in ``queries.jsonl`` order.

    Raises:
        CollectionError: If a file is missing or malformed (names the file and line).

    """
    queries_path, qrels_path = Path(queries_path), Path(qrels_path)
    for path in (queries_path, qrels_path):
        if not path.is_file():
            raise CollectionError(f"{path} does not exist; expected a BEIR queries/qrels file.")
    relevant: dict[str, set[str]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if number == 1 and not _is_number(row[-1]):
                continue  # header
            if len(row) < 2:
                raise CollectionError(
                    f"{qrels_path}:{number}: expected 'query-id<TAB>corpus-id<TAB>score', "
                    f"got {row!r}."
                )
            score = row[2] if len(row) > 2 else "1"
            if not _is_number(score):
                raise CollectionError(f"{qrels_path}:{number}: score {score!r} is not a number.")
            if float(score) > 0:
                relevant.setdefault(row[0].strip(), set()).add(row[1].strip())
    out: list[tuple[str, frozenset[str]]] = []
    with queries_path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                qid, text = str(item["_id"]), str(item["text"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise CollectionError(
                    f"{queries_path}:{number}: expected a JSON object with '_id' and "
                    f"'text' ({exc})."
                ) from exc
            if qid in relevant and text.strip():
                out.append((text, frozenset(relevant[qid])))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- label-free
def build_label_free(
    docs: Sequence[ProbeDoc],
    *,
    n_queries: int,
    seed: int = 0,
    llm: Any = None,
) -> ProbeSet:
    """Build label-free probe queries from a sample of documents.

    Every document in ``docs`` goes into the pool (the ones that give queries lose their cut
    sentence); ``n_queries`` of them, chosen at random, give one query each, of the best kind
    they support: LLM question (if ``llm``), else ICT when the document has at least three
    sentences, else title, else keyphrase; documents with a usable title (one that is not
    verbatim in the text) give a title query instead of an ICT one with probability
    :data:`TITLE_SHARE`. Duplicate ids and duplicate texts are dropped first.

    Args:
        docs: Sampled documents (the pool). More documents than queries makes the probe harder
            and closer to real retrieval; 3-5x is a good ratio.
        n_queries: Queries wanted; fewer are returned when fewer documents support one.
        seed: Seed for the choice of documents and sentences.
        llm: Optional LangChain chat model; ``llm.invoke(prompt).content`` must return one
            question.

    Returns:
        A ``"label-free"`` probe set.

    Raises:
        CollectionError: If no document can give a query (all empty or a single word).
        ValueError: If ``n_queries`` < 1.

    """
    if n_queries < 1:
        raise ValueError(f"n_queries must be >= 1, got {n_queries}.")
    pool = _dedupe(docs)
    if not pool:
        raise CollectionError("No documents with text to build probe queries from.")
    rng = random.Random(seed)
    df = _document_frequency(pool)
    n_docs = len(pool)
    order = list(range(n_docs))
    rng.shuffle(order)
    texts = {d.id: d.text for d in pool}
    queries: list[ProbeQuery] = []
    for index in order:
        if len(queries) >= n_queries:
            break
        doc = pool[index]
        made = None
        if llm is not None:
            made = _llm_query(doc, llm)
        title_first = rng.random() < TITLE_SHARE
        if made is None and title_first:
            made = _title_query(doc)
        if made is None:
            made = _ict_query(doc, rng, df, n_docs)
        if made is None and not title_first:
            made = _title_query(doc)
        if made is None:
            made = _keyphrase_query(doc, df, n_docs)
        if made is None:
            continue
        query, new_text = made
        queries.append(query)
        texts[doc.id] = new_text
    if not queries:
        raise CollectionError(
            f"None of the {n_docs} sampled documents can give a probe query (each needs a "
            "title in its metadata or a few words of text); pass labelled queries instead."
        )
    final_pool = [ProbeDoc(d.id, texts[d.id], d.metadata) for d in pool]
    return ProbeSet(queries, final_pool, "label-free")


def _dedupe(docs: Iterable[ProbeDoc]) -> list[ProbeDoc]:
    """Drop repeated ids and repeated (whitespace-normalised) texts, keep the first."""
    seen_ids: set[str] = set()
    seen_texts: set[str] = set()
    out: list[ProbeDoc] = []
    for doc in docs:
        key = " ".join((doc.text or "").split())
        if doc.id in seen_ids or key in seen_texts:
            continue
        seen_ids.add(doc.id)
        seen_texts.add(key)
        out.append(doc)
    return out


def _document_frequency(pool: Sequence[ProbeDoc]) -> Counter[str]:
    df: Counter[str] = Counter()
    for doc in pool:
        df.update(set(_terms(doc.text)))
    return df


def _idf(term: str, df: Counter[str], n_docs: int) -> float:
    return math.log((n_docs + 1) / (df.get(term, 0) + 0.5))


def _joiner(text: str) -> str:
    return "" if is_unspaced(text) else " "


def _ict_query(
    doc: ProbeDoc,
    rng: random.Random,
    df: Counter[str],
    n_docs: int,
    *,
    mask_min_terms: int | None = None,
) -> tuple[ProbeQuery, str] | None:
    """Cut a middle sentence; optionally mask its rare words that the rest of the document has.

    ``mask_min_terms`` overrides :data:`MASK_MIN_TERMS` for this call.
    """
    sentences = split_sentences(doc.text)
    if len(sentences) < 3:
        return None
    candidates = [i for i in range(1, len(sentences) - 1) if 4 <= len(_terms(sentences[i])) <= 60]
    if not candidates:
        return None
    i = rng.choice(candidates)
    sentence = sentences[i]
    rest_sentences = sentences[:i] + sentences[i + 1 :]
    rest = _joiner(doc.text).join(rest_sentences)
    query = _mask_shared_rare(sentence, rest, df, n_docs, min_terms=mask_min_terms)
    if len(_terms(query)) < 3:
        return None
    return ProbeQuery(query, frozenset({doc.id}), "ict"), rest


def _mask_shared_rare(
    sentence: str, rest: str, df: Counter[str], n_docs: int, *, min_terms: int | None = None
) -> str:
    """Remove the sentence's rarest terms that also occur in ``rest``.

    ``max(min_terms, MASK_SHARE x distinct terms)`` of them (``min_terms`` defaults to
    :data:`MASK_MIN_TERMS`); terms with idf below :data:`MASK_MIN_IDF` are never masked. Rare
    shared terms are the ones that let a lexical matcher find the document by copying; the
    remaining words and the sentence's meaning must carry the match.
    """
    rest_terms = set(_terms(rest))
    terms = _terms(sentence)
    if not terms:
        return sentence
    floor = MASK_MIN_TERMS if min_terms is None else min_terms
    budget = max(floor, int(len(set(terms)) * MASK_SHARE))
    if budget <= 0:
        return sentence
    shared = {t for t in set(terms) if t in rest_terms}
    rare = sorted(shared, key=lambda t: (-_idf(t, df, n_docs), t))
    to_mask = [t for t in rare if _idf(t, df, n_docs) > MASK_MIN_IDF][:budget]
    if not to_mask:
        return sentence
    if is_unspaced(sentence):
        out = sentence
        for term in sorted(to_mask, key=len, reverse=True):
            out = out.replace(term, _MASK)
        return re.sub(r"\s+", " ", out).strip()
    masked = set(to_mask)
    pieces = []
    for match in re.finditer(r"\S+", sentence):
        word = match.group(0)
        if any(t in masked for t in tokenize(word)):
            continue
        pieces.append(word)
    return " ".join(pieces)


def _title_query(doc: ProbeDoc) -> tuple[ProbeQuery, str] | None:
    if not doc.metadata:
        return None
    for key in TITLE_KEYS:
        value = doc.metadata.get(key)
        if isinstance(value, str) and value.strip():
            title = value.strip()
            if title in doc.text or len(_terms(title)) < 2:
                continue  # a verbatim or one-word title tests nothing
            return ProbeQuery(title, frozenset({doc.id}), "title"), doc.text
    return None


def _keyphrase_query(
    doc: ProbeDoc, df: Counter[str], n_docs: int, k: int = 5
) -> tuple[ProbeQuery, str] | None:
    terms = [t for t in _terms(doc.text) if not t.isdigit()]
    if len(set(terms)) < 3:
        return None
    tf = Counter(terms)
    scored = sorted(tf, key=lambda t: (-tf[t] * _idf(t, df, n_docs), t))
    chosen = scored[:k]
    return ProbeQuery(_joiner(doc.text).join(chosen), frozenset({doc.id}), "keyphrase"), doc.text


_LLM_PROMPT = (
    "Write one question, in the same language as the passage, that a person might ask a search "
    "engine and that this passage answers. Do not copy phrases from the passage. Reply with the "
    "question only.\n\nPassage:\n{passage}"
)


def _llm_query(doc: ProbeDoc, llm: Any) -> tuple[ProbeQuery, str] | None:
    """One question written by a LangChain chat model; ``None`` if it answers nothing usable."""
    reply = llm.invoke(_LLM_PROMPT.format(passage=doc.text[:2000]))
    content = getattr(reply, "content", reply)
    if isinstance(content, list):  # content blocks
        content = " ".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block)
            for block in content
        )
    text = str(content or "").strip().splitlines()[0].strip() if str(content or "").strip() else ""
    if len(_terms(text)) < 2 or text in doc.text:
        return None
    return ProbeQuery(text, frozenset({doc.id}), "llm"), doc.text
