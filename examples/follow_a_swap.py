"""Zero-config LangChain store that follows ``autoembed swap``, end to end, offline.

Run: python examples/follow_a_swap.py

1. ``chroma_store`` with no model: the first ``add_texts`` probes the documents and records the
   pick in the collection (here among two small models, to keep the example quick; leave
   ``candidates`` out to let it try every model that loads).
2. A retriever made from the store answers a question.
3. Another process (the CLI) swaps the collection to BM25; the same retriever, unchanged, now
   serves BM25 (the record says so), then the swap is undone and it serves the model again.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import warnings

from autoembedding.integrations.langchain import chroma_store

TEXTS = [
    f"{topic} {detail}"
    for topic in (
        "The Eiffel Tower is in Paris and was finished in 1889.",
        "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
        "The Great Barrier Reef is the largest coral reef system in the world.",
        "Python was created by Guido van Rossum and first released in 1991.",
        "Mount Everest is the highest mountain above sea level.",
        "The Nile flows north through eleven countries into the Mediterranean Sea.",
    )
    for detail in ("It is widely known.", "Many books describe it.", "Students learn it early.")
]
QUESTION = "Who made Python?"


def autoembed(*args: str) -> None:
    """Run the CLI in another process, as a user would in another terminal."""
    subprocess.run([sys.executable, "-m", "autoembedding", *args], check=True)


def main() -> None:
    db = tempfile.mkdtemp()
    # recheck_s=0: re-read the record on every call (the default, 1 s, follows a swap within
    # a second; this example's swaps take less than that)
    store = chroma_store(
        "notes", persist_directory=db, candidates=["minilm-l3", "minilm"], recheck_s=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the probe's notes on a tiny collection
        store.add_texts(TEXTS)
    retriever = store.as_retriever(search_kwargs={"k": 1})

    def ask(step: str) -> None:
        answer = retriever.invoke(QUESTION)[0].page_content  # re-reads the record first
        record = store.binding.record()  # what that search served
        mode = record.retrieval if record else "?"
        print(f"{step}: serves {mode} ({record.model_id if record else '?'}): {answer}")

    print("picked:", store.embeddings.model_name)
    ask("1 after the probe")
    where = ["--chroma-path", db, "--collection", "notes", "--no-progress"]
    autoembed("swap", *where, "--model", "bm25")
    ask("2 after swap --model bm25")
    autoembed("swap", "--undo", *where)
    ask("3 after swap --undo")


if __name__ == "__main__":
    main()
