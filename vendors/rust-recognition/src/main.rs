//! The rust-recognition vendor: Meta's PDQ (the `pdqhash` crate) and Chromaprint (the
//! `rusty-chromaprint` crate) served over the aiii adapter protocol, version 1, on a unix
//! socket, the way the adapter kit's server (kit/aiii_kit/_server.py) serves a Python
//! adapter: the same routes, multipart requests, JSON answers and error codes.
//!
//! ```text
//! aiii-rust-recognition --unix /tmp/rr.sock [--vendor rust-recognition] [--max-request BYTES]
//!                       [--token-env NAME] [-v]
//! ```

mod audio;
mod ops;
mod pdq;
mod server;

use std::process::ExitCode;

/// The implementations this server answers for, as pinned in Cargo.toml (a test of the
/// harness checks these against Cargo.lock).
pub const PDQHASH_VERSION: &str = "0.1.1";
pub const CHROMAPRINT_VERSION: &str = "0.3.0";
pub const SYMPHONIA_VERSION: &str = "0.5.5";

/// The kit server's default limit on a request body.
const DEFAULT_MAX_REQUEST: u64 = 256 * 1024 * 1024;

struct Args {
    unix: String,
    vendor: String,
    max_request: u64,
    token_env: Option<String>,
    verbose: bool,
}

fn usage() -> String {
    "usage: aiii-rust-recognition --unix PATH [--vendor ID] [--max-request BYTES] [--token-env NAME] [-v]".into()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        unix: String::new(),
        vendor: "rust-recognition".into(),
        max_request: DEFAULT_MAX_REQUEST,
        token_env: None,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value; {}", usage()));
        match arg.as_str() {
            "--unix" => args.unix = value("--unix")?,
            "--vendor" => args.vendor = value("--vendor")?,
            "--max-request" => {
                let given = value("--max-request")?;
                args.max_request = given.parse().map_err(|_| format!("--max-request: not a number: {given}"))?;
            }
            "--token-env" => args.token_env = Some(value("--token-env")?),
            "-v" | "--verbose" => args.verbose = true,
            "-h" | "--help" => return Err(usage()),
            "--version" => {
                println!("{}", server::implementation_version());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}; {}", usage())),
        }
    }
    if args.unix.is_empty() {
        return Err(format!("--unix is required; {}", usage()));
    }
    Ok(args)
}

/// End with the process that started this server (the harness), even when it was killed
/// before it could stop us: no orphan left listening.  In a container the parent is the
/// engine's init, which stays.
fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::spawn(move || loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(0);
        }
    });
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("aiii-rust-recognition: {message}");
            return ExitCode::from(2);
        }
    };
    let token = match &args.token_env {
        None => None,
        Some(name) => match std::env::var(name) {
            Ok(value) if !value.is_empty() => Some(value),
            _ => {
                eprintln!("aiii-rust-recognition: environment variable {name} is empty");
                return ExitCode::from(2);
            }
        },
    };
    exit_with_parent();
    let config = server::Config {
        vendor: args.vendor,
        max_request: args.max_request,
        token,
        verbose: args.verbose,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(8) // the computations: well under a container's pids limit
        .enable_all()
        .build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("aiii-rust-recognition: cannot start the runtime: {err}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(server::serve(&args.unix, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("aiii-rust-recognition: {}: {err}", args.unix);
            ExitCode::from(1)
        }
    }
}
