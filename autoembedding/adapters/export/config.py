"""How an int8 export is built: one :class:`QuantConfig`, chosen per CPU kind.

The settings were measured on all-MiniLM-L6-v2 on an AVX2-only AMD EPYC (``benchmarks/int8_speed.py
--sweep``; docs/benchmarks.md, "The int8 fast path"): weights need one scale per output channel
(per tensor: mean cosine to PyTorch 0.93); exporting the attention in its eager form lets ONNX
Runtime's optimiser fuse it into one ``Attention`` node per layer (faster than the unfused
``sdpa`` graph, whose ``Where``/``IsNaN`` mask nodes cost ~7%); quantising the attention's own
products (``QAttention``, or the unfused QK^T/AV MatMuls) lowers agreement (0.993 and 0.988) for
no measurable speed, so only the projection and feed-forward MatMuls run in int8. 7-bit weights
(``reduce_range``) cost nothing in speed and a little agreement on AVX2, where no saturation showed
on real text; they are kept only for ``generic`` CPUs (SSSE3 ``pmaddubsw`` paths, not measured).
On ``avx512_vnni`` and ``arm64`` the same config is used (not measured here).

Example:
    >>> config_for_cpu("avx2").per_channel
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = ["CPU_CONFIGS", "QuantConfig", "config_for_cpu"]


@dataclass(frozen=True)
class QuantConfig:
    """The knobs of :func:`~autoembedding.adapters.export.export_int8`.

    Attributes:
        per_channel: One weight scale per output channel (else one per tensor).
        reduce_range: Quantise weights to 7 bits (avoids int16 saturation on AVX2 kernels).
        attention: ``"eager"`` exports the textbook attention (fused by the optimiser into one
            ``Attention`` node per layer); ``"sdpa"`` exports PyTorch's scaled-dot-product form
            (not fused: separate MatMul/Softmax/Where nodes).
        op_types: Operator types to quantise (``"MatMul"``; ``"Attention"`` gives
            ``QAttention``, whose Q/K/V projection runs in int8; ``"Gather"`` the embeddings).
        attention_matmuls: Also quantise MatMuls whose both inputs are activations (the
            unfused attention's QK^T and AV), dynamically, per batch.
        optimizer_level: ONNX Runtime graph optimisation applied by the transformer optimiser
            before quantising (0 none, 1 basic, 2 extended; 99 is hardware-specific, not used).
        opset: ONNX opset of the export.
    """

    per_channel: bool = True
    reduce_range: bool = False
    attention: str = "eager"
    op_types: tuple[str, ...] = ("MatMul",)
    attention_matmuls: bool = False
    optimizer_level: int = 1
    opset: int = 17

    def __post_init__(self) -> None:
        if self.attention not in ("eager", "sdpa"):
            raise ValueError(f"attention must be 'eager' or 'sdpa', got {self.attention!r}.")
        if self.optimizer_level not in (0, 1, 2):
            raise ValueError(f"optimizer_level must be 0, 1 or 2, got {self.optimizer_level}.")
        if not self.op_types:
            raise ValueError("op_types must name at least one operator type.")

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON-ready values (what the manifest and the cache key hold)."""
        data = asdict(self)
        data["op_types"] = list(self.op_types)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuantConfig:
        """Rebuild a config from :meth:`to_dict` output."""
        values = dict(data)
        values["op_types"] = tuple(values.get("op_types", cls.op_types))
        return cls(**values)

    def but(self, **changes: Any) -> QuantConfig:
        """A copy with some settings changed."""
        return replace(self, **changes)


_BASE = QuantConfig()

#: The config used on each CPU kind (see :mod:`autoembedding.adapters.cpu`).
CPU_CONFIGS: dict[str, QuantConfig] = {
    "avx512_vnni": _BASE,
    "avx2": _BASE,
    "arm64": _BASE,
    "generic": _BASE.but(reduce_range=True),
}


def config_for_cpu(kind: str) -> QuantConfig:
    """The quantisation settings for a CPU kind (``generic``'s for an unknown one)."""
    return CPU_CONFIGS.get(kind, CPU_CONFIGS["generic"])
