//! The protocol's routes, mirroring the adapter kit's server (kit/aiii_kit/_server.py):
//!
//! * `GET /v1/describe`: vendor, implementation version, operations.
//! * `GET /v1/health`: `{"status": "ok"}`.
//! * `POST /v1/operations/{operation}`: `multipart/form-data` with a `params` part (JSON)
//!   and an `asset` part (the asset's bytes, its media type as the part's type); the
//!   answer is JSON.
//!
//! Errors are `{"error": {"kind", "message"}}`: 400 bad_request (not multipart, a part
//! missing, params not a JSON object or not of the operation's schema), 401 unauthorised,
//! 404 not_found (a route or operation the protocol lacks), 411 (no Content-Length),
//! 413 too_large (checked on Content-Length before any of the body is read), 422
//! adapter_error (the implementation failed cleanly), 501 unsupported (an operation,
//! algorithm or media type this vendor does not do), 500 internal (a panic).

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::ops::{self, Asset, OpError};
use crate::{CHROMAPRINT_VERSION, PDQHASH_VERSION};

pub const PROTOCOL: &str = "aiii-adapter/1";

/// The protocol's operation ids (kit/aiii_kit/protocol/schemas/, one pair of files each):
/// a request for an id not here is 404, one for an id here that this vendor does not
/// implement is 501, as from the kit's server.  A test of the harness keeps the list in
/// step with the schemas.
pub const PROTOCOL_OPERATIONS: &[&str] = &[
    "fingerprint.compare",
    "fingerprint.compute",
    "identifier.compare",
    "identifier.generate",
    "identifier.validate",
    "metadata.read",
    "metadata.write",
    "optout.declare",
    "optout.evaluate",
    "provenance.read",
    "provenance.sign",
    "watermark.detect",
    "watermark.embed",
];

pub struct Config {
    pub vendor: String,
    pub max_request: u64,
    pub token: Option<String>,
    pub verbose: bool,
}

/// What describe answers as the implementation's version: the crates under test.
pub fn implementation_version() -> String {
    format!("pdqhash {PDQHASH_VERSION}, rusty-chromaprint {CHROMAPRINT_VERSION}")
}

/// Listen on `path` (replacing a stale socket, readable by any user: the harness may run
/// as another user than a container) and serve until the process ends.
pub async fn serve(path: &str, config: Config) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        std::fs::remove_file(path)?;
    }
    let listener = tokio::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))?;
    let app = Router::new().fallback(handle).with_state(Arc::new(config));
    axum::serve(listener, app).await
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a response of a status, one header and a body")
}

/// The message cut to the schema's 4000 characters.
fn error_response(status: StatusCode, kind: &str, message: &str) -> Response {
    let message: String = message.chars().take(4000).collect();
    json_response(status, &json!({"error": {"kind": kind, "message": message}}))
}

