# The README's two Quickstart commands: `make demo` and `make test`.
.PHONY: setup demo test lint bench

setup:
	bash scripts/setup.sh

demo: setup
	.venv/bin/autoembed demo

test: setup
	.venv/bin/python -m pytest --run-slow

lint: setup
	.venv/bin/ruff check autoembedding tests benchmarks examples scripts
	.venv/bin/ruff format --check autoembedding tests benchmarks examples scripts
	.venv/bin/mypy

bench: setup
	.venv/bin/python -m pytest benchmarks --benchmark-only
