//! Chromaprint by the `rusty-chromaprint` crate: audio decoded by symphonia into 16-bit
//! samples, fingerprinted with the TEST2 configuration (fpcalc's default algorithm), and
//! compared with the crate's own segment matching.

use std::io::Cursor;

use rusty_chromaprint::{match_fingerprints, Configuration, Fingerprinter};
use serde_json::{json, Value};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as AudioError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::ops::{to_hex, Asset, Fingerprint, OpError};
use crate::{CHROMAPRINT_VERSION, SYMPHONIA_VERSION};

/// The media types decoded here, with the file extension symphonia's probe is hinted with.
pub const MEDIA_TYPES: &[(&str, &str)] =
    &[("audio/wav", "wav"), ("audio/ogg", "ogg"), ("audio/mpeg", "mp3"), ("audio/flac", "flac")];

/// fpcalc's number for TEST2 (`fpcalc -algorithm 2`, its default); the library's enum and
/// a compressed fingerprint's header count from 0 and call it 1 (`Configuration::id`).
const FPCALC_ALGORITHM: u8 = 2;

/// Never more than this much audio (the asset's size bounds it too): 3 hours.
const MAX_SECONDS: u64 = 3 * 3600;

fn config() -> Configuration {
    Configuration::preset_test2()
}

struct Decoded {
    fingerprint: Vec<u32>,
    frames: u64,
    sample_rate: u32,
    channels: usize,
}

fn cannot(media_type: &str, err: impl std::fmt::Display) -> OpError {
    OpError::Failed(format!("cannot decode the {media_type} asset: {err}"))
}

