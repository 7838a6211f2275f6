//! Which code runs the model's linear layers: chosen once per embedder, from what the CPU
//! has, and forcible (benchmarks compare paths, tests run every path the CPU can).

use crate::error::{EmbedError, Result};

/// How the built-in model's linear layers are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
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
    pub const ALL: [Kernel; 4] = [Kernel::Avx512Vnni, Kernel::AvxVnni, Kernel::Int8Portable, Kernel::F32];

    /// The fastest kernel this CPU can run. The portable int8 kernel is never chosen: it is
    /// slower than the f32 SGEMMs.
    pub fn detect() -> Kernel {
        [Kernel::Avx512Vnni, Kernel::AvxVnni].into_iter().find(|k| k.is_available()).unwrap_or(Kernel::F32)
    }

    pub fn is_available(self) -> bool {
        match self {
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
