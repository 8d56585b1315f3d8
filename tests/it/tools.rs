//! The repository's own tool installers (`scripts/iac-tools`, `scripts/prometheus`), as tests use them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scripts/<script>` and returns the `name=path` lines it prints. `None` when it cannot install
/// here, except in CI (`CI` set), where the checks must run.
pub fn installed(script: &str) -> Option<BTreeMap<String, String>> {
    let output = Command::new(root().join("scripts").join(script)).output().expect("the installer runs");
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run these checks; scripts/{script} failed:\n{why}"
        );
        eprintln!("skipping: scripts/{script} cannot install here:\n{why}");
        return None;
    }
    let text = String::from_utf8(output.stdout).unwrap();
    Some(text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

/// A port nothing listens on right now, on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
