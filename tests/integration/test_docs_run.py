"""Docs that run: every fenced code block of README.md and docs/*.md is executed.

What runs:

* every ```` ```python ```` block;
* in every ```` ```bash ```` / ```` ```console ```` / ```` ```sh ```` block, each command that
  starts with ``autoembed`` or ``python`` (``pip``, ``make`` and the like are not run; ``$``
  prompts and ``\\`` continuations are handled).

How: one subprocess per Markdown file (:data:`RUNNER`) runs that file's blocks in document order,
Python blocks in one shared namespace (as a reader pasting them into one session would) and shell
commands with ``subprocess`` from the same folder. Each file gets a fresh temporary folder holding
``db/``, an embedded Chroma with a collection ``docs`` of :data:`N_DOCS` SciFact abstracts from
the bundled ``tests/data``, each cut to its first sentences (at most ~500 characters, to keep the
models fast), embedded with ``all-MiniLM-L6-v2`` through ``get_or_create_collection`` (so it
carries a model record): "your collection" in the docs.
Offline: ``HF_HUB_OFFLINE=1``, no network is needed.

Markers, an HTML comment on the line directly above the fence:

* ``<!-- docs-test: skip (REASON) -->``: not run (needs an API key, the Hugging Face hub, a GPU,
  a Ray cluster, ...); the reason is required, and the skipped blocks are counted and printed.
* ``<!-- docs-test: slow -->``: run only with ``--run-slow``.

A failing block fails the test with the file, the block's line and the output.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: SciFact abstracts in the ``docs`` collection each file starts with.
N_DOCS = 40
#: Seconds one file's blocks may take (all files together should stay under ~3 minutes).
FILE_TIMEOUT_S = 240

_FENCE = re.compile(r"^(\s*)```([\w+-]*)\s*$")
_MARK = re.compile(r"^\s*<!--\s*docs-test:\s*(skip|slow)\b\s*(?:\((.*)\))?\s*-->\s*$")
_SHELL = {"bash", "sh", "shell", "console"}
_RUN_PREFIXES = ("autoembed", "python")


@dataclass
class Block:
    """One fenced code block.

    Attributes:
        path: The Markdown file.
        line: 1-based line of the opening fence.
        lang: ``"python"`` or ``"shell"``.
        code: The Python source, or the shell commands (one per item, continuations joined).
        mark: ``""``, ``"skip"`` or ``"slow"``.
        reason: The skip reason.
    """

    path: str
    line: int
    lang: str
    code: str | list[str]
    mark: str = ""
    reason: str = ""


def shell_commands(body: str, console: bool) -> list[str]:
    """The commands of a shell block that start with ``autoembed`` or ``python``."""
    commands: list[str] = []
    current = ""
    for raw in body.splitlines():
        line = raw.strip()
        if console and not current:
            if not line.startswith("$ "):
                continue  # output lines
            line = line[2:]
        if not current and (not line or line.startswith("#")):
            continue
        current = f"{current} {line}" if current else line
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        commands.append(current)
        current = ""
    if current:
        commands.append(current)
    return [c for c in commands if c.split()[0].rsplit("/", 1)[-1].startswith(_RUN_PREFIXES)]


def extract(path: Path, root: Path = ROOT) -> list[Block]:
    """The Python and shell blocks of one Markdown file, with their markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        match = _FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        indent, lang = match.group(1), match.group(2).lower()
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = textwrap.dedent("\n".join(line[len(indent) :] for line in lines[index + 1 : end]))
        mark = _MARK.match(lines[index - 1]) if index else None
        kind = mark.group(1) if mark else ""
        reason = (mark.group(2) or "").strip() if mark else ""
        if kind == "skip" and not reason:
            raise AssertionError(f"{path.name}:{index}: docs-test: skip needs a (reason)")
        rel = str(path.relative_to(root))
        if lang in ("python", "py"):
            blocks.append(Block(rel, index + 1, "python", body, kind, reason))
        elif lang in _SHELL:
            commands = shell_commands(body, console=lang == "console")
            if commands:
                blocks.append(Block(rel, index + 1, "shell", commands, kind, reason))
        index = end + 1
    return blocks


#: Runs one file's blocks (a JSON list of Block dicts in argv[1]) in the current folder.
RUNNER = r"""
import json, os, shlex, subprocess, sys, traceback
blocks = json.loads(open(sys.argv[1], encoding="utf-8").read())
namespace = {"__name__": "__main__"}
bindir = os.path.dirname(sys.executable)
for block in blocks:
    where = f"{block['path']}:{block['line']}"
    print(f"--- {where} ({block['lang']})", flush=True)
    if block["lang"] == "python":
        try:
            exec(compile(block["code"], where, "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            print(f"DOCS-TEST FAILED: {where}", flush=True)
            sys.exit(1)
        continue
    for command in block["code"]:
        argv = shlex.split(command, comments=True)
        if argv[0] == "python":
            argv[0] = sys.executable
        elif os.path.exists(os.path.join(bindir, argv[0])):
            argv[0] = os.path.join(bindir, argv[0])
        print(f"$ {command}", flush=True)
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        print(done.stdout[-4000:], flush=True)
        if done.returncode != 0:
            print(f"DOCS-TEST FAILED: {where}: exit {done.returncode}: {command}", flush=True)
            sys.exit(1)
print("DOCS-TEST OK", flush=True)
"""