/// Constant-time comparison of the Authorization header with the expected one.
fn authorised(config: &Config, headers: &HeaderMap) -> bool {
    let Some(token) = &config.token else { return true };
    let expected = format!("Bearer {token}");
    let given = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes()).unwrap_or(b"");
    if given.len() != expected.len() {
        return false;
    }
    given.iter().zip(expected.as_bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn handle(State(config): State<Arc<Config>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let mut response = route(&config, request).await;
    if method == Method::POST {
        // a refused request's body is never read: the connection is not reused (as the kit)
        response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    if config.verbose {
        eprintln!("{}: {method} {path} {}", config.vendor, response.status().as_u16());
    }
    response
}

async fn route(config: &Config, request: Request) -> Response {
    if !authorised(config, request.headers()) {
        return error_response(StatusCode::UNAUTHORIZED, "unauthorised", "a valid bearer token is required");
    }
    let path = request.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default();
    let method = request.method().clone();
    match (&method, path.as_str()) {
        (&Method::GET, "/v1/describe") => json_response(StatusCode::OK, &json!({
            "protocol": PROTOCOL,
            "vendor": config.vendor,
            "implementation_version": implementation_version(),
            "operations": ops::OPERATIONS,
        })),
        (&Method::GET, "/v1/health") => json_response(StatusCode::OK, &json!({"status": "ok"})),
        (&Method::POST, _) => match path.strip_prefix("/v1/operations/") {
            Some(operation) if PROTOCOL_OPERATIONS.contains(&operation) => {
                let operation = operation.to_string();
                operation_request(config, &operation, request).await
            }
            Some(operation) => error_response(StatusCode::NOT_FOUND, "not_found", &format!("unknown operation '{operation}'")),
            None => error_response(StatusCode::NOT_FOUND, "not_found", &format!("no route {path}")),
        },
        (method, _) => error_response(StatusCode::NOT_FOUND, "not_found", &format!("no route {method} {path}")),
    }
}

async fn operation_request(config: &Config, operation: &str, request: Request) -> Response {
    let headers = request.headers();
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(length) = length else {
        return error_response(StatusCode::LENGTH_REQUIRED, "bad_request", "Content-Length is required");
    };
    if length > config.max_request {
        return error_response(StatusCode::PAYLOAD_TOO_LARGE, "too_large",
                              &format!("request of {length} bytes exceeds {}", config.max_request));
    }
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = match axum::body::to_bytes(request.into_body(), length as usize).await {
        Ok(body) => body,
        Err(err) => return error_response(StatusCode::BAD_REQUEST, "bad_request", &format!("the body could not be read: {err}")),
    };
    let (params, asset) = match parse_operation_request(&content_type, body).await {
        Ok(parsed) => parsed,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, "bad_request", &message),
    };
    let operation = operation.to_string();
    let answer = tokio::task::spawn_blocking(move || ops::call(&operation, &asset, &params)).await;
    match answer {
        Ok(Ok(value)) => json_response(StatusCode::OK, &value),
        Ok(Err(OpError::BadRequest(message))) => error_response(StatusCode::BAD_REQUEST, "bad_request", &message),
        Ok(Err(OpError::Unsupported(message))) => error_response(StatusCode::NOT_IMPLEMENTED, "unsupported", &message),
        Ok(Err(OpError::Failed(message))) => error_response(StatusCode::UNPROCESSABLE_ENTITY, "adapter_error", &message),
        Err(err) => {
            let reason = match err.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into()),
                Err(err) => err.to_string(),
            };
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", &format!("panic: {reason}"))
        }
    }
}

const NOT_MULTIPART: &str = "expected multipart/form-data (with a boundary) holding the parts 'params' and 'asset'";

/// Split a multipart/form-data body into the params JSON object and the asset.
async fn parse_operation_request(content_type: &str, body: Bytes) -> Result<(Map<String, Value>, Asset), String> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| NOT_MULTIPART.to_string())?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut params: Option<Bytes> = None;
    let mut asset: Option<Asset> = None;
    loop {
        let field = multipart.next_field().await.map_err(|e| format!("the multipart body is malformed: {e}"))?;
        let Some(field) = field else { break };
        let name = field.name().map(str::to_owned);
        match name.as_deref() {
            Some("params") => {
                params = Some(field.bytes().await.map_err(|e| format!("the params part is malformed: {e}"))?);
            }
            Some("asset") => {
                let media_type = field
                    .content_type()
                    .map(|m| m.essence_str().to_ascii_lowercase())
                    .unwrap_or_else(|| "application/octet-stream".into());
                let data = field.bytes().await.map_err(|e| format!("the asset part is malformed: {e}"))?;
                asset = Some(Asset { data, media_type });
            }
            _ => {}
        }
    }
    let (Some(params), Some(asset)) = (params, asset) else {
        return Err("the body needs the parts 'params' and 'asset'".into());
    };
    let params: Value = if params.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(&params).map_err(|e| format!("params is not JSON: {e}"))?
    };
    match params {
        Value::Object(map) => Ok((map, asset)),
        _ => Err("params must be a JSON object".into()),
    }
}
