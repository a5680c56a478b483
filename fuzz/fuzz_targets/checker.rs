//! The checker on arbitrary certificate text against `examples/two_classes.json`: never
//! panics, and whatever it accepts has the network, configuration, verdict and cost of one
//! of the archived certificates for that data (`certificates/two_classes/`). (Other fields
//! have documented harmless variants, e.g. a removed optional witness or a moved flat-line
//! sample, which `tests/fuzz.rs` classifies exactly.) Seed the corpus with the archive (see
//! `fuzz/README.md`) so the fuzzer mutates real certificates.
#![no_main]
use dlgeom_cert::checker::{check_json, parse_certificate, Backend};
use dlgeom_cert::data::{DataLimits, Dataset};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

struct Fixture {
    data: Dataset,
    /// (network, configuration, verdict, cost) of every archived certificate.
    archived: Vec<serde_json::Value>,
}

fn key(text: &str) -> Option<serde_json::Value> {
    let c = parse_certificate(text).ok()?;
    let v = serde_json::to_value(&c).ok()?;
    let cl = &v["claims"];
    Some(serde_json::json!([
        v["network"],
        v["configuration"],
        cl["verdict"],
        cl["cost"]
    ]))
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let bytes = std::fs::read(root.join("examples/two_classes.json")).expect("example");
        let data = Dataset::from_json_bytes(&bytes, &DataLimits::default()).expect("data");
        let mut archived = Vec::new();
        for e in std::fs::read_dir(root.join("certificates/two_classes")).expect("archive") {
            let p = e.expect("entry").path();
            if p.file_name().is_some_and(|n| n != "summary.json") {
                let text = std::fs::read_to_string(&p).expect("certificate");
                archived.push(key(&text).expect("archived certificate parses"));
            }
        }
        Fixture { data, archived }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let f = fixture();
    if let Ok(report) = check_json(text, &f.data, Backend::Malachite) {
        if report.accepted() {
            let k = key(text).expect("an accepted certificate parses");
            assert!(
                f.archived.contains(&k),
                "accepted a certificate whose network, configuration, verdict or cost differ from every archived one"
            );
        }
    }
});