#: Makes the ``docs`` collection in ``./db`` (the collection the docs call yours).
SETUP = r"""
import json, sys
import chromadb
from autoembedding.integrations.chroma import get_or_create_collection
rows = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")][: int(sys.argv[2])]
client = chromadb.PersistentClient(path="db")
docs = get_or_create_collection(client, "docs", model="sentence-transformers/all-MiniLM-L6-v2")
texts = []
for row in rows:  # short abstracts keep every model fast: the first sentences, <= ~500 chars
    cut = row["text"][:500]
    texts.append(cut[: cut.rfind(". ") + 1] if ". " in cut else cut)
docs.add(ids=[r["_id"] for r in rows], documents=texts)
print("setup:", docs.count(), "documents in ./db docs")
"""


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        AUTOEMBEDDING_CHOICE_PATH=str(workdir / ".autoembedding" / "choice.json"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
    )
    for name in ("AUTOEMBEDDING_MODEL", "AUTOEMBEDDING_AUTO", "OPENAI_API_KEY", "RAY_ADDRESS"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def template_db(tmp_path_factory: pytest.TempPathFactory, test_data: Path) -> Path:
    """The ``db`` folder every file starts from (made once, copied per file)."""
    workdir = tmp_path_factory.mktemp("docs-template")
    corpus = test_data / "scifact" / "corpus.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", SETUP, str(corpus), str(N_DOCS)],
        cwd=workdir,
        env=_env(workdir),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"setup of ./db failed:\n{done.stdout}\n{done.stderr}"
    return workdir / "db"


# ------------------------------------------------------------------------------- unit checks
def test_extract_finds_marks_and_commands(tmp_path: Path) -> None:
    """The extractor sees markers directly above a fence and only runnable shell commands."""
    md = tmp_path / "x.md"
    md.write_text(
        "text\n\n<!-- docs-test: skip (needs an OpenAI key) -->\n```python\nimport x\n```\n\n"
        "```bash\npip install y\nautoembed probe --a 1 \\\n    --b 2\n# note\n```\n\n"
        "<!-- docs-test: slow -->\n```console\n$ python -V\nPython 3\n```\n\n```toml\nx=1\n```\n"
        "```bash\nmake demo\n```\n",
        encoding="utf-8",
    )
    blocks = extract(md, root=tmp_path)
    assert [(b.lang, b.mark) for b in blocks] == [
        ("python", "skip"),
        ("shell", ""),
        ("shell", "slow"),
    ]
    assert blocks[0].reason == "needs an OpenAI key"
    assert blocks[1].code == ["autoembed probe --a 1 --b 2"]
    assert blocks[2].code == ["python -V"]


def test_every_doc_has_blocks_and_skips_have_reasons() -> None:
    """Each skip names a reason; README and the docs hold blocks to run at all."""
    blocks = [b for path in DOC_FILES for b in extract(path)]
    runnable = [b for b in blocks if b.mark != "skip"]
    assert len(runnable) >= 10, [f"{b.path}:{b.line}" for b in runnable]
    skipped = [b for b in blocks if b.mark == "skip"]
    for block in skipped:
        assert len(block.reason) >= 8, f"{block.path}:{block.line}: vague skip reason"
    print(f"\n{len(runnable)} blocks run, {len(skipped)} skipped:")
    for block in skipped:
        print(f"  skip {block.path}:{block.line}: {block.reason}")


# ------------------------------------------------------------------------------- the docs
def _files_with_blocks() -> list[Path]:
    """The Markdown files holding a block that is not marked skip (others have nothing to run)."""
    return [path for path in DOC_FILES if any(b.mark != "skip" for b in extract(path))]


@pytest.mark.parametrize("path", _files_with_blocks(), ids=lambda p: p.name)
def test_docs_blocks_run(
    path: Path, tmp_path: Path, template_db: Path, request: pytest.FixtureRequest
) -> None:
    """Every runnable block of one Markdown file runs, in order, offline, without an error."""
    run_slow = bool(request.config.getoption("--run-slow"))
    blocks = extract(path)
    todo = [b for b in blocks if b.mark == "" or (b.mark == "slow" and run_slow)]
    left = [b for b in blocks if b not in todo]
    for block in left:
        why = block.reason if block.mark == "skip" else "slow: pass --run-slow"
        print(f"skip {block.path}:{block.line}: {why}")
    if not todo:  # only slow blocks, and no --run-slow: nothing to run in this file
        pytest.skip(f"{path.name}: only slow blocks ({len(left)}); pass --run-slow")
    workdir = tmp_path / "work"
    workdir.mkdir()
    shutil.copytree(template_db, workdir / "db")
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps([asdict(b) for b in todo]), encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(spec)],
            cwd=workdir,
            env=_env(workdir),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=FILE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else (exc.stdout or b"").decode()
        pytest.fail(f"{path.name}: blocks ran over {FILE_TIMEOUT_S} s:\n{out[-6000:]}")
    print(done.stdout[-3000:])
    assert done.returncode == 0 and "DOCS-TEST OK" in done.stdout, (
        f"{path.name}: a block failed:\n{done.stdout[-8000:]}"
    )
    ran = ", ".join(f"{b.line}" for b in todo)
    print(f"{path.name}: ran blocks at lines {ran}; {len(left)} not run")
