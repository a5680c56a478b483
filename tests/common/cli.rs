//! Running the `dlgeom-cert` binary from integration tests: its output, as text, and a fresh
//! temporary folder per test.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Run the binary with `args` (from the crate root, where the tests run).
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dlgeom-cert"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Output bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// An empty folder `dlgeom-limits-test-PID-NAME` in the system's temporary folder.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dlgeom-limits-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
