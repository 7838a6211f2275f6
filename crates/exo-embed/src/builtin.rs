//! The built-in embedder: all-MiniLM-L6-v2 with int8 weights compiled into the binary.
//! Loading is lazy (the first embed call), so commands that never embed pay nothing.

use std::sync::OnceLock;

use crate::error::{EmbedError, Result};
use crate::kernel::Kernel;
use crate::minilm::{HIDDEN, MiniLm};
use crate::tensors::Tensors;
use crate::{Embedder, EmbedderId};

static WEIGHTS: &[u8] = include_bytes!("../model/minilm-l6-v2-int8.safetensors");
static VOCAB: &str = include_str!("../model/vocab.txt");

pub const MODEL_NAME: &str = "all-MiniLM-L6-v2";
const QUANTIZATION: &str = "int8-per-row";
/// Bump when the forward pass changes what vectors it produces.
const VERSION: &str = "1";

type Loaded = std::result::Result<MiniLm, String>;

/// The model with the detected kernel, loaded once per process: a long-running face (the MCP
/// server, `exo watch`) opens the vault per request, and unpacking the weights again each
/// time was most of a warm hybrid search.
static SHARED: OnceLock<Loaded> = OnceLock::new();

/// Where an instance's loaded model lives.
enum Slot {
    /// The process-wide model (the detected kernel).
    Shared,
    /// A model of its own, for a kernel chosen by hand.
    Own(Box<OnceLock<Loaded>>),
}

pub struct BuiltinMiniLm {
    slot: Slot,
    kernel: Kernel,
}

impl Default for BuiltinMiniLm {
    fn default() -> Self {
        BuiltinMiniLm { slot: Slot::Shared, kernel: Kernel::detect() }
    }
}

impl BuiltinMiniLm {
    /// The model with the fastest kernel this CPU has ([`Kernel::detect`]).
    pub fn new() -> BuiltinMiniLm {
        BuiltinMiniLm::default()
    }

    /// The model with the given kernel, for benchmarks and tests that compare paths; an
    /// error if this CPU cannot run it.
    pub fn with_kernel(kernel: Kernel) -> Result<BuiltinMiniLm> {
        Ok(BuiltinMiniLm { slot: Slot::Own(Box::default()), kernel: kernel.checked()? })
    }

    /// The kernel that runs the linear layers.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    fn model(&self) -> Result<&MiniLm> {
        let slot = match &self.slot {
            Slot::Shared => &SHARED,
            Slot::Own(own) => own,
        };
        let loaded = slot.get_or_init(|| {
            let tensors = Tensors::parse(WEIGHTS).map_err(|e| e.to_string())?;
            MiniLm::load(&tensors, VOCAB, self.kernel).map_err(|e| e.to_string())
        });
        loaded.as_ref().map_err(|e| EmbedError::Model(e.clone()))
    }

    /// Token ids as the model sees them ([CLS] … [SEP], at most 256).
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self.model()?.tokenize(text))
    }

    pub fn embed_ids(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        self.model()?.embed_ids(ids)
    }
}

impl Embedder for BuiltinMiniLm {
    fn id(&self) -> EmbedderId {
        EmbedderId {
            model: MODEL_NAME.into(),
            dims: HIDDEN,
            quantization: QUANTIZATION.into(),
            version: VERSION.into(),
        }
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.model()?.embed(texts)
    }

    fn batch_size(&self) -> usize {
        256
    }
}
