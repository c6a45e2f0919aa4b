//! Image bytes from callers (uploads, model answers): untrusted. Only PNG, JPEG and WebP are
//! decoded, under explicit limits on dimensions and allocation, so a lying header or a
//! decompression bomb is refused before any large allocation.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::Arc;

use image::{ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::PosterError;
use crate::display::Pixels;

/// Limits for decoding one image.
#[derive(Clone, Copy, Debug)]
pub struct ImageLimits {
    pub max_width: u32,
    pub max_height: u32,
    /// Bytes the decoder may allocate in all.
    pub max_alloc: u64,
    /// Refuse files larger than this before looking at them.
    pub max_file_bytes: usize,
}

impl Default for ImageLimits {
    /// Room for an 8-megapixel photo or a 4096² AI image with margin; an A1 poster at 300 dpi
    /// wants about 7000×9900, which nobody uploads.
    fn default() -> Self {
        Self { max_width: 8192, max_height: 8192, max_alloc: 192 * 1024 * 1024, max_file_bytes: 40 * 1024 * 1024 }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct DecodedImage {
    pub sha256: String,
    pub pixels: Pixels,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Decodes `bytes` as PNG, JPEG or WebP within `limits`.
pub fn decode_image(bytes: &[u8], limits: &ImageLimits) -> Result<DecodedImage, PosterError> {
    if bytes.len() > limits.max_file_bytes {
        return Err(PosterError::Image(format!(
            "the file has {} bytes, more than the {} allowed",
            bytes.len(),
            limits.max_file_bytes
        )));
    }
    let format = image::guess_format(bytes)
        .map_err(|_| PosterError::Image("not a PNG, JPEG or WebP file (unknown format)".into()))?;
    if !matches!(format, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP) {
        return Err(PosterError::Image(format!("{format:?} is not taken: use PNG, JPEG or WebP")));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    reader.limits(decoder_limits);
    let image = reader.decode().map_err(|error| PosterError::Image(format!("{format:?}: {error}")))?;
    let rgba = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let opaque = rgba.pixels().all(|pixel| pixel[3] == 255);
    let jpeg = (format == ImageFormat::Jpeg).then(|| Arc::new(bytes.to_vec()));
    Ok(DecodedImage {
        sha256: sha256_hex(bytes),
        pixels: Pixels { width, height, rgba: Arc::new(rgba.into_raw()), opaque, jpeg },
    })
}

/// The images a poster may use, by SHA-256: the caller decodes and adds them, the composer looks
/// them up by the hashes in the document.
#[derive(Clone, Debug, Default)]
pub struct ImageSet {
    by_hash: BTreeMap<String, DecodedImage>,
}

impl ImageSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes and adds `bytes`; returns its SHA-256 for the document's [`crate::ImageRef`].
    pub fn add(&mut self, bytes: &[u8], limits: &ImageLimits) -> Result<String, PosterError> {
        let image = decode_image(bytes, limits)?;
        let hash = image.sha256.clone();
        self.by_hash.insert(hash.clone(), image);
        Ok(hash)
    }

    pub fn insert(&mut self, image: DecodedImage) {
        self.by_hash.insert(image.sha256.clone(), image);
    }

    pub fn get(&self, sha256: &str) -> Option<&DecodedImage> {
        self.by_hash.get(sha256)
    }
}
