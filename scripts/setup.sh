#!/usr/bin/env bash
# Create .venv and install autoembedding with every extra and the dev tools, offline models included.
# torch==2.13.0 (the CPU build) goes in first so nothing pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
if ! python -c "import torch" 2>/dev/null; then
  python -m pip install -q torch==2.13.0
fi
python -m pip install -q -c requirements/constraints.txt -e '.[all,dev]'
