//! Smoke test of the benchmark binary `dlgeom-bench` (the harness is `scripts/bench/run.sh`):
//! on a tiny generated data set (Q = 2, N = 40) every mode runs and prints well-formed JSON
//! lines with the expected fields. No timing assertions: benchmarks are not timed tests.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::gen::generate_json;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn tmpdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("dlgeom-bench-smoke-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run one mode; return its JSON lines (each checked for the common fields).
fn run_mode(data: &str, mode: &str, extra: &[&str]) -> Vec<Value> {
    let o = Command::new(env!("CARGO_BIN_EXE_dlgeom-bench"))
        .args([mode, data, "--repeat", "2"])
        .args(extra)
        .output()
        .expect("dlgeom-bench runs");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{mode}: {stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines: Vec<Value> = stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{mode}: bad JSON {l}: {e}")))
        .collect();
    assert!(!lines.is_empty(), "{mode}: no output");
    for v in &lines {
        assert_eq!(v["q"], 2, "{v}");
        assert_eq!(v["n"], 40, "{v}");
        assert_eq!(v["layers"], 2, "{v}");
        let runs = v["runs"].as_u64().expect("runs");
        assert!((1..=2).contains(&runs), "{v}");
        let times = v["times_s"].as_array().expect("times_s");
        assert_eq!(times.len() as u64, runs, "{v}");
        assert!(
            times.iter().all(|t| t.as_f64().is_some_and(|t| t >= 0.0)),
            "{v}"
        );
        assert!(v["median_s"].as_f64().is_some_and(|t| t >= 0.0), "{v}");
        assert!(v["min_s"].as_f64().is_some_and(|t| t >= 0.0), "{v}");
    }
    lines
}

#[test]
fn every_mode_prints_json_lines() {
    let dir = tmpdir();
    let data = dir.join("data.json");
    let text = generate_json(2, 20, &Rat::from_i64(1), 1);
    std::fs::write(&data, text).unwrap();
    let data = data.to_str().unwrap();
    let net = dir.join("net.json");

    let eval = run_mode(data, "eval", &["--network-out", net.to_str().unwrap()]);
    assert_eq!(eval.len(), 2);
    assert_eq!(eval[0]["mode"], "eval");
    assert_eq!(eval[0]["cost"], "0", "the global minimizer interpolates");
    assert_eq!(eval[0]["gradient_zero"], true);
    assert!(eval[0]["margin"].is_string());
    assert_eq!(eval[1]["mode"], "eval-f64");
    // the network file for the Python references
    let netv: Value = serde_json::from_str(&std::fs::read_to_string(&net).unwrap()).unwrap();
    assert_eq!(netv["hidden_layers"], 2);
    assert_eq!(netv["layers"].as_array().unwrap().len(), 3);

    let g = run_mode(data, "global", &[]);
    assert_eq!(g[0]["mode"], "global");
    assert_eq!(g[0]["verdict"], "global-minimum");
    assert!(g[0]["certificate_median_s"].as_f64().is_some());

    let f = run_mode(data, "families", &[]);
    assert_eq!(f[0]["mode"], "families");
    assert!(f[0]["configurations"].as_u64().unwrap() >= 1);

    let v = run_mode(data, "verify", &[]);
    assert_eq!(v[0]["mode"], "verify");
    let total = v[0]["configurations"].as_u64().unwrap();
    assert_eq!(
        total,
        f[0]["configurations"].as_u64().unwrap() + 2,
        "shallow + global + families"
    );

    let c = run_mode(data, "check", &[]);
    assert_eq!(c[0]["mode"], "check");
    assert_eq!(c[0]["accepted"], c[0]["certificates"]);
    assert_eq!(c[0]["certificates"], v[0]["built"]);

    // bad usage is an error, not a panic
    let o = Command::new(env!("CARGO_BIN_EXE_dlgeom-bench"))
        .args(["nonsense", data])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
