//! Which code runs the model's linear layers: chosen once per embedder, from what the CPU
//! has, and forcible (benchmarks compare paths, tests run every path the CPU can).

use crate::error::{EmbedError, Result};

/// How the built-in model's linear layers are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// int8 × int8 → int32 on AMX tiles (`tdpbusd`, Sapphire Rapids and later), where the OS
    /// lets the process use them; the rest of the layer as with AVX-512 VNNI.
    Amx,
    /// int8 × int8 → int32 with AVX-512 VNNI (`vpdpbusd` on 512 bits).
    Avx512Vnni,
    /// int8 × int8 → int32 with AVX-VNNI (`vpdpbusd` on 256 bits, e.g. Alder Lake).
    AvxVnni,
    /// The same int8 arithmetic in plain Rust: slow, runs anywhere; it lets the int8 path be
    /// tested on a CPU without VNNI.
    Int8Portable,
    /// Dequantised weights and f32 SGEMMs (AVX2 + FMA when the CPU has them): the path of
    /// CPUs without VNNI.
    F32,
}

impl Kernel {
    pub const ALL: [Kernel; 5] = [Kernel::Amx, Kernel::Avx512Vnni, Kernel::AvxVnni, Kernel::Int8Portable, Kernel::F32];

    /// The fastest kernel this CPU can run. The portable int8 kernel is never chosen: it is
    /// slower than the f32 SGEMMs.
    pub fn detect() -> Kernel {
        fastest(Kernel::is_available)
    }

    pub fn is_available(self) -> bool {
        match self {
            Kernel::Amx => has_amx(),
            Kernel::Avx512Vnni => has_avx512vnni(),
            Kernel::AvxVnni => has_avxvnni(),
            Kernel::Int8Portable | Kernel::F32 => true,
        }
    }

    /// Whether activations are quantised to int8 (every kernel but F32).
    pub fn is_int8(self) -> bool {
        self != Kernel::F32
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Amx => "amx",
            Kernel::Avx512Vnni => "avx512-vnni",
            Kernel::AvxVnni => "avx-vnni",
            Kernel::Int8Portable => "int8-portable",
            Kernel::F32 => "f32",
        }
    }

    /// The kernel called `name` (as [`Kernel::name`] spells it), if this CPU can run it.
    pub fn from_name(name: &str) -> Result<Kernel> {
        let kernel = Kernel::ALL.into_iter().find(|k| k.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Kernel::ALL.iter().map(|k| k.name()).collect();
            EmbedError::Config(format!("kernel {name:?}: use one of {}", names.join(", ")))
        })?;
        kernel.checked()
    }

    /// `self`, or an error saying this CPU cannot run it.
    pub fn checked(self) -> Result<Kernel> {
        if self.is_available() {
            Ok(self)
        } else {
            Err(EmbedError::Config(format!("this CPU cannot run the {} kernel", self.name())))
        }
    }
}

/// The first of the fast kernels, fastest first, that `available` allows; else F32. A CPU with
/// AMX whose OS refuses the tiles falls back to AVX-512 VNNI here.
fn fastest(available: impl Fn(Kernel) -> bool) -> Kernel {
    [Kernel::Amx, Kernel::Avx512Vnni, Kernel::AvxVnni].into_iter().find(|&k| available(k)).unwrap_or(Kernel::F32)
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether the AVX-512 VNNI kernel may run (the standard library caches the checks).
pub(crate) fn has_avx512vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Whether the AVX-VNNI kernel may run.
pub(crate) fn has_avxvnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("avxvnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Whether the AMX kernel may run: AMX-TILE and AMX-INT8 (CPUID leaf 7, EDX bits 24 and 25),
/// the AVX-512 the rest of its layer uses, and the OS's permission to use the tiles, asked for
/// once per process (Linux 5.16+: `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`).
/// Without the permission a tile instruction faults, so a refusal means no AMX.
pub(crate) fn has_amx() -> bool {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    {
        // Asked once: every int8 product checks this, and CPUID is a trap to the hypervisor
        // in a VM.
        static USABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *USABLE.get_or_init(|| has_avx512vnni() && cpu_has_amx_int8() && request_tile_permission())
    }
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    false
}

/// Whether attention may run on the tiles in bf16: [`has_amx`] and AMX-BF16 (CPUID leaf 7,
/// EDX bit 22), which every AMX CPU so far has.
pub(crate) fn has_amx_bf16() -> bool {
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    return has_amx() && cpuid_7_edx() & (1 << 22) != 0;
    #[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
    false
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn cpu_has_amx_int8() -> bool {
    let edx = cpuid_7_edx();
    edx & (1 << 24) != 0 && edx & (1 << 25) != 0
}

/// CPUID leaf 7's EDX (0 when the CPU has no leaf 7), read once: the layer asks per batch,
/// and CPUID is a trap to the hypervisor in a VM.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn cpuid_7_edx() -> u32 {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    static EDX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    #[allow(unused_unsafe)]
    // SAFETY: CPUID exists on every x86-64 CPU; leaf 7 is read only when leaf 0 says it exists.
    *EDX.get_or_init(|| unsafe {
        if __cpuid(0).eax < 7 {
            return 0;
        }
        __cpuid_count(7, 0).edx
    })
}

/// Asks Linux to let this process use the AMX tile data (it then saves the tiles on a
/// context switch); true when granted. A raw `syscall`, to need no libc binding for one call.
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request_tile_permission() -> bool {
    const SYS_ARCH_PRCTL: i64 = 158;
    const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
    const XFEATURE_XTILEDATA: i64 = 18;
    let result: i64;
    // SAFETY: arch_prctl with this request only changes which register state the kernel
    // lets the process use; the syscall clobbers rcx and r11, declared here.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") SYS_ARCH_PRCTL => result,
            in("rdi") ARCH_REQ_XCOMP_PERM,
            in("rsi") XFEATURE_XTILEDATA,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result == 0
}

#[cfg(test)]
mod tests {
    use super::{Kernel, fastest};

    #[test]
    fn detection_takes_the_fastest_kernel_the_cpu_allows() {
        assert_eq!(fastest(|_| true), Kernel::Amx);
        // AMX refused by the OS (or absent): AVX-512 VNNI, then AVX-VNNI, then f32.
        assert_eq!(fastest(|k| k != Kernel::Amx), Kernel::Avx512Vnni);
        assert_eq!(fastest(|k| k == Kernel::AvxVnni || k == Kernel::F32), Kernel::AvxVnni);
        assert_eq!(fastest(|k| k == Kernel::Int8Portable), Kernel::F32, "the portable kernel is never chosen");
        for kernel in Kernel::ALL {
            assert_eq!(Kernel::from_name(kernel.name()).ok(), kernel.is_available().then_some(kernel));
        }
    }
}
