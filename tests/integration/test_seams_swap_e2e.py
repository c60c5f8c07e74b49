"""Issue 11, "Done when" bullet 2: a swap reaches the app the README shows.

Process A builds and queries a zero-config LangChain app (``chroma_store``) on 100 bundled SciFact
abstracts with real offline models; the user's cache holds a saved choice for its collection
naming the old model (an earlier probe's choice, keyed by the collection, issue 24.6; so the test
does not spend its time probing), which the first write records in the collection. Process B
moves the collection with ``autoembed swap``; A's next query, and a fresh process C running the
same unchanged code from another directory (the saved choice still names the old model), both
use the new model, and their hit@3 equals the new model's own (brute force, computed here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from scifact_subset import scifact_subset

from autoembedding.adapters import get_adapter
from autoembedding.integrations.choice import ModelChoice, choice_key, load_choice, save_choice

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore::autoembedding.errors.TruncationWarning"),
]

# The cheaper model is the new one: it embeds the corpus twice here (swap, reference), the old
# one once. Abstracts are cut to MAX_CHARS to keep the test near a minute on 2 cores.
OLD = "sentence-transformers/all-MiniLM-L6-v2:onnx-int8"
NEW = "sentence-transformers/paraphrase-MiniLM-L3-v2:onnx"
N_DOCS, N_CLAIMS, K, MAX_CHARS = 100, 30, 3, 400

#: The app, as the README shows it; reads commands on stdin, answers one JSON line each.
APP = textwrap.dedent(
    """
    import json, sys
    from autoembedding.integrations.langchain import chroma_store

    db, data = sys.argv[1], json.load(open(sys.argv[2]))
    store = chroma_store("scifact", persist_directory=db)

    def hit_at_k():
        hits = 0
        for claim, judged in data["claims"]:
            found = store.similarity_search(claim, k=data["k"])
            hits += any(doc.id in judged for doc in found)
        return hits / len(data["claims"])

    for line in sys.stdin:
        command = line.strip()
        if command == "build":
            ids, texts = zip(*data["docs"])
            store.add_texts(list(texts), ids=list(ids))
            answer = {"built": len(ids)}
        elif command == "query":
            answer = {"hit": hit_at_k()}
        else:
            break
        answer["model"] = store.embeddings.adapter.model_id
        print(json.dumps(answer), flush=True)
    """
)


class App:
    """Process A: the app, alive across the swap."""

    def __init__(self, script: Path, db: Path, data: Path, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(db), str(data)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**os.environ, "TQDM_DISABLE": "1"},
        )

    def ask(self, command: str) -> dict:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=30)
            raise AssertionError(f"the app died: {self.proc.stderr.read()}")  # type: ignore[union-attr]
        return json.loads(line)

    def close(self) -> str:
        if self.proc.poll() is None:
            self.proc.communicate("quit\n", timeout=60)
        return ""


def _reference_hit(docs: list[tuple[str, str]], claims: list[tuple[str, list[str]]]) -> float:
    """hit@K of NEW by brute-force cosine (what the swapped collection must give)."""
    model = get_adapter(NEW)
    doc_vecs = model.embed_documents([text for _, text in docs])
    ids = [i for i, _ in docs]
    hits = 0
    for claim, judged in claims:
        scores = doc_vecs @ model.embed_query(claim)
        top = [ids[j] for j in np.argsort(-scores)[:K]]
        hits += any(i in judged for i in top)
    return hits / len(claims)


def test_a_cli_swap_reaches_the_running_app_and_a_fresh_one(tmp_path, test_data):
    rows, claims = scifact_subset(test_data, n_docs=N_DOCS, n_claims=N_CLAIMS, max_chars=MAX_CHARS)
    docs = [(doc_id, f"{title}. {text}") for doc_id, title, text in rows]
    judged = [(claim, sorted(ids)) for claim, ids in claims]
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"docs": docs, "claims": judged, "k": K}))
    script = tmp_path / "app.py"
    script.write_text(APP)
    db, cwd, other_cwd = tmp_path / "db", tmp_path / "app", tmp_path / "elsewhere"
    cwd.mkdir()
    other_cwd.mkdir()
    cached = ModelChoice(get_adapter(OLD).record(), "probe", "an earlier probe picked it")
    import chromadb

    empty = chromadb.PersistentClient(path=str(db)).get_or_create_collection("scifact")
    key = choice_key(empty)  # where chroma_store("scifact", persist_directory=db) looks
    save_choice(cached, key=key)

    app = App(script, db, data, cwd)
    try:
        assert app.ask("build") == {"built": N_DOCS, "model": OLD}
        before = app.ask("query")
        assert before["model"] == OLD

        swap = subprocess.run(
            [sys.executable, "-m", "autoembedding.cli", "swap", "--chroma-path", str(db),
             "--collection", "scifact", "--model", NEW, "--verify-sample", "8", "--no-progress"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert swap.returncode == 0, swap.stderr
        time.sleep(1.1)  # the app re-checks the record at most once a second

        after = app.ask("query")
    finally:
        app.close()
    fresh = subprocess.run(
        [sys.executable, str(script), str(db), str(data)],
        input="query\n", capture_output=True, text=True, timeout=300, cwd=other_cwd,
    )  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    fresh_answer = json.loads(fresh.stdout.strip().splitlines()[-1])
    stale = load_choice(key=key)
    assert stale is not None and stale.record.model_id == OLD  # the stale cache is still there

    expected = _reference_hit(docs, judged)
    assert after == {"hit": pytest.approx(expected), "model": NEW}
    assert fresh_answer == {"hit": pytest.approx(expected), "model": NEW}
