"""The Quickstart and the examples run for real, their output checked (#25.1, #24.11, #24.12).

``autoembed demo`` (what ``make demo`` runs) probes every offline candidate, swaps the collection to
the winner and answers the bundled questions as the record says; the examples the README calls
runnable print their answers. Each runs in a new process, as a user runs it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: int = 600) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "TQDM_DISABLE": "1"},
    )
    assert done.returncode == 0, (
        f"{args} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def test_demo_probes_swaps_to_the_winner_and_answers_every_question(tmp_path):
    import chromadb

    from autoembedding.chroma.records import read_record
    from autoembedding.data import demo_queries
    from autoembedding.swap.journal import mode_label

    out = _run("-m", "autoembedding", "demo", "--path", str(tmp_path / "db"))
    total = len(demo_queries())
    assert f"{total}/{total} questions found their passage in the top 3." in out
    winner = re.search(r"^Winner: (\S+)\.", out, re.M)
    assert winner is not None, out
    record = read_record(
        chromadb.PersistentClient(str(tmp_path / "db")).get_collection("autoembed-demo")
    )
    assert record is not None
    if "3. No swap needed" not in out:
        # The swap's summary: its time, the backup kept and the undo command.
        assert re.search(r"Undo with: autoembed swap --undo|undo with: autoembed swap --undo", out)
        assert "backup" in out
        assert mode_label(record).startswith(winner.group(1))  # a tokenizer may follow
    assert "The database is kept at" in out


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("langchain_rag.py", [r"retrieved: Python was created by Guido van Rossum", r"answer: "]),
        (
            "llama_index_rag.py",
            [r"\d\.\d{3}  Mount Everest is the highest", r"recorded model: \S+"],
        ),
        (
            "chroma_function.py",
            [r"\[\['The Great Barrier Reef", r"refused: ", r"guarded reopen uses: "],
        ),
        (
            "follow_a_swap.py",
            [
                r"1 after the probe: serves dense \(\S+\): Python was created",
                r"2 after swap --model bm25: serves lexical \(\S+\): Python was created",
                r"3 after swap --undo: serves dense \(\S+\): Python was created",
            ],
        ),
    ],
)
def test_examples_print_their_answers(example, expected):
    out = _run(str(ROOT / "examples" / example))
    for pattern in expected:
        assert re.search(pattern, out), f"{example}: no {pattern!r} in:\n{out}"
