"""Probe queries: labelled ones when the user has them, label-free ones built from the documents.

Label-free queries must not be verbatim parts of their answers: a sentence left inside its
document is won by any lexical matcher and ranks models by how well they copy words. So the
answer never contains its query, and the documents are embedded whole (see
:mod:`autoembedding.probe`), the way each model will read them in production.
Every sampled document gives one query, of the first kind of the registry
(:data:`~.build.KINDS`) it supports; each kind is one module:

* :mod:`.llm`: a LangChain chat model passed as ``llm`` writes one question per document.
* :mod:`.title`: a ``title`` (or ``Title``, ``heading``, ``name``...) in the metadata becomes the
  query, the document text (less the title, where it copies it) the answer (before ICT for
  half of the titled documents, after it for the rest).
* :mod:`.ict` (Inverse Cloze Task): a middle sentence cut from a document is the query, the
  document *without that sentence* the answer. Masking the sentence's rare words is a parameter,
  off by default.
* :mod:`.keyphrase`: a document too short for ICT and without a title gives a keyword query,
  cut out like ICT's sentence: one piece (a sentence of two, a clause or half of one) leaves
  the document, its most distinctive terms (tf x in-sample idf) are the query, the rest the
  answer.

The rest: :mod:`.text` (sentences, tokens, unspaced scripts), :mod:`.beir` (labelled sets and
BEIR files), :mod:`.probe_set` (the data types), :mod:`.base` (what a kind is),
:mod:`.build` (:func:`build_label_free`).

Example:
    >>> docs = [ProbeDoc("a", "Cats purr. They sleep a lot. They hunt mice at night.")]
    >>> split_sentences(docs[0].text)
    ['Cats purr.', 'They sleep a lot.', 'They hunt mice at night.']

"""

from __future__ import annotations

from autoembedding.probe.queries.beir import labelled_probe_set, load_beir
from autoembedding.probe.queries.build import KINDS, build_label_free
from autoembedding.probe.queries.probe_set import ProbeDoc, ProbeQuery, ProbeSet
from autoembedding.probe.queries.text import is_unspaced, split_sentences, tokenize

__all__ = [
    "KINDS",
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
