//! PDQ by the `pdqhash` crate: 256 bits, Hamming distance, and the crate's quality.

use std::io::Cursor;

use image::ImageFormat;
use serde_json::{json, Value};

use crate::ops::{to_hex, Asset, Fingerprint, OpError};
use crate::PDQHASH_VERSION;

/// The media types decoded here (by image 0.23, the version pdqhash takes).
pub const MEDIA_TYPES: &[(&str, ImageFormat)] = &[
    ("image/png", ImageFormat::Png),
    ("image/jpeg", ImageFormat::Jpeg),
    ("image/webp", ImageFormat::WebP),
    ("image/tiff", ImageFormat::Tiff),
    ("image/gif", ImageFormat::Gif),
    ("image/bmp", ImageFormat::Bmp),
];

/// pdqhash's own smallest side (its generate_pdq refuses smaller images).
const MIN_SIDE: u32 = 5;
/// A decoded image is held in memory, as floats too: refuse a decompression bomb.
const MAX_PIXELS: u64 = 64 * 1024 * 1024;
/// The match threshold of Meta's PDQ documentation.
pub const MATCH_DISTANCE: u32 = 31;

pub fn compute(asset: &Asset) -> Result<Value, OpError> {
    let Some(&(_, format)) = MEDIA_TYPES.iter().find(|(t, _)| *t == asset.media_type) else {
        let known: Vec<&str> = MEDIA_TYPES.iter().map(|(t, _)| *t).collect();
        return Err(OpError::Unsupported(format!("pdq here decodes {}, not {}", known.join(", "), asset.media_type)));
    };
    let cannot = |e: image::ImageError| OpError::Failed(format!("cannot decode the {} asset: {e}", asset.media_type));
    let (width, height) = image::io::Reader::with_format(Cursor::new(&asset.data[..]), format)
        .into_dimensions()
        .map_err(cannot)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(OpError::Failed(format!("the image is {width}x{height} pixels, over the {MAX_PIXELS}-pixel limit")));
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(OpError::Failed(format!("PDQ needs at least {MIN_SIDE}x{MIN_SIDE} pixels; the image is {width}x{height}")));
    }
    let image = image::load_from_memory_with_format(&asset.data, format).map_err(cannot)?;
    // Full size, as Meta's reference hashes a luma buffer: generate_pdq would first
    // shrink the image to 512 pixels in RGB, which the crate says diverges from it.
    let (hash, quality) = pdqhash::generate_pdq_full_size(&image);
    Ok(json!({
        "algorithm": "pdq",
        "algorithm_version": format!("pdqhash {PDQHASH_VERSION}"),
        "encoding": "bits",
        "fingerprint_hex": to_hex(&hash),
        "bits": hash.len() * 8,
        "quality": f64::from(quality),
        "quality_scale": {"min": 0, "max": 1},
        "notes": [
            format!("pdqhash {PDQHASH_VERSION}: generate_pdq_full_size on the decoded {width}x{height} image (no downscaling first)"),
            "quality: the pdqhash crate's own gradient measure, from 0 to 1 (capped); Meta's C++ reports an integer from 0 to 100 computed otherwise, so the two do not convert",
        ],
    }))
}

pub fn compare(a: &Fingerprint, b: &Fingerprint) -> Result<Value, OpError> {
    for (name, fp) in [("a", a), ("b", b)] {
        if fp.encoding != "bits" {
            return Err(OpError::Failed(format!("{name}: a PDQ hash is encoded as bits, not {}", fp.encoding)));
        }
        if fp.bytes.len() != 32 {
            return Err(OpError::Failed(format!(
                "{name}: a PDQ hash is 256 bits (64 hex digits), this one is {} bits", fp.bytes.len() * 8)));
        }
    }
    let distance: u32 = a.bytes.iter().zip(&b.bytes).map(|(x, y)| (x ^ y).count_ones()).sum();
    Ok(json!({
        "algorithm": "pdq",
        "distance": distance,
        "distance_kind": "hamming",
        "match": distance <= MATCH_DISTANCE,
        "notes": [format!("match: at most {MATCH_DISTANCE} of 256 bits differ, the threshold of Meta's PDQ documentation")],
    }))
}
