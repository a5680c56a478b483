//! Data input (PRODUCT.md "Input data format", MATH.md §1): every malformed or hostile file
//! is rejected with a message naming the place and never panics; valid files load with exact
//! values; canonical hashes ignore formatting; CSV, the generator and the sufficient
//! statistics behave as documented.

use dlgeom_cert::arith::{ParseLimits, Rat};
use dlgeom_cert::data::{Class, DataLimits, Dataset};
use dlgeom_cert::gen::{generate, generate_json};
use dlgeom_cert::matrix::Matrix;
use proptest::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn r(s: &str) -> Rat {
    Rat::parse(s).unwrap()
}

fn rv(v: &[&str]) -> Vec<Rat> {
    v.iter().map(|s| r(s)).collect()
}

fn load(rel: &str) -> Dataset {
    let p = root().join(rel);
    Dataset::load(&p, &DataLimits::default()).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Parse JSON text; must not panic.
fn json(text: &[u8], limits: &DataLimits) -> Result<Dataset, String> {
    match catch_unwind(AssertUnwindSafe(|| Dataset::from_json_bytes(text, limits))) {
        Ok(r) => r.map_err(|e| e.message),
        Err(_) => panic!(
            "from_json_bytes panicked on {:?}",
            String::from_utf8_lossy(&text[..text.len().min(200)])
        ),
    }
}

fn json_err(text: &[u8], limits: &DataLimits) -> String {
    match json(text, limits) {
        Ok(_) => panic!(
            "accepted {:?}",
            String::from_utf8_lossy(&text[..text.len().min(200)])
        ),
        Err(e) => e,
    }
}

fn manifest() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(root().join("tests/bad_inputs/MANIFEST.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("file\texpected_substring"));
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (f, e) = l.split_once('\t').expect("two tab-separated columns");
            (f.to_owned(), e.to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Rejected inputs
// ---------------------------------------------------------------------------------------

#[test]
fn corpus_every_file_rejected_with_its_place_named() {
    let entries = manifest();
    assert!(entries.len() >= 30, "corpus has only {}", entries.len());
    let mut failures = Vec::new();
    for (file, expected) in &entries {
        let path = root().join("tests/bad_inputs").join(file);
        assert!(path.is_file(), "manifest lists missing file {file}");
        let got = catch_unwind(AssertUnwindSafe(|| {
            Dataset::load(&path, &DataLimits::default())
        }));
        match got {
            Err(_) => failures.push(format!("{file}: PANICKED")),
            Ok(Ok(_)) => failures.push(format!("{file}: accepted")),
            Ok(Err(e)) => {
                if !e.message.contains(expected.as_str()) {
                    failures.push(format!(
                        "{file}: message {:?} lacks {:?}",
                        e.message, expected
                    ));
                }
                if !e.message.contains(file.as_str()) {
                    failures.push(format!("{file}: message does not name the file"));
                }
                if e.message.contains('\n') {
                    failures.push(format!("{file}: message spans several lines"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_manifest_lists_every_file() {
    let listed: std::collections::HashSet<String> =
        manifest().into_iter().map(|(f, _)| f).collect();
    for entry in std::fs::read_dir(root().join("tests/bad_inputs")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "MANIFEST.tsv" {
            assert!(listed.contains(&name), "{name} is not in MANIFEST.tsv");
        }
    }
}

#[test]
fn load_names_missing_path() {
    let p = root().join("tests/bad_inputs/does-not-exist.json");
    let e = Dataset::load(&p, &DataLimits::default()).unwrap_err();
    assert!(e.message.starts_with("cannot read "), "{e}");
    assert!(e.message.contains("does-not-exist.json"), "{e}");
    let e = Dataset::load(&root().join("tests"), &DataLimits::default()).unwrap_err();
    assert!(e.message.contains("directory"), "{e}");
}

#[test]
fn deep_nesting_errors_instead_of_overflowing() {
    let deep = "[".repeat(100_000);
    // As the whole document.
    let e = json_err(deep.as_bytes(), &DataLimits::default());
    assert!(e.contains("the document must be a JSON object"), "{e}");
    // Inside a coordinate, inside an unknown key, and as nested objects.
    let in_point = format!("{{\"classes\": [{{\"inputs\": [[{deep}");
    let in_key = format!("{{\"classes\": [{{\"inputs\": [[1]], \"x\": {deep}");
    let objects = format!(
        "{{\"classes\": [{{\"inputs\": [[1]], \"x\": {}",
        "{\"a\": ".repeat(100_000)
    );
    for text in [&in_point, &in_key, &objects] {
        let e = json_err(text.as_bytes(), &DataLimits::default());
        assert!(
            e.contains("JSON nesting is deeper than the limit of 8 levels"),
            "{e}"
        );
        assert!(e.starts_with("line 1, column "), "{e}");
        // With our own limit switched off, serde_json's recursion limit (128) still stops it.
        let unlimited = DataLimits {
            max_depth: usize::MAX,
            ..DataLimits::default()
        };
        let e = json_err(text.as_bytes(), &unlimited);
        assert!(e.contains("recursion limit exceeded"), "{e}");
    }
    // A legal document at the limit is fine.
    let ok = br#"{"classes": [{"inputs": [["1"]]}]}"#;
    let five = DataLimits {
        max_depth: 5,
        ..DataLimits::default()
    };
    assert!(json(ok, &five).is_ok());
    let four = DataLimits {
        max_depth: 4,
        ..DataLimits::default()
    };
    assert!(json_err(ok, &four).contains("deeper than the limit of 4"));
}

#[test]
fn digit_and_exponent_limits() {
    let digits = |n: usize| "7".repeat(n);
    // The default (100 000 digits) accepts 10 000 digits, as a string and as a JSON number.
    let ten_k = format!(
        "{{\"classes\": [{{\"inputs\": [[\"{0}\"], [{0}]]}}]}}",
        digits(10_000)
    );
    let d = json(ten_k.as_bytes(), &DataLimits::default()).unwrap();
    assert_eq!(d.classes[0].inputs[0][0], d.classes[0].inputs[1][0]);
    assert_eq!(d.classes[0].inputs[1][0].canonical(), digits(10_000));
    // A stricter limit rejects it and names the place.
    let strict = DataLimits {
        number: ParseLimits {
            max_digits: 1000,
            max_exponent: 100,
        },
        ..DataLimits::default()
    };
    let e = json_err(ten_k.as_bytes(), &strict);
    assert!(
        e.starts_with("class 1, point 1, coordinate 1: number has 10000 digits"),
        "{e}"
    );
    assert!(
        json_err(br#"{"classes": [{"inputs": [[1e101]]}]}"#, &strict)
            .contains("exponent magnitude exceeds the limit of 100")
    );
    // 200 000 digits exceed the default, in a string, a JSON number and a fraction.
    for text in [
        format!(
            "{{\"classes\": [{{\"inputs\": [[\"{}\"]]}}]}}",
            digits(200_000)
        ),
        format!("{{\"classes\": [{{\"inputs\": [[{}]]}}]}}", digits(200_000)),
        format!(
            "{{\"classes\": [{{\"inputs\": [[\"1/{}\"]]}}]}}",
            digits(200_000)
        ),
        format!(
            "{{\"classes\": [{{\"inputs\": [[0.{}]]}}]}}",
            digits(200_000)
        ),
    ] {
        let e = json_err(text.as_bytes(), &DataLimits::default());
        assert!(
            e.contains("class 1, point 1, coordinate 1: number has"),
            "{e}"
        );
        assert!(e.len() < 400, "message too long: {}", e.len());
    }
    // A long non-number is quoted in shortened form.
    let junk = format!(
        "{{\"classes\": [{{\"inputs\": [[\"x{}\"]]}}]}}",
        "y".repeat(50_000)
    );
    let e = json_err(junk.as_bytes(), &DataLimits::default());
    assert!(e.contains("characters omitted"), "{e}");
    assert!(e.len() < 600, "message too long: {}", e.len());
}

#[test]
fn size_class_and_point_limits() {
    let limits = DataLimits {
        max_classes: 2,
        max_points: 3,
        max_file_bytes: 200,
        ..DataLimits::default()
    };
    let three = br#"{"classes": [{"inputs": [[1]]}, {"inputs": [[0]]}, {"inputs": [[0]]}]}"#;
    assert!(json_err(three, &limits).contains("too many classes, more than the limit of 2"));
    let many = br#"{"classes": [{"inputs": [[1,0],[1,0],[1,0]]}, {"inputs": [[0,1]]}]}"#;
    let e = json_err(many, &limits);
    assert!(
        e.contains("too many points, more than the limit of 3"),
        "{e}"
    );
    let long_point = br#"{"classes": [{"inputs": [[1,0,0,0]]}, {"inputs": [[0,1]]}]}"#;
    let e = json_err(long_point, &limits);
    assert!(
        e.starts_with("class 1, point 1: more than 2 coordinates"),
        "{e}"
    );
    let big = format!(
        "{{\"classes\": [{{\"inputs\": [[1]]}}]}}{}",
        " ".repeat(300)
    );
    assert!(json_err(big.as_bytes(), &limits).contains("more than the limit of 200"));
    let csv = b"a,1,0\nb,0,1\na,1,1\nb,2,2\n";
    let e = Dataset::from_csv_bytes(csv, &limits).unwrap_err().message;
    assert!(e.starts_with("line 4: too many points"), "{e}");
    let csv3 = b"a,1,0,0\n";
    let e = Dataset::from_csv_bytes(csv3, &limits).unwrap_err().message;
    assert!(e.starts_with("line 1: CSV row has 3 coordinates"), "{e}");
    // A file over the size limit is refused before reading.
    let e = Dataset::load(&root().join("examples/iris3.json"), &limits).unwrap_err();
    assert!(e.message.contains("more than the limit of 200"), "{e}");
}

#[test]
fn every_prefix_and_byte_flip_is_handled_without_panic() {
    let good = std::fs::read(root().join("examples/two_classes.json")).unwrap();
    let limits = DataLimits::default();
    for cut in 0..good.len() {
        let prefix = &good[..cut];
        // Every proper prefix that still lacks the closing brace is an error.
        if !String::from_utf8_lossy(prefix).trim_end().ends_with('}') {
            json_err(prefix, &limits);
        }
    }
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let interesting = b"{}[],:\"\\/.-+eE0123456789 \ntfn\xff\xc3";
    for _ in 0..3000 {
        let mut bytes = good.clone();
        for _ in 0..3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % bytes.len() as u64) as usize;
            bytes[at] = interesting[((x >> 32) % interesting.len() as u64) as usize];
        }
        let _ = json(&bytes, &limits);
        let _ = catch_unwind(AssertUnwindSafe(|| {
            Dataset::from_csv_bytes(&bytes, &limits)
        }))
        .expect("CSV reader panicked");
    }
}

// ---------------------------------------------------------------------------------------
// Valid inputs
// ---------------------------------------------------------------------------------------

#[test]
fn two_classes_example() {
    let d = load("examples/two_classes.json");
    assert_eq!(d.q, 2);
    assert_eq!(d.counts(), vec![6, 6]);
    assert_eq!(d.n(), 12);
    let a = &d.classes[0];
    assert_eq!(a.name.as_deref(), Some("a"));
    assert!(!a.target_given);
    assert_eq!(a.target, rv(&["1", "0"]));
    let b = &d.classes[1];
    assert!(b.target_given);
    assert_eq!(b.target, rv(&["-1/2", "2"]));
    // JSON numbers and strings, exactly.
    assert_eq!(a.inputs[1], rv(&["21/2", "-1/4"]));
    assert_eq!(a.inputs[5], rv(&["41/4", "-1/3"]));
    assert_eq!(b.inputs[5], rv(&["1/8", "87/8"]));
}

#[test]
fn three_and_four_classes_examples() {
    let d = load("examples/three_classes.json");
    assert_eq!(d.q, 3);
    assert_eq!(d.counts(), vec![5, 5, 5]);
    for (j, c) in d.classes.iter().enumerate() {
        assert!(!c.target_given);
        let mut e = vec![Rat::zero(); 3];
        e[j] = Rat::one();
        assert_eq!(c.target, e, "one-hot default of class {}", j + 1);
    }
    assert_eq!(d.classes[2].inputs[3], rv(&["1/2", "0", "59/6"]));

    let d = load("examples/four_classes.json");
    assert_eq!(d.q, 4);
    assert_eq!(d.counts(), vec![4, 4, 4, 4]);
    assert!(d.classes.iter().all(|c| c.target_given));
    assert_eq!(d.classes[0].target, rv(&["2", "-1", "1/2", "0"]));
    assert_eq!(d.classes[3].target, rv(&["1/4", "1/4", "1/4", "-2"]));

    let d = load("examples/xor_not_separable.json");
    assert_eq!(d.q, 2);
    assert_eq!(d.classes[0].inputs, vec![rv(&["0", "0"]), rv(&["1", "1"])]);
    assert_eq!(d.classes[1].inputs, vec![rv(&["0", "1"]), rv(&["1", "0"])]);
}

#[test]
fn iris_example() {
    let d = load("examples/iris3.json");
    assert_eq!(d.q, 3);
    assert_eq!(d.counts(), vec![50, 50, 50]);
    let names: Vec<_> = d.classes.iter().map(|c| c.name.clone().unwrap()).collect();
    assert_eq!(names, ["setosa", "versicolor", "virginica"]);
    // First and last rows of Fisher's table: (5.1, 1.4, 0.2) and (5.9, 5.1, 1.8).
    assert_eq!(d.classes[0].inputs[0], rv(&["51/10", "7/5", "1/5"]));
    assert_eq!(d.classes[2].inputs[49], rv(&["59/10", "51/10", "9/5"]));
    // Column sums of the data set (sepal length 876.5, petal length 563.7, petal width 179.9).
    let stats = d.class_stats();
    let total = |m: usize| -> Rat { stats.iter().map(|s| s.sum[m].clone()).sum() };
    assert_eq!(total(0), r("876.5"));
    assert_eq!(total(1), r("563.7"));
    assert_eq!(total(2), r("179.9"));
}

#[test]
fn valid_edge_cases_parse() {
    let d = load("tests/valid_edge/identical_points_two_classes.json");
    assert_eq!(d.classes[0].inputs[0], d.classes[1].inputs[0]);
    let d = load("tests/valid_edge/all_points_identical.json");
    assert_eq!(d.counts(), vec![2, 1]);
    assert!(d
        .classes
        .iter()
        .flat_map(|c| &c.inputs)
        .all(|x| *x == rv(&["1", "1"])));
    let d = load("tests/valid_edge/q1.json");
    assert_eq!(d.q, 1);
    assert_eq!(d.classes[0].target, rv(&["1"]));
    assert_eq!(
        d.classes[0].inputs,
        vec![rv(&["3"]), rv(&["-1/2"]), rv(&["1/4"])]
    );
    let d = load("tests/valid_edge/utf8_bom.json");
    assert_eq!(d.classes[0].name.as_deref(), Some("bom"));
}

#[test]
fn numbers_are_exact() {
    let d = load("tests/valid_edge/big_numbers.json");
    let a = &d.classes[0];
    let forty = "1234567890123456789012345678901234567890";
    assert_eq!(a.inputs[0][0].canonical(), forty);
    assert_eq!(a.inputs[0][1].canonical(), format!("-{forty}"));
    // JSON number 1e-1 and the string "0.1" are both exactly 1/10.
    assert_eq!(a.inputs[1][0], r("1/10"));
    assert_eq!(a.inputs[1][1], r("1/10"));
    assert_eq!(a.inputs[2], rv(&["0", "18446744073709551616"]));
    assert_eq!(a.inputs[3], rv(&["-9223372036854775809", "2500"]));
    assert_eq!(a.target, rv(&["1", "0"]));
    assert!(a.target_given);
    assert_eq!(d.classes[1].name.as_deref(), Some("later-name"));
    assert_eq!(d.classes[1].target, rv(&["0", "1"]));
    assert_eq!(d.classes[1].inputs[0], rv(&["1/3", "-22/7"]));
    // 0.1 is never the binary float.
    assert_ne!(a.inputs[1][0], Rat::from_f64_exact(0.1).unwrap());
}

#[test]
fn canonical_hash_ignores_formatting() {
    let a = br#"{"format": "dlgeom-data/1", "classes": [
        {"name": "a", "inputs": [["0.5", "-3"], [10, 1e-1]]},
        {"name": "b", "target": ["0", "1"], "inputs": [["1/3", "2"]]}]}"#;
    let b = br#"{"classes":[{"inputs":[[0.50,-3.0],["1E1","1/10"]],"target":[1,0]},
        {"inputs":[["2/6",2]],"name":"other name"}]}"#;
    let da = json(a, &DataLimits::default()).unwrap();
    let db = json(b, &DataLimits::default()).unwrap();
    assert_eq!(da.sha256_canonical, db.sha256_canonical);
    assert_ne!(da.sha256_bytes, db.sha256_bytes);
    assert_eq!(da.canonical_json(), db.canonical_json());
    assert_eq!(
        da.canonical_json(),
        r#"{"format":"dlgeom-data/1","classes":[{"target":["1","0"],"inputs":[["1/2","-3"],["10","1/10"]]},{"target":["0","1"],"inputs":[["1/3","2"]]}]}"#
    );
    assert_eq!(da.sha256_canonical.len(), 64);
    assert!(da
        .sha256_canonical
        .bytes()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    // The pretty form of an example hashes like the example itself.
    let ex = load("examples/four_classes.json");
    let pretty = json(ex.to_json_pretty().as_bytes(), &DataLimits::default()).unwrap();
    assert_eq!(pretty.sha256_canonical, ex.sha256_canonical);
    assert_ne!(pretty.sha256_bytes, ex.sha256_bytes);
    // A change in one value changes the canonical hash.
    let c = br#"{"classes":[{"inputs":[[0.5,-3],[10,0.1]]},{"inputs":[["1/3","2.0001"]]}]}"#;
    let dc = json(c, &DataLimits::default()).unwrap();
    assert_ne!(dc.sha256_canonical, da.sha256_canonical);
}

#[test]
fn hashes_match_sha256sum() {
    // Computed independently with `printf '%s' TEXT | sha256sum`.
    let d = json(br#"{"classes":[{"inputs":[[1]]}]}"#, &DataLimits::default()).unwrap();
    assert_eq!(
        d.sha256_bytes,
        "41b26643e56232de1df4db7f5f3a867b7f1caae349218b47a73d1c70d9939f50"
    );
    assert_eq!(
        d.canonical_json(),
        r#"{"format":"dlgeom-data/1","classes":[{"target":["1"],"inputs":[["1"]]}]}"#
    );
    assert_eq!(
        d.sha256_canonical,
        "d026d551ef8af7a018f8ee690da08524db0d43d77a0f698df5ab0be487f41077"
    );
}

#[test]
fn csv_loads() {
    let d = load("tests/valid_edge/two_classes_header.csv");
    assert_eq!(d.q, 2);
    assert_eq!(d.counts(), vec![3, 2]);
    assert_eq!(d.classes[1].name.as_deref(), Some("b"));
    assert_eq!(d.classes[1].inputs[1], rv(&["1/2", "19/2"]));
    assert!(d.classes.iter().all(|c| !c.target_given));
    assert_eq!(d.classes[1].target, rv(&["0", "1"]));
    // Same data as JSON ⇒ same canonical hash.
    let j = br#"{"classes": [
        {"name": "a", "inputs": [["10", "0"], ["10.5", "-0.25"], ["9.75", "1/4"]]},
        {"name": "b", "inputs": [["0", "10"], ["0.5", "9.5"]]}]}"#;
    let dj = json(j, &DataLimits::default()).unwrap();
    assert_eq!(dj.sha256_canonical, d.sha256_canonical);
    // Windows line endings, no header.
    let crlf = b"a,10,0\r\nb,0,10\r\n";
    let dc = Dataset::from_csv_bytes(crlf, &DataLimits::default()).unwrap();
    assert_eq!(dc.counts(), vec![1, 1]);
    // A Q = 1 CSV.
    let q1 = Dataset::from_csv_bytes(b"only,3\nonly,-1/2\n", &DataLimits::default()).unwrap();
    assert_eq!(q1.q, 1);
}

#[test]
fn to_json_pretty_is_readable_and_round_trips() {
    let d = load("examples/two_classes.json");
    let text = d.to_json_pretty();
    assert!(text.starts_with("{\n  \"format\": \"dlgeom-data/1\",\n"));
    assert!(text.contains("      \"name\": \"a\",\n      \"target\": [\"1\", \"0\"],\n"));
    assert!(text.contains("        [\"21/2\", \"-1/4\"],\n"));
    assert!(text.ends_with("]\n}\n"));
    let back = json(text.as_bytes(), &DataLimits::default()).unwrap();
    for (x, y) in back.classes.iter().zip(&d.classes) {
        assert_eq!(x.name, y.name);
        assert_eq!(x.target, y.target);
        assert_eq!(x.inputs, y.inputs);
    }
}

// ---------------------------------------------------------------------------------------
// Generator and statistics
// ---------------------------------------------------------------------------------------

#[test]
fn gen_is_deterministic_and_shaped() {
    let spread = r("2");
    let a = generate_json(3, 7, &spread, 12345);
    let b = generate_json(3, 7, &spread, 12345);
    assert_eq!(a, b);
    assert_ne!(a, generate_json(3, 7, &spread, 12346));
    let d = generate(3, 7, &spread, 12345);
    assert_eq!(d.to_json_pretty(), a);
    assert_eq!(d.q, 3);
    assert_eq!(d.counts(), vec![7, 7, 7]);
    let names: Vec<_> = d.classes.iter().map(|c| c.name.clone().unwrap()).collect();
    assert_eq!(names, ["c1", "c2", "c3"]);
    // It reads back as the same data set, bytes and all.
    let back = json(a.as_bytes(), &DataLimits::default()).unwrap();
    assert_eq!(back, d);
    // Values: centre 10·e_j plus spread·k/1000, |k| ≤ 1000, separable by x_j = 5.
    let five = r("5");
    for (j, c) in d.classes.iter().enumerate() {
        let mut e = vec![Rat::zero(); 3];
        e[j] = Rat::one();
        assert_eq!(c.target, e);
        for x in &c.inputs {
            for (m, v) in x.iter().enumerate() {
                let centre = if m == j { r("10") } else { Rat::zero() };
                let off = v - &centre;
                assert!(off.abs() <= spread);
                let k = &off * &r("500"); // (off / spread) · 1000 with spread 2
                assert!(k.is_integer(), "{v} is not centre + spread·k/1000");
            }
            for (k, v) in x.iter().enumerate() {
                // class-vs-rest separation by the hyperplane x_k = 5
                assert_eq!(k == j, *v > five);
            }
        }
    }
    // Fractional spreads give exact values too.
    let g = generate(2, 3, &r("1/3"), 0);
    assert!(g.classes[0]
        .inputs
        .iter()
        .flatten()
        .all(|v| (v * &r("3000")).is_integer()));
    // Q = 1 works.
    assert_eq!(generate(1, 2, &spread, 9).counts(), vec![2]);
}

fn direct_stats(inputs: &[Vec<Rat>], q: usize) -> (Vec<Rat>, Matrix) {
    let mut sum = vec![Rat::zero(); q];
    let mut outer = Matrix::zeros(q, q);
    for x in inputs {
        for a in 0..q {
            sum[a] += &x[a];
            for b in 0..q {
                outer[(a, b)] += &x[a] * &x[b];
            }
        }
    }
    (sum, outer)
}

#[test]
fn class_stats_match_direct_recomputation() {
    for rel in [
        "examples/two_classes.json",
        "examples/three_classes.json",
        "examples/four_classes.json",
        "examples/iris3.json",
        "tests/valid_edge/big_numbers.json",
        "tests/valid_edge/q1.json",
    ] {
        let d = load(rel);
        let stats = d.class_stats();
        assert_eq!(stats.len(), d.q);
        for (c, s) in d.classes.iter().zip(&stats) {
            let (sum, outer) = direct_stats(&c.inputs, d.q);
            assert_eq!(s.count, c.inputs.len(), "{rel}");
            assert_eq!(s.sum, sum, "{rel}");
            assert_eq!(s.outer, outer, "{rel}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Round trip
// ---------------------------------------------------------------------------------------

fn arb_rat() -> impl Strategy<Value = Rat> {
    prop_oneof![
        (-1000i64..=1000, 1i64..=1000).prop_map(|(n, d)| Rat::from_frac(n, d).unwrap()),
        (any::<i64>(), 1i64..=i64::MAX).prop_map(|(n, d)| Rat::from_frac(n, d).unwrap()),
        "-?[1-9][0-9]{0,60}(/[1-9][0-9]{0,30})?".prop_map(|s| Rat::parse(&s).unwrap()),
    ]
}

fn arb_dataset() -> impl Strategy<Value = Dataset> {
    (1usize..=4).prop_flat_map(|q| {
        let class = (
            proptest::option::of("\\PC{0,12}"),
            proptest::collection::vec(arb_rat(), q),
            proptest::collection::vec(proptest::collection::vec(arb_rat(), q), 1..=4),
        )
            .prop_map(|(name, target, inputs)| Class {
                name,
                target,
                target_given: true,
                inputs,
            });
        proptest::collection::vec(class, q)
            .prop_map(|classes| Dataset::from_classes(classes).unwrap())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn round_trip_through_pretty_json(d in arb_dataset()) {
        let text = d.to_json_pretty();
        let back = Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default());
        prop_assert!(back.is_ok(), "{:?}", back.err());
        let back = back.unwrap();
        prop_assert_eq!(&back, &d);
        let canon = Dataset::from_json_bytes(d.canonical_json().as_bytes(), &DataLimits::default()).unwrap();
        prop_assert_eq!(canon.sha256_canonical, d.sha256_canonical.clone());
        let stats = d.class_stats();
        for (c, s) in d.classes.iter().zip(&stats) {
            let (sum, outer) = direct_stats(&c.inputs, d.q);
            prop_assert_eq!(&s.sum, &sum);
            prop_assert_eq!(&s.outer, &outer);
        }
    }
}