/// Decode the asset's first audio track and feed its samples, interleaved, to the fingerprinter.
fn fingerprint_of(asset: &Asset, extension: &str) -> Result<Decoded, OpError> {
    let media_type = asset.media_type.as_str();
    let source = MediaSourceStream::new(Box::new(Cursor::new(asset.data.to_vec())), Default::default());
    let mut hint = Hint::new();
    hint.with_extension(extension).mime_type(media_type);
    let probed = symphonia::default::get_probe()
        .format(&hint, source, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|e| cannot(media_type, e))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| cannot(media_type, "no audio track"))?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| cannot(media_type, e))?;
    let config = config();
    let mut printer = Fingerprinter::new(&config);
    let mut started: Option<(u32, usize)> = None;
    let mut samples: Option<SampleBuffer<i16>> = None;
    let mut frames: u64 = 0;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(AudioError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(AudioError::ResetRequired) => break,
            Err(e) => return Err(cannot(media_type, e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            Err(AudioError::DecodeError(_)) => continue, // a damaged packet: skipped, as a player would
            Err(e) => return Err(cannot(media_type, e)),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count();
        match started {
            None => {
                printer
                    .start(spec.rate, channels as u32)
                    .map_err(|e| OpError::Failed(format!("chromaprint cannot take {} Hz, {channels} channel(s): {e}", spec.rate)))?;
                started = Some((spec.rate, channels));
            }
            Some((rate, count)) if rate != spec.rate || count != channels => {
                return Err(OpError::Failed(format!(
                    "the stream changes from {rate} Hz, {count} channel(s) to {} Hz, {channels} mid-way", spec.rate)));
            }
            Some(_) => {}
        }
        if decoded.frames() == 0 {
            continue;
        }
        if samples.as_ref().map_or(true, |b| b.capacity() < decoded.capacity() * channels) {
            samples = Some(SampleBuffer::<i16>::new(decoded.capacity() as u64, spec));
        }
        let buffer = samples.as_mut().expect("a sample buffer was just made");
        buffer.copy_interleaved_ref(decoded);
        printer.consume(buffer.samples());
        frames += (buffer.samples().len() / channels) as u64;
        if frames > MAX_SECONDS * u64::from(spec.rate) {
            return Err(OpError::Failed(format!("over {MAX_SECONDS} s of audio: not fingerprinted here")));
        }
    }
    let Some((sample_rate, channels)) = started else {
        return Err(cannot(media_type, "no audio samples"));
    };
    printer.finish();
    Ok(Decoded { fingerprint: printer.fingerprint().to_vec(), frames, sample_rate, channels })
}

pub fn compute(asset: &Asset) -> Result<Value, OpError> {
    let Some(&(_, extension)) = MEDIA_TYPES.iter().find(|(t, _)| *t == asset.media_type) else {
        let known: Vec<&str> = MEDIA_TYPES.iter().map(|(t, _)| *t).collect();
        return Err(OpError::Unsupported(format!("chromaprint here decodes {}, not {}", known.join(", "), asset.media_type)));
    };
    let decoded = fingerprint_of(asset, extension)?;
    let bytes: Vec<u8> = decoded.fingerprint.iter().flat_map(|v| v.to_be_bytes()).collect();
    Ok(json!({
        "algorithm": "chromaprint",
        "algorithm_version": FPCALC_ALGORITHM.to_string(),
        "encoding": "uint32be",
        "fingerprint_hex": to_hex(&bytes),
        "bits": decoded.fingerprint.len() * 32,
        "duration_s": decoded.frames as f64 / f64::from(decoded.sample_rate),
        "notes": [
            format!("rusty-chromaprint {CHROMAPRINT_VERSION}, Configuration::preset_test2: Chromaprint algorithm {FPCALC_ALGORITHM} as fpcalc numbers it (its default; id {} in the library's enum)", config().id()),
            format!("the whole stream ({} Hz, {} channel(s), decoded by symphonia {SYMPHONIA_VERSION}); fpcalc stops at 120 s unless given -length 0", decoded.sample_rate, decoded.channels),
        ],
    }))
}

fn sub_fingerprints(name: &str, fp: &Fingerprint) -> Result<Vec<u32>, OpError> {
    if fp.encoding != "uint32be" {
        return Err(OpError::Failed(format!("{name}: a Chromaprint fingerprint is encoded as uint32be, not {}", fp.encoding)));
    }
    if fp.bytes.len() % 4 != 0 {
        return Err(OpError::Failed(format!("{name}: {} bytes are not a whole number of 32-bit sub-fingerprints", fp.bytes.len())));
    }
    if fp.bytes.is_empty() {
        return Err(OpError::Failed(format!("{name}: an empty fingerprint cannot be compared")));
    }
    Ok(fp.bytes.chunks_exact(4).map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// Differing bits over the overlap when b[j] is laid against a[j + offset].
fn bit_error_rate(a: &[u32], b: &[u32], offset: i64) -> Option<f64> {
    let (a, b) = if offset >= 0 { (a.get(offset as usize..)?, b) } else { (a, b.get((-offset) as usize..)?) };
    let overlap = a.len().min(b.len());
    if overlap == 0 {
        return None;
    }
    let differing: u64 = a.iter().zip(b).map(|(x, y)| u64::from((x ^ y).count_ones())).sum();
    Some(differing as f64 / (32.0 * overlap as f64))
}

pub fn compare(a: &Fingerprint, b: &Fingerprint) -> Result<Value, OpError> {
    let (a, b) = (sub_fingerprints("a", a)?, sub_fingerprints("b", b)?);
    let segments = match_fingerprints(&a, &b, &config()).map_err(|e| OpError::Failed(format!("match_fingerprints: {e}")))?;
    let shorter = a.len().min(b.len());
    let mut notes = vec![format!(
        "rusty-chromaprint {CHROMAPRINT_VERSION} match_fingerprints: {} matching segment(s) at its best alignment; \
         distance: the fraction of bits that differ over the overlap at that alignment; score: the fraction of the \
         shorter fingerprint inside matching segments; match: at least half of it; offset: b[j] lies against a[j + offset]",
        segments.len())];
    let Some(first) = segments.first() else {
        notes.push("no matching segment: the distance is at offset 0".into());
        return Ok(json!({
            "algorithm": "chromaprint",
            "distance": bit_error_rate(&a, &b, 0).unwrap_or(0.5),
            "distance_kind": "bit-error-rate",
            "score": 0.0,
            "offset": null,
            "match": false,
            "notes": notes,
        }));
    };
    let offset = first.offset1 as i64 - first.offset2 as i64;
    let covered: usize = segments.iter().map(|s| s.items_count).sum();
    for s in segments.iter().take(20) {
        notes.push(format!(
            "segment a[{}..{}] ~ b[{}..{}]: {:.2} differing bits per sub-fingerprint",
            s.offset1, s.offset1 + s.items_count, s.offset2, s.offset2 + s.items_count, s.score));
    }
    Ok(json!({
        "algorithm": "chromaprint",
        "distance": bit_error_rate(&a, &b, offset).unwrap_or(0.5),
        "distance_kind": "bit-error-rate",
        "score": (covered as f64 / shorter as f64).min(1.0),
        "offset": offset,
        "match": covered * 2 >= shorter,
        "notes": notes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_error_rate_aligns_b_against_a() {
        let a = [0u32, 1, 2, 3, 4];
        let b = [2u32, 3, 4];
        assert_eq!(bit_error_rate(&a, &b, 2), Some(0.0));
        assert!(bit_error_rate(&a, &b, 0).unwrap() > 0.0);
        assert_eq!(bit_error_rate(&b, &a, -2), Some(0.0));
        assert_eq!(bit_error_rate(&a, &b, 9), None);
    }
}
