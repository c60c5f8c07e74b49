"""Compare candidate embedding models on your own texts: speed and hit@k in one table.

Run from this folder:

    pytest --benchmark-autosave          # measure and save (.benchmarks/)
    pytest --benchmark-compare           # measure again and show the saved run beside it

or pick the models on the command line:

    pytest --autoembedding-candidates minilm,minilm-int8
"""


def test_embed_documents(
    benchmark, autoembedding_candidate, autoembedding_texts, autoembedding_hit_at_k
):
    """Throughput on your texts, with hit@k of the same model recorded beside the timings."""
    benchmark.group = "embed documents"
    benchmark(autoembedding_candidate.embed_documents, autoembedding_texts)
    autoembedding_hit_at_k(
        benchmark, autoembedding_candidate, texts_per_round=len(autoembedding_texts)
    )


def test_embed_query(benchmark, autoembedding_candidate, autoembedding_hit_at_k):
    """Latency of one query."""
    benchmark.group = "embed one query"
    benchmark(autoembedding_candidate.embed_query, "how do I keep my sourdough starter alive?")
    autoembedding_hit_at_k(benchmark, autoembedding_candidate, texts_per_round=1)
