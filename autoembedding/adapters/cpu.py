"""Which integer kernels this CPU has: the kind an int8 export is chosen and cached for.

ONNX Runtime's int8 matrix products (``MatMulInteger``, ``DynamicQuantizeMatMul``, ``QAttention``)
run on different instructions per CPU, and the best quantisation differs with them:

* ``avx512_vnni``: x86 with AVX-512 VNNI (``vpdpbusd``): u8 x s8 products summed in int32, no
  intermediate saturation;
* ``avx2``: x86 with AVX2 only (``vpmaddubsw``): u8 x s8 pairs summed in int16, which can
  saturate, so weights are best kept to 7 bits (``reduce_range``);
* ``arm64``: 64-bit ARM (NEON, ``sdot``/``udot`` where present);
* ``generic``: anything else (plain SSE or unknown): int8 still works, with little gain.

:func:`cpu_kind` detects it from ``/proc/cpuinfo`` (Linux), ``sysctl`` (macOS),
:func:`platform.machine` and, where those say nothing, NumPy's own CPU feature probe;
:func:`describe_cpu` is the one line to print (``autoembed models``).

Example:
    >>> parse_cpuinfo("flags : fpu sse2 avx avx2 fma", machine="x86_64").kind
    'avx2'
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CPU_KINDS", "CpuInfo", "cpu_kind", "describe_cpu", "detect_cpu", "parse_cpuinfo"]

#: Every kind :func:`cpu_kind` can return, fastest integer kernels first.
CPU_KINDS: tuple[str, ...] = ("avx512_vnni", "avx2", "arm64", "generic")

#: Environment variable that overrides detection (one of :data:`CPU_KINDS`).
CPU_KIND_ENV = "AUTOEMBEDDING_CPU_KIND"

_ARM_MACHINES = frozenset({"aarch64", "arm64", "armv8l", "armv8b"})
_X86_MACHINES = frozenset({"x86_64", "amd64", "i386", "i686", "x86"})


@dataclass(frozen=True)
class CpuInfo:
    """What :func:`detect_cpu` found.

    Attributes:
        kind: One of :data:`CPU_KINDS`.
        machine: The architecture (``platform.machine()``, lower case).
        model: The processor's name, when the system says it ("" otherwise).
        flags: The instruction-set flags that decided :attr:`kind` (subset of the CPU's flags).
    """

    kind: str
    machine: str
    model: str = ""
    flags: tuple[str, ...] = ()


def _kind_from_flags(flags: set[str], machine: str) -> tuple[str, tuple[str, ...]]:
    if machine in _ARM_MACHINES:
        seen = tuple(sorted(flags & {"asimd", "asimddp", "i8mm", "neon"}))
        return "arm64", seen
    if {"avx512_vnni", "avx512vnni"} & flags and "avx512bw" in flags:
        return "avx512_vnni", tuple(sorted(flags & {"avx512bw", "avx512_vnni", "avx512vnni"}))
    if "avx2" in flags:
        return "avx2", tuple(sorted(flags & {"avx2", "fma", "avx_vnni"}))
    return "generic", ()


def parse_cpuinfo(text: str, *, machine: str) -> CpuInfo:
    """Read the CPU kind from the text of ``/proc/cpuinfo`` (or ``sysctl`` output).

    The first ``flags`` (x86) or ``Features`` (ARM) line counts; on macOS the
    ``machdep.cpu.*features`` lines of ``sysctl`` work the same way.

    Args:
        text: The file's text.
        machine: The architecture, as ``platform.machine()`` says it (``x86_64``, ``aarch64``).

    Returns:
        The :class:`CpuInfo`; ``generic`` when no flags line says more.
    """
    machine = machine.lower()
    flags: set[str] = set()
    model = ""
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in ("flags", "features") and not flags:
            flags = {flag.lower().replace(".", "_") for flag in value.split()}
        elif key.startswith("machdep.cpu.") and key.endswith("features"):
            flags |= {flag.lower().replace(".", "_") for flag in value.split()}
        elif key in ("model name", "machdep.cpu.brand_string") and not model:
            model = value.strip()
    kind, decided_by = _kind_from_flags(flags, machine)
    return CpuInfo(kind=kind, machine=machine, model=model, flags=decided_by)


def _system_text() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        try:
            return cpuinfo.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    if sys.platform == "darwin":
        try:
            done = subprocess.run(
                ["sysctl", "machdep.cpu"], capture_output=True, text=True, timeout=5, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout
    return ""


def _numpy_flags_text() -> str:
    """NumPy's own run-time CPU feature probe, as a ``flags`` line (Windows, macOS fallback)."""
    import importlib

    features: dict[str, bool] = {}
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # 2.x, 1.x
        try:
            features = dict(importlib.import_module(module).__cpu_features__)
            break
        except (ImportError, AttributeError):
            continue
    return "flags : " + " ".join(name for name, present in features.items() if present)


@functools.lru_cache(maxsize=1)
def _detected() -> CpuInfo:
    machine = platform.machine() or "unknown"
    info = parse_cpuinfo(_system_text(), machine=machine)
    if info.kind == "generic" and not info.flags:
        fallback = parse_cpuinfo(_numpy_flags_text(), machine=machine)
        info = CpuInfo(fallback.kind, info.machine, info.model, fallback.flags)
    return info


def detect_cpu() -> CpuInfo:
    """Detect this machine's CPU kind (once per process; ``$AUTOEMBEDDING_CPU_KIND`` overrides).

    Returns:
        The :class:`CpuInfo`.

    Raises:
        ValueError: If ``$AUTOEMBEDDING_CPU_KIND`` is set to something not in :data:`CPU_KINDS`.
    """
    info = _detected()
    forced = os.environ.get(CPU_KIND_ENV, "").strip()
    if not forced:
        return info
    if forced not in CPU_KINDS:
        raise ValueError(f"${CPU_KIND_ENV}={forced!r}; expected one of {', '.join(CPU_KINDS)}.")
    return CpuInfo(kind=forced, machine=info.machine, model=info.model, flags=(f"{CPU_KIND_ENV}",))


def cpu_kind() -> str:
    """The CPU kind int8 exports are chosen for here: one of :data:`CPU_KINDS`."""
    return detect_cpu().kind


def describe_cpu() -> str:
    """One line saying what was detected, e.g. ``avx2 (x86_64, AMD EPYC: avx2 fma)``."""
    info = detect_cpu()
    details = ", ".join(part for part in (info.machine, info.model) if part)
    flags = f": {' '.join(info.flags)}" if info.flags else ""
    return f"{info.kind} ({details}{flags})"
