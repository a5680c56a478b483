//! One limit policy for what the tool writes and what its checker reads back, the
//! self-check of the bytes on disk, and the folder check (look-alike certificates rejected,
//! `summary.json` verified against the certificates beside it, skipped files listed).

mod common;
use common::cli::{run, text, tmpdir};

use dlgeom_cert::checker::CertLimits;
use dlgeom_cert::cli::{self, VerifyArgs, DEFAULT_MAX_CONFIGURATIONS, DEFAULT_MAX_LAYERS};
use dlgeom_cert::data::DataLimits;
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::Families;
use std::path::{Path, PathBuf};
use std::process::Output;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

const DATA: &str = "examples/two_classes.json";

/// `verify DATA --out OUT` (self-check on), which must succeed.
fn verify_ok(data: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["verify", data, "--out", s(out), "--quiet"];
    args.extend(extra);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

fn check_dir(dir: &Path, data: &str, extra: &[&str]) -> Output {
    let mut args = vec!["check", s(dir), "--data", data];
    args.extend(extra);
    run(&args)
}

/// Entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn folder_check_rejects_a_tampered_format_tag_and_lists_skipped_files() {
    let d = tmpdir("format");
    let out = d.join("certs");
    verify_ok(DATA, &out, &[]);
    std::fs::write(out.join("notes.json"), r#"{"hello": 1}"#).unwrap();
    let o = check_dir(&out, DATA, &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // The format tag changed in case only: it looks like a certificate, so it is rejected
    // (it used to be skipped silently, with exit 0 and nothing printed under --quiet).
    let p = out.join("global.json");
    let t = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, t.replacen("\"dlgeom-cert/1\"", "\"Dlgeom-cert/1\"", 1)).unwrap();
    let o = check_dir(&out, DATA, &["--quiet"]);
    let so = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{so}");
    assert!(
        so.contains("REJECTED") && so.contains("global.json"),
        "{so}"
    );
    assert!(so.contains("Dlgeom-cert/1"), "{so}");
    // --json lists every file: the rejection, and the skipped file with its reason.
    let o = check_dir(&out, DATA, &["--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let rows = v.as_array().unwrap();
    let row = |name: &str| {
        rows.iter()
            .find(|r| r["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not listed in {v}"))
    };
    assert_eq!(row("global.json")["accepted"], false);
    assert!(row("notes.json")["skipped"].is_string(), "{v}");
    assert_eq!(row("shallow.json")["accepted"], true);
    // The certificate's keys without a format tag: also a rejection.
    let mut c: serde_json::Value = serde_json::from_str(&t).unwrap();
    c.as_object_mut().unwrap().remove("format");
    std::fs::write(&p, serde_json::to_string(&c).unwrap()).unwrap();
    let o = check_dir(&out, DATA, &["--quiet"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains("global.json"));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn folder_check_verifies_summary_json_against_the_certificates() {
    let d = tmpdir("summary");
    let out = d.join("certs");
    verify_ok(DATA, &out, &[]);
    let o = check_dir(&out, DATA, &[]);
    let so = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{so}");
    assert!(
        so.contains("ACCEPTED") && so.contains("summary.json"),
        "{so}"
    );
    assert!(!so.contains("SKIPPED"), "{so}");
    let p = out.join("summary.json");
    let original = std::fs::read_to_string(&p).unwrap();
    let v0: serde_json::Value = serde_json::from_str(&original).unwrap();
    type Edit = fn(&mut serde_json::Value);
    let edits: [(&str, Edit); 5] = [
        ("a family count", |v| {
            let n = v["c3_families"][0]["certified"].as_u64().unwrap();
            v["c3_families"][0]["certified"] = (n + 1).into();
        }),
        ("a cost", |v| {
            let rows = v["configurations"].as_array_mut().unwrap();
            let r = rows.iter_mut().find(|r| r["id"] == "shallow").unwrap();
            r["cost"] = "1/7".into();
        }),
        ("a verdict", |v| {
            let rows = v["configurations"].as_array_mut().unwrap();
            let r = rows.iter_mut().find(|r| r["id"] == "grouped-1+2").unwrap();
            r["verdict"] = "critical-point-not-certified".into();
        }),
        ("a claim status", |v| {
            v["claims"][2]["status"] = "certified".into();
        }),
        ("a dropped row", |v| {
            v["configurations"].as_array_mut().unwrap().pop();
        }),
    ];
    for (what, edit) in edits {
        let mut v = v0.clone();
        edit(&mut v);
        assert_ne!(v, v0, "{what}: the edit changes nothing");
        std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        let o = check_dir(&out, DATA, &["--quiet"]);
        let so = text(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{what}: {so}");
        assert!(
            so.contains("REJECTED") && so.contains("summary.json"),
            "{what}: {so}"
        );
    }
    std::fs::write(&p, original).unwrap();
    assert_eq!(check_dir(&out, DATA, &["--quiet"]).status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&d);
}

/// Two classes in the plane, one point with a 25 000-digit coordinate: the shallow
/// certificate's output bias has 125 007 characters, beyond the checker's old fixed
/// 100 000-character limit, which rejected what `verify` and `certify` had written.
fn long_number_data(dir: &Path) -> PathBuf {
    let big = "9".repeat(25_000);
    let p = dir.join("long.json");
    let text = format!(
        r#"{{"format": "dlgeom-data/1", "classes": [
            {{"inputs": [["{big}", "0"], ["1", "0"]]}},
            {{"inputs": [["0", "10"], ["0", "11"]]}}]}}"#
    );
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn what_verify_and_certify_write_check_accepts_under_the_same_flags() {
    let d = tmpdir("long");
    let data = long_number_data(&d);
    let out = d.join("certs");
    let o = run(&["verify", s(&data), "--out", s(&out)]);
    let (so, se) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(0), "{so}\n{se}");
    assert!(!se.contains("REJECTED"), "{se}");
    assert!(so.contains("re-checked by the independent checker"), "{so}");
    let o = check_dir(&out, s(&data), &["--quiet"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).is_empty());
    // The second backend accepts the same files: its float cross-check reads back computed
    // values longer than any data number (it once read them under the data's digit limit and
    // saw NaN).
    let o = check_dir(&out, s(&data), &["--quiet", "--backend", "num"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // certify --out of a network of the same run (the network reader has its own fixed
    // 100 000-digit limit, so not the shallow one): written, and accepted by `check` under
    // the same flags.
    let cert = d.join("imported.json");
    let flags = ["--max-digits", "200000"];
    let net = out.join("grouped-1+2.json");
    let mut args = vec!["certify", "--network", s(&net), s(&data), "--out", s(&cert)];
    args.extend(flags);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(!text(&o.stderr).contains("REJECTED"));
    assert!(text(&o.stdout).contains("accepted by the independent checker"));
    let mut args = vec!["check", s(&cert), "--data", s(&data)];
    args.extend(flags);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // The shallow network holds numbers longer than any data number: `certify` reads it
    // back under the certificate limit of the same (default) flags, as `check` does.
    let net = out.join("shallow.json");
    let cert = d.join("shallow-imported.json");
    let o = run(&["certify", "--network", s(&net), s(&data), "--out", s(&cert)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = run(&["check", s(&cert), "--data", s(&data)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_certificate_beyond_the_limit_is_refused_before_anything_is_written() {
    let d = tmpdir("refuse");
    let out = d.join("certs");
    // D = max(10, --max-digits 10) = 10 digits: the data reads, its certificates do not fit.
    let flags = ["--max-digits", "10", "--max-certificate-digits", "10"];
    let mut args = vec!["verify", DATA, "--out", s(&out)];
    args.extend(flags);
    let o = run(&args);
    let se = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{se}");
    assert!(
        se.contains("--max-certificate-digits") && se.contains("nothing was written"),
        "{se}"
    );
    assert!(!out.exists());
    let mut args = vec![
        "certify",
        "--network",
        "certificates/two_classes/partial-S1.json",
        DATA,
    ];
    let cert = d.join("c.json");
    args.extend(["--out", s(&cert)]);
    args.extend(flags);
    let o = run(&args);
    let se = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{se}");
    assert!(
        se.contains("--max-certificate-digits") && se.contains("nothing was written"),
        "{se}"
    );
    assert!(!cert.exists());
    // Under a limit they fit: written, and `check` with the same flags accepts them; with a
    // smaller limit `check` rejects the longer numbers, naming the flag.
    let flags = ["--max-digits", "10", "--max-certificate-digits", "100"];
    verify_ok(DATA, &out, &flags);
    let o = check_dir(&out, DATA, &flags);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let o = check_dir(&out, DATA, &["--max-certificate-digits", "50", "--quiet"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "D = max(50, default --max-digits) accepts"
    );
    let o = check_dir(
        &out,
        DATA,
        &["--max-digits", "10", "--max-certificate-digits", "50"],
    );
    let so = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{so}");
    assert!(
        so.contains("limits: ") && so.contains("--max-certificate-digits"),
        "{so}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

fn args(out: &Path, force: bool) -> VerifyArgs {
    VerifyArgs {
        data: PathBuf::from(DATA),
        layers: None,
        out: out.to_path_buf(),
        force,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
        json: false,
        quiet: false,
        no_self_check: false,
        limits: DataLimits::default(),
        families: Families::ALL,
        max_configurations: DEFAULT_MAX_CONFIGURATIONS,
        max_layers: DEFAULT_MAX_LAYERS,
        cert_limits: CertLimits::default(),
    }
}

/// Replace `from` by `to` in the staged file `name` (the bytes the self-check re-reads).
fn alter(stage: &Path, name: &str, from: &str, to: &str) {
    let p = stage.join(name);
    let t = std::fs::read_to_string(&p).unwrap();
    assert!(t.contains(from), "{name} has no {from}");
    std::fs::write(&p, t.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_self_check_rejection_leaves_nothing_at_the_final_path() {
    let d = tmpdir("reject");
    let out = d.join("certs");
    // The bytes on disk are what is checked: a certificate altered after writing is
    // rejected, and nothing reaches --out.
    let o = cli::verify_with(&args(&out, false), &|stage| {
        alter(
            stage,
            "global.json",
            "\"margin\": {",
            "\"margin\": {\"x\": 1, ",
        )
    });
    assert_eq!(o.code, 1, "{}\n{}", o.stdout, o.stderr);
    assert!(
        o.stderr.contains("self-check REJECTED global.json"),
        "{}",
        o.stderr
    );
    assert!(o.stdout.contains("NOTHING WRITTEN"), "{}", o.stdout);
    assert!(!o.stdout.contains("re-checked"), "{}", o.stdout);
    assert!(!out.exists(), "{:?}", entries(&d));
    assert_eq!(
        entries(&d),
        Vec::<String>::new(),
        "the staging folder is removed"
    );
    // summary.json is checked too; with --force over an earlier run, nothing is replaced.
    let o = cli::verify(&args(&out, false));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("re-checked by the independent checker"));
    let before: Vec<Vec<u8>> = entries(&out)
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();
    std::fs::write(out.join("summary.json"), "{\"older\": 1}\n").unwrap();
    let o = cli::verify_with(&args(&out, true), &|stage| {
        alter(stage, "summary.json", "\"points\": 12", "\"points\": 13")
    });
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(
        o.stderr.contains("self-check REJECTED summary.json"),
        "{}",
        o.stderr
    );
    assert_eq!(
        std::fs::read_to_string(out.join("summary.json")).unwrap(),
        "{\"older\": 1}\n"
    );
    assert_eq!(entries(&d), ["certs"], "the staging folder is removed");
    // Accepted: moved into place over the earlier files.
    let o = cli::verify(&args(&out, true));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let after: Vec<Vec<u8>> = entries(&out)
        .iter()
        .map(|n| std::fs::read(out.join(n)).unwrap())
        .collect();
    assert_eq!(before, after);
    assert_eq!(entries(&d), ["certs"]);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn write_atomic_removes_its_temporary_file_on_error() {
    let d = tmpdir("atomic");
    // The rename onto a folder fails: the error is reported and no temporary file stays.
    std::fs::create_dir(d.join("target")).unwrap();
    assert!(cli::write_atomic(&d.join("target"), b"bytes").is_err());
    assert_eq!(entries(&d), ["target"]);
    cli::write_atomic(&d.join("file"), b"bytes").unwrap();
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"bytes");
    assert_eq!(entries(&d), ["file", "target"]);
    let _ = std::fs::remove_dir_all(&d);
}
