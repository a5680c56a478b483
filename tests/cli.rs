//! The `dlgeom-cert` binary end to end: exit codes (0 ok, 1 claim failed / rejected, 2 bad
//! input), messages that name the bad place, no panics, `check` with both backends, the
//! archived certificates (`reproduce`), `schema`, `gen`.

use std::path::Path;
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dlgeom-cert"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmpdir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dlgeom-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn verify_prints_verdicts_and_writes_checked_certificates() {
    let out = tmpdir("verify");
    let o = run(&[
        "verify",
        "examples/three_classes.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let so = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{so}\n{}", text(&o.stderr));
    assert!(so.contains("C1  CERTIFIED"), "{so}");
    assert!(so.contains("C2  CERTIFIED"), "{so}");
    assert!(so.contains("C4  CERTIFIED"), "{so}");
    assert!(out.join("global.json").exists() && out.join("summary.json").exists());
    // Refuses to overwrite without --force.
    let o = run(&[
        "verify",
        "examples/three_classes.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--force"));
    // Both backends accept every certificate.
    for backend in ["malachite", "num"] {
        let o = run(&[
            "check",
            out.to_str().unwrap(),
            "--data",
            "examples/three_classes.json",
            "--backend",
            backend,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
        assert!(!text(&o.stdout).contains("REJECTED"));
    }
    // The wrong data is rejected.
    let o = run(&[
        "check",
        out.join("global.json").to_str().unwrap(),
        "--data",
        "examples/two_classes.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("sha256"));
    // --json summary is machine-readable.
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--out",
        out.to_str().unwrap(),
        "--force",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json summary");
    assert_eq!(v["format"], "dlgeom-summary/1");
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn non_separable_data_exits_1_and_writes_no_global_certificate() {
    let out = tmpdir("xor");
    let o = run(&[
        "verify",
        "examples/xor_not_separable.json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let so = text(&o.stdout);
    assert!(
        so.contains("C1  NOT-CERTIFIED") && so.contains("at step 1"),
        "{so}"
    );
    assert!(!out.join("global.json").exists());
    assert!(out.join("shallow.json").exists());
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn bad_inputs_exit_2_with_the_place_and_never_panic() {
    let manifest = std::fs::read_to_string("tests/bad_inputs/MANIFEST.tsv").unwrap();
    let out = tmpdir("bad");
    let mut n = 0;
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let (file, expected) = line.split_once('\t').expect("two columns");
        let path = format!("tests/bad_inputs/{file}");
        let o = run(&["verify", &path, "--out", out.to_str().unwrap()]);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{file}: {err}");
        assert!(
            err.contains(expected),
            "{file}: expected {expected:?} in {err:?}"
        );
        assert!(!err.contains("panicked"), "{file}: {err}");
        assert!(
            std::fs::read_dir(&out).unwrap().next().is_none(),
            "{file}: nothing written"
        );
        n += 1;
    }
    assert!(n >= 30, "corpus has {n} files");
    // Missing file, usage errors.
    let o = run(&["verify", "no/such/file.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no/such/file.json"));
    let o = run(&["verify"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--layers",
        "0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn archived_certificates_reproduce_with_both_backends() {
    for backend in [
        dlgeom_cert::checker::Backend::Malachite,
        dlgeom_cert::checker::Backend::Num,
    ] {
        let o = dlgeom_cert::cli::reproduce(Path::new("."), false, backend, true);
        assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
        assert!(o.stdout.contains("byte-identical"));
    }
}

#[test]
fn schema_and_help() {
    let o = run(&["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["certificate"]["properties"]["claims"].is_object());
    assert_eq!(v["data"]["title"], "dlgeom-data/1");
    let o = run(&["--help"]);
    assert!(text(&o.stdout).contains("Example"));
    let o = run(&["verify", "--help"]);
    assert!(text(&o.stdout).contains("Example"));
}

#[test]
fn gen_is_deterministic_and_verifiable() {
    let a = run(&[
        "gen",
        "--classes",
        "3",
        "--per-class",
        "7",
        "--spread",
        "1/2",
        "--seed",
        "9",
    ]);
    let b = run(&[
        "gen",
        "--classes",
        "3",
        "--per-class",
        "7",
        "--spread",
        "1/2",
        "--seed",
        "9",
    ]);
    assert_eq!(a.status.code(), Some(0));
    assert_eq!(a.stdout, b.stdout);
    let d = tmpdir("gen");
    let f = d.join("g.json");
    std::fs::write(&f, &a.stdout).unwrap();
    let o = run(&[
        "verify",
        f.to_str().unwrap(),
        "--out",
        d.join("c").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("C1 certified"));
    let o = run(&["gen", "--classes", "0", "--per-class", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn certify_and_export_round_trip() {
    let d = tmpdir("certify");
    let certs = d.join("certs");
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--out",
        certs.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0));
    // The exact certificate as network input: the global minimum is recognised.
    let o = run(&[
        "certify",
        "--network",
        certs.join("global.json").to_str().unwrap(),
        "examples/two_classes.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("verdict: global-minimum"));
    assert!(text(&o.stdout).contains("gradient: exactly zero"));
    // Export to safetensors, read back at the exact binary values: the f64-rounded network
    // has cost 37/2^110 > 0 and a nonzero exact gradient, so it is not a local minimum.
    let w = d.join("w.safetensors");
    let o = run(&[
        "export",
        certs.join("global.json").to_str().unwrap(),
        "--out",
        w.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(d.join("w.f32.safetensors").exists());
    let c = d.join("imported.json");
    let o = run(&[
        "certify",
        "--network",
        w.to_str().unwrap(),
        "examples/two_classes.json",
        "--out",
        c.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let so = text(&o.stdout);
    assert!(so.contains("verdict: not-a-local-minimum"), "{so}");
    assert!(
        so.contains("cost: 37/1298074214633706907132624082305024"),
        "{so}"
    );
    assert!(so.contains("gradient: NOT zero"), "{so}");
    for backend in ["malachite", "num"] {
        let o = run(&[
            "check",
            c.to_str().unwrap(),
            "--data",
            "examples/two_classes.json",
            "--backend",
            backend,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    }
    // A hand-written JSON network: pass-mode hidden layer, zero output layer.
    let net = d.join("net.json");
    std::fs::write(
        &net,
        r#"{"layers":[{"w":[["1","0"],["0","1"]],"b":["100","100"]},{"w":[["0","0"],["0","0"]],"b":["0","0"]}]}"#,
    )
    .unwrap();
    let o = run(&[
        "certify",
        "--network",
        net.to_str().unwrap(),
        "examples/two_classes.json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stdout).contains("verdict: not-a-local-minimum"),
        "{}",
        text(&o.stdout)
    );
    // Width mismatch is bad input.
    let o = run(&[
        "certify",
        "--network",
        net.to_str().unwrap(),
        "examples/three_classes.json",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("width 2"));
    // Plot writes an SVG.
    let svg = d.join("p.svg");
    let o = run(&[
        "plot",
        "examples/two_classes.json",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let s = std::fs::read_to_string(&svg).unwrap();
    assert!(s.starts_with("<svg") && s.contains("collapse class a"));
    let _ = std::fs::remove_dir_all(&d);
}
