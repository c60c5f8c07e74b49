"""CPU kind detection for the int8 export, on real-looking /proc/cpuinfo and sysctl texts."""

from __future__ import annotations

import pytest

from autoembedding.adapters import cpu
from autoembedding.adapters.cpu import CPU_KINDS, parse_cpuinfo
from autoembedding.adapters.export.config import QuantConfig, config_for_cpu

# Abridged from real machines: only the lines the parser reads, flags as the kernel prints them.
INTEL_ICELAKE = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu vme de pse tsc msr sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 avx512f \
avx512dq avx512cd avx512bw avx512vl avx512_vnni avx512_bitalg
processor\t: 1
flags\t\t: fpu sse2
"""
AMD_EPYC_AVX2 = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme de pse tsc msr pae sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm \
pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand avx2 bmi2
"""
# Alder Lake: AVX-VNNI (256-bit) but no AVX-512: the avx2 kind.
INTEL_AVX_VNNI = (
    "model name : 12th Gen Intel(R) Core(TM) i7-1265U\nflags : sse2 avx avx2 fma avx_vnni\n"
)
GRAVITON = """processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm \
lrcpc dcpop asimddp ssbs
CPU implementer\t: 0x41
"""
MAC_INTEL_SYSCTL = """machdep.cpu.brand_string: Intel(R) Core(TM) i9-10910 CPU @ 3.60GHz
machdep.cpu.features: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR SSE SSE2 AVX1.0
machdep.cpu.leaf7_features: RDWRFSGS TSC_THREAD_OFFSET BMI1 AVX2 SMEP BMI2 AVX512F AVX512BW \
AVX512VNNI
"""


@pytest.mark.parametrize(
    ("text", "machine", "kind", "model"),
    [
        (INTEL_ICELAKE, "x86_64", "avx512_vnni", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"),
        (AMD_EPYC_AVX2, "x86_64", "avx2", "AMD EPYC"),
        (INTEL_AVX_VNNI, "x86_64", "avx2", "12th Gen Intel(R) Core(TM) i7-1265U"),
        (GRAVITON, "aarch64", "arm64", ""),
        (MAC_INTEL_SYSCTL, "x86_64", "avx512_vnni", "Intel(R) Core(TM) i9-10910 CPU @ 3.60GHz"),
        ("", "arm64", "arm64", ""),  # Apple silicon: sysctl has no flags, the machine decides
        ("flags : fpu sse sse2 sse4_2\n", "x86_64", "generic", ""),
        ("", "riscv64", "generic", ""),
    ],
)
def test_parse_cpuinfo_kinds(text, machine, kind, model):
    info = parse_cpuinfo(text, machine=machine)
    assert info.kind == kind
    assert info.model == model
    assert info.kind in CPU_KINDS


def test_only_the_first_flags_line_counts_and_flags_name_the_decision():
    info = parse_cpuinfo(INTEL_ICELAKE, machine="x86_64")
    assert info.flags == ("avx512_vnni", "avx512bw")
    assert "asimddp" in parse_cpuinfo(GRAVITON, machine="aarch64").flags
    # VNNI without AVX-512BW is not enough for the 512-bit kernels
    assert parse_cpuinfo("flags : avx2 avx512_vnni\n", machine="x86_64").kind == "avx2"


def test_env_overrides_detection_and_rejects_unknown_kinds(monkeypatch):
    monkeypatch.setenv(cpu.CPU_KIND_ENV, "arm64")
    assert cpu.cpu_kind() == "arm64"
    assert cpu.describe_cpu().startswith("arm64 (")
    monkeypatch.setenv(cpu.CPU_KIND_ENV, "sse9")
    with pytest.raises(ValueError, match="sse9"):
        cpu.cpu_kind()


def test_detection_reads_the_system_once(monkeypatch):
    monkeypatch.delenv(cpu.CPU_KIND_ENV, raising=False)
    monkeypatch.setattr(cpu, "_system_text", lambda: AMD_EPYC_AVX2)
    monkeypatch.setattr(cpu.platform, "machine", lambda: "x86_64")
    cpu._detected.cache_clear()
    try:
        assert cpu.describe_cpu() == "avx2 (x86_64, AMD EPYC: avx2 fma)"
    finally:
        cpu._detected.cache_clear()


def test_numpy_probe_is_the_fallback_when_the_system_says_nothing(monkeypatch):
    monkeypatch.delenv(cpu.CPU_KIND_ENV, raising=False)
    monkeypatch.setattr(cpu, "_system_text", lambda: "")
    monkeypatch.setattr(cpu, "_numpy_flags_text", lambda: "flags : AVX AVX2 FMA3")
    monkeypatch.setattr(cpu.platform, "machine", lambda: "AMD64")  # Windows spelling
    cpu._detected.cache_clear()
    try:
        assert cpu.cpu_kind() == "avx2"
    finally:
        cpu._detected.cache_clear()


def test_every_kind_has_a_config_and_the_configs_round_trip():
    for kind in CPU_KINDS:
        config = config_for_cpu(kind)
        assert QuantConfig.from_dict(config.to_dict()) == config
    assert config_for_cpu("unknown") == config_for_cpu("generic")
    with pytest.raises(ValueError, match="attention"):
        QuantConfig(attention="flash")
