//! Reading model weights from a safetensors file: f32 and f16 tensors as they are, int8
//! tensors with a per-row f32 scale (`<name>.scale`) borrowed as int8 rows, dequantised
//! only where a caller asks for f32.

use safetensors::{Dtype, SafeTensors};

use crate::error::{EmbedError, Result};

pub struct Tensors<'a> {
    inner: SafeTensors<'a>,
}

/// A matrix read row by row on demand: the word-embedding table stays int8 in memory and
/// only the rows a text uses are dequantised. int8 rows are borrowed from the weights as
/// they are (the built-in model's are compiled into the binary): loading copies nothing, and
/// only the pages of the rows a text touches are ever read.
pub enum Rows<'a> {
    Int8 { data: &'a [i8], scales: Vec<f32>, width: usize },
    Float { data: Vec<f32>, width: usize },
}

impl Rows<'_> {
    pub fn dequantize_into(&self, row: usize, out: &mut [f32]) -> Result<()> {
        match self {
            Rows::Int8 { data, scales, width } => {
                let (values, scale) = data
                    .get(row * width..(row + 1) * width)
                    .zip(scales.get(row))
                    .ok_or_else(|| EmbedError::Input(format!("token id {row} is outside the vocabulary")))?;
                for (o, &q) in out.iter_mut().zip(values) {
                    *o = q as f32 * scale;
                }
            }
            Rows::Float { data, width } => {
                let values = data
                    .get(row * width..(row + 1) * width)
                    .ok_or_else(|| EmbedError::Input(format!("token id {row} is outside the vocabulary")))?;
                out.copy_from_slice(values);
            }
        }
        Ok(())
    }
}

/// int8 rows times their scales, as one row-major f32 matrix.
pub fn dequantize(data: &[i8], scales: &[f32], width: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for ((dst, src), scale) in out.chunks_exact_mut(width).zip(data.chunks_exact(width)).zip(scales) {
        for (d, &q) in dst.iter_mut().zip(src) {
            *d = q as f32 * scale;
        }
    }
    out
}

impl<'a> Tensors<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Tensors<'a>> {
        let inner =
            SafeTensors::deserialize(bytes).map_err(|e| EmbedError::Model(format!("weights unreadable: {e}")))?;
        Ok(Tensors { inner })
    }

    fn view(&self, name: &str, shape: &[usize]) -> Result<safetensors::tensor::TensorView<'_>> {
        let view = self.inner.tensor(name).map_err(|_| EmbedError::Model(format!("weights lack tensor {name}")))?;
        if view.shape() != shape {
            return Err(EmbedError::Model(format!("tensor {name} has shape {:?}, expected {shape:?}", view.shape())));
        }
        Ok(view)
    }

    /// A [rows × cols] matrix as f32, row-major.
    pub fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Vec<f32>> {
        match self.rows(name, cols)? {
            Rows::Float { data, .. } if data.len() == rows * cols => Ok(data),
            Rows::Int8 { data, scales, width } if data.len() == rows * cols => Ok(dequantize(data, &scales, width)),
            _ => Err(EmbedError::Model(format!("tensor {name} is not {rows}x{cols}"))),
        }
    }

    pub fn vector(&self, name: &str, len: usize) -> Result<Vec<f32>> {
        let view = self.view(name, &[len])?;
        floats(name, view.dtype(), view.data())
    }

    pub fn rows(&self, name: &str, cols: usize) -> Result<Rows<'a>> {
        let view = self.inner.tensor(name).map_err(|_| EmbedError::Model(format!("weights lack tensor {name}")))?;
        let shape = view.shape().to_vec();
        if shape.len() != 2 || shape[1] != cols {
            return Err(EmbedError::Model(format!("tensor {name} has shape {shape:?}, expected [_, {cols}]")));
        }
        if view.dtype() == Dtype::I8 {
            let scales = self.vector(&format!("{name}.scale"), shape[0])?;
            let bytes: &'a [u8] = view.data();
            // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is a
            // valid i8; the slice keeps the lifetime of the bytes it reinterprets.
            let data = unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<i8>(), bytes.len()) };
            return Ok(Rows::Int8 { data, scales, width: cols });
        }
        Ok(Rows::Float { data: floats(name, view.dtype(), view.data())?, width: cols })
    }
}

fn floats(name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
    match dtype {
        Dtype::F32 => Ok(data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()),
        Dtype::F16 => Ok(data.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect()),
        other => Err(EmbedError::Model(format!("tensor {name} has dtype {other:?}; expected F32, F16 or I8"))),
    }
}

/// IEEE half to single precision (normals, subnormals, infinities, NaN).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let mant = (h & 0x3ff) as u32;
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, _) => {
            let value = mant as f32 * (1.0 / 16_777_216.0);
            return if sign != 0 { -value } else { value };
        }
        (0x1f, _) => sign | 0x7f80_0000 | (mant << 13),
        _ => sign | ((exp + 112) << 23) | (mant << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_precision_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
