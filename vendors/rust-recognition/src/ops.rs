//! The two operations and their params, checked against the protocol's schemas
//! (fingerprint.compute.params.json, fingerprint.compare.params.json): params that break
//! the schema are a bad request; an algorithm, option or media type this vendor does not
//! do is unsupported; an input the implementation cannot take is its clean failure.

use axum::body::Bytes;
use serde_json::{Map, Value};

use crate::{audio, pdq};

/// The operations this vendor implements, in describe's order.
pub const OPERATIONS: &[&str] = &["fingerprint.compare", "fingerprint.compute"];

/// common.json's fingerprint_algorithm enum.
const ALGORITHMS: &[&str] = &["ahash", "phash", "dhash", "whash", "colorhash", "pdq", "chromaprint"];

/// The longest fingerprint_hex the schema allows.
const MAX_HEX: usize = 400_000;

pub struct Asset {
    pub data: Bytes,
    pub media_type: String,
}

#[derive(Debug)]
pub enum OpError {
    /// 400 bad_request: the params break the operation's schema.
    BadRequest(String),
    /// 501 unsupported: not something this vendor does at all.
    Unsupported(String),
    /// 422 adapter_error: the implementation failed cleanly on this input.
    Failed(String),
}

pub fn call(operation: &str, asset: &Asset, params: &Map<String, Value>) -> Result<Value, OpError> {
    match operation {
        "fingerprint.compute" => compute(asset, params),
        "fingerprint.compare" => compare(params),
        other => Err(OpError::Unsupported(format!("rust-recognition does not implement {other}"))),
    }
}

/// Refuse keys the schema does not allow and name a missing required one.
fn check_keys(params: &Map<String, Value>, allowed: &[&str], required: &[&str], at: &str) -> Result<(), OpError> {
    if let Some(extra) = params.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(OpError::BadRequest(format!("{at}: unknown key '{extra}' (allowed: {})", allowed.join(", "))));
    }
    if let Some(missing) = required.iter().find(|k| !params.contains_key(**k)) {
        return Err(OpError::BadRequest(format!("{at}: '{missing}' is required")));
    }
    Ok(())
}

fn algorithm(params: &Map<String, Value>) -> Result<&str, OpError> {
    match params.get("algorithm").and_then(Value::as_str) {
        Some(name) if ALGORITHMS.contains(&name) => Ok(name),
        _ => Err(OpError::BadRequest(format!("params.algorithm: expected one of {}", ALGORITHMS.join(", ")))),
    }
}

fn not_here(algorithm: &str) -> OpError {
    OpError::Unsupported(format!("algorithm {algorithm}: this vendor computes pdq (images) and chromaprint (audio) only"))
}

fn compute(asset: &Asset, params: &Map<String, Value>) -> Result<Value, OpError> {
    check_keys(params, &["algorithm", "hash_size"], &["algorithm"], "params")?;
    let algorithm = algorithm(params)?;
    let hash_size = match params.get("hash_size") {
        None => None,
        Some(value) => match value.as_u64() {
            Some(n) if (2..=64).contains(&n) => Some(n),
            _ => return Err(OpError::BadRequest("params.hash_size: expected an integer from 2 to 64".into())),
        },
    };
    match algorithm {
        "pdq" => {
            if let Some(n) = hash_size.filter(|n| *n != 16) {
                return Err(OpError::Unsupported(format!(
                    "pdq's hash is a fixed 16x16 grid (256 bits): hash_size {n} is not possible")));
            }
            pdq::compute(asset)
        }
        "chromaprint" => {
            if hash_size.is_some() {
                return Err(OpError::Unsupported("chromaprint has no hash_size option".into()));
            }
            audio::compute(asset)
        }
        other => Err(not_here(other)),
    }
}

/// One fingerprint of compare's params: its encoding and its bytes.
pub struct Fingerprint {
    pub encoding: String,
    pub bytes: Vec<u8>,
}

fn fingerprint(params: &Map<String, Value>, key: &str) -> Result<Fingerprint, OpError> {
    let at = format!("params.{key}");
    let Some(Value::Object(value)) = params.get(key) else {
        return Err(OpError::BadRequest(format!("{at}: expected an object with encoding and fingerprint_hex")));
    };
    check_keys(value, &["encoding", "fingerprint_hex"], &["encoding", "fingerprint_hex"], &at)?;
    let encoding = match value.get("encoding").and_then(Value::as_str) {
        Some(e @ ("bits" | "uint32be")) => e.to_string(),
        _ => return Err(OpError::BadRequest(format!("{at}.encoding: expected bits or uint32be"))),
    };
    let hex = value.get("fingerprint_hex").and_then(Value::as_str).unwrap_or("\u{0}");
    let bytes = from_hex(hex).filter(|_| hex.len() <= MAX_HEX).ok_or_else(|| {
        OpError::BadRequest(format!("{at}.fingerprint_hex: expected pairs of lowercase hex digits, at most {MAX_HEX}"))
    })?;
    Ok(Fingerprint { encoding, bytes })
}

fn compare(params: &Map<String, Value>) -> Result<Value, OpError> {
    check_keys(params, &["algorithm", "a", "b"], &["algorithm", "a", "b"], "params")?;
    let algorithm = algorithm(params)?;
    let (a, b) = (fingerprint(params, "a")?, fingerprint(params, "b")?);
    match algorithm {
        "pdq" => pdq::compare(&a, &b),
        "chromaprint" => audio::compare(&a, &b),
        other => Err(not_here(other)),
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 15) as usize] as char);
    }
    out
}

/// Lowercase hex pairs only, as the schema's pattern `^([0-9a-f]{2})*$`.
fn from_hex(text: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let raw = text.as_bytes();
    if raw.len() % 2 != 0 {
        return None;
    }
    raw.chunks_exact(2).map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_the_schema_refuses() {
        assert_eq!(to_hex(&[0x0c, 0xff, 0x00]), "0cff00");
        assert_eq!(from_hex("0cff00"), Some(vec![0x0c, 0xff, 0x00]));
        assert_eq!(from_hex(""), Some(vec![]));
        assert_eq!(from_hex("0CFF"), None);
        assert_eq!(from_hex("abc"), None);
    }
}
