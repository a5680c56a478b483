//! Tests of the independent checker (`dlgeom_cert::checker`): acceptance of every certificate
//! the producer writes (both backends, identical reports), a systematic single-field
//! mutation sweep (every mutation must be rejected), data binding, hostile input, and a
//! hand-built certificate computed on paper (independent of the producer).

use dlgeom_cert::cert::*;
use dlgeom_cert::checker::{check, check_json, check_path, parse_certificate, Backend, Report};
use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::{run, Options, Outcome};
use serde_json::Value;
use std::path::Path;

const BACKENDS: [Backend; 2] = [Backend::Malachite, Backend::Num];

fn data(text: &str) -> Dataset {
    Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default()).expect("test data")
}

/// Q = 2, three points per class, well separated: the run yields a global minimum, local
/// minima (shallow, merged) and refuted partial curations with descent witnesses.
const SMALL: &str = r#"{"classes": [
  {"inputs": [["0", "0"], ["1/2", "1/4"], ["1/4", "1/2"]]},
  {"inputs": [["4", "4"], ["9/2", "4"], ["4", "5"]]}]}"#;

/// The same points as [`SMALL`] with one input moved.
const SMALL_MOVED: &str = r#"{"classes": [
  {"inputs": [["0", "0"], ["1/2", "1/4"], ["1/4", "1/2"]]},
  {"inputs": [["4", "4"], ["9/2", "4"], ["4", "6"]]}]}"#;

fn certificates(d: &Dataset, layers: usize, norm: Normalisation) -> Vec<Certificate> {
    let opts = Options {
        layers,
        norm,
        partition_limit: 5,
    };
    run(d, &opts)
        .entries
        .into_iter()
        .filter_map(|e| match e.outcome {
            Outcome::Built(b) => Some(b.certificate),
            Outcome::Infeasible(_) => None,
        })
        .collect()
}

fn both(cert: &Certificate, d: &Dataset) -> Report {
    let a = check(cert, d, Backend::Malachite);
    let b = check(cert, d, Backend::Num);
    assert_eq!(a, b, "backends disagree on {}", cert.configuration.id);
    a
}

fn assert_accepted(cert: &Certificate, d: &Dataset) {
    let r = both(cert, d);
    assert!(r.accepted(), "{} rejected:\n{r}", cert.configuration.id);
    // The JSON text round trip (as `check` reads files) gives the same report.
    for b in BACKENDS {
        assert_eq!(check_json(&cert.to_json(), d, b).expect("parses"), r);
    }
}

#[test]
fn producer_certificates_are_accepted() {
    let d = data(SMALL);
    let mut verdicts = Vec::new();
    for (layers, norm) in [
        (2, Normalisation::HalfMean),
        (3, Normalisation::Mean),
        (1, Normalisation::HalfMean),
    ] {
        for c in certificates(&d, layers, norm) {
            assert_accepted(&c, &d);
            verdicts.push(c.claims.verdict.clone());
        }
    }
    for v in ["global-minimum", "local-minimum", "not-a-local-minimum"] {
        assert!(verdicts.iter().any(|x| x == v), "no {v} among {verdicts:?}");
    }
}

#[test]
fn example_certificates_are_accepted() {
    for f in [
        "two_classes",
        "three_classes",
        "four_classes",
        "xor_not_separable",
        "iris3",
    ] {
        let path = format!("{}/examples/{f}.json", env!("CARGO_MANIFEST_DIR"));
        let d = Dataset::load(Path::new(&path), &DataLimits::default())
            .unwrap_or_else(|e| panic!("bundled example {f} does not load: {e}"));
        let t = std::time::Instant::now();
        let certs = certificates(&d, d.q, Normalisation::HalfMean);
        let built = t.elapsed();
        // As many certificates as the archive holds for the example (summary.json aside).
        let archived =
            std::fs::read_dir(format!("{}/certificates/{f}", env!("CARGO_MANIFEST_DIR")))
                .unwrap_or_else(|e| panic!("archive of {f}: {e}"))
                .filter(|e| e.as_ref().is_ok_and(|e| e.file_name() != "summary.json"))
                .count();
        assert_eq!(certs.len(), archived, "{f}: certificates built vs archived");
        for c in &certs {
            assert_accepted(c, &d);
        }
        println!(
            "{f}: {} certificates accepted (built in {built:?}, total {:?})",
            certs.len(),
            t.elapsed()
        );
    }
}

/// A replacement for one value of the JSON tree, addressed by its path.
struct Mutation {
    path: String,
    keys: Vec<Key>,
    value: Value,
}

#[derive(Clone)]
enum Key {
    Field(String),
    Index(usize),
}

fn num(s: &str) -> Option<dlgeom_cert::arith::Rat> {
    dlgeom_cert::arith::Rat::parse(s)
        .ok()
        .filter(|r| r.canonical() == s)
}

fn leaf_mutations(v: &Value) -> Vec<Value> {
    match v {
        Value::Null => vec![Value::from(0), Value::from("0"), Value::Array(vec![])],
        Value::Bool(b) => vec![Value::Bool(!b)],
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let mut out = vec![Value::from(u + 1)];
                out.push(if u > 0 {
                    Value::from(u - 1)
                } else {
                    Value::from(-1)
                });
                out
            } else {
                let x = n.as_f64().expect("finite");
                let up = f64::from_bits(x.to_bits() + 1);
                let down = if x == 0.0 {
                    -0.0
                } else {
                    f64::from_bits(x.to_bits() - 1)
                };
                [up, down]
                    .iter()
                    .map(|&y| Value::Number(serde_json::Number::from_f64(y).expect("finite")))
                    .collect()
            }
        }
        Value::String(s) => {
            let mut out = Vec::new();
            if let Some(r) = num(s) {
                let one = dlgeom_cert::arith::Rat::one();
                out.push((&r + &one).canonical());
                out.push(if s == "1/2" {
                    "1/3".into()
                } else {
                    "1/2".into()
                });
                let (p, q) = (r.numer(), r.denom());
                out.push(format!(
                    "{}/{}",
                    (&p + &p).canonical(),
                    (&q + &q).canonical()
                ));
            } else {
                out.push(format!("{s}x"));
                match s.as_str() {
                    "1/(2N)" => out.push("1/N".into()),
                    "1/N" => out.push("1/(2N)".into()),
                    _ => {}
                }
                let first = s.chars().next().unwrap_or('a');
                let repl = match first {
                    '0' => '1',
                    '1' => '0',
                    'a' => 'b',
                    _ => 'a',
                };
                out.push(format!("{repl}{}", s.chars().skip(1).collect::<String>()));
            }
            out.into_iter().map(Value::String).collect()
        }
        _ => vec![],
    }
}

fn walk(v: &Value, keys: &mut Vec<Key>, path: &str, out: &mut Vec<Mutation>) {
    let mut push = |value: Value, what: &str, keys: &Vec<Key>| {
        out.push(Mutation {
            path: format!("{path} {what}"),
            keys: keys.clone(),
            value,
        })
    };
    match v {
        Value::Array(a) => {
            for i in 0..a.len() {
                let mut dropped = a.clone();
                dropped.remove(i);
                push(Value::Array(dropped), &format!("drop [{i}]"), keys);
                let mut dup = a.clone();
                dup.insert(i, a[i].clone());
                push(Value::Array(dup), &format!("duplicate [{i}]"), keys);
            }
            for (i, x) in a.iter().enumerate() {
                keys.push(Key::Index(i));
                walk(x, keys, &format!("{path}[{i}]"), out);
                keys.pop();
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                if !x.is_null() {
                    let mut removed = o.clone();
                    removed.shift_remove(k);
                    push(Value::Object(removed), &format!("remove {k}"), keys);
                }
            }
            for (k, x) in o {
                keys.push(Key::Field(k.clone()));
                walk(x, keys, &format!("{path}.{k}"), out);
                keys.pop();
            }
        }
        leaf => {
            // tool.version is free text: any non-empty version is as good as another.
            if path == ".tool.version" {
                return;
            }
            for m in leaf_mutations(leaf) {
                push(m, "changed", keys);
            }
        }
    }
}

fn apply(root: &Value, m: &Mutation) -> Value {
    let mut r = root.clone();
    let mut at = &mut r;
    for k in &m.keys {
        at = match k {
            Key::Field(f) => at.get_mut(f.as_str()).expect("path"),
            Key::Index(i) => at.get_mut(*i).expect("path"),
        };
    }
    *at = m.value.clone();
    r
}

/// Mutations that leave a true certificate: removing an optional witness block (`descent`,
/// `flat_direction`: the certificate then claims less), or moving a flat-line sample `t` to
/// another value while the samples stay 3 distinct nonzero numbers (the same proof at other
/// points), or swapping the normalisation of a zero-cost certificate (every claim is the
/// same under `1/N` and `1/(2N)` when the cost is 0). These must be *accepted*; they are
/// counted separately.
fn still_valid(root: &Value, m: &Mutation) -> bool {
    if m.path == ".data.normalisation changed" && root["claims"]["cost"] == "0" {
        let v = m.value.as_str().unwrap_or_default();
        return v == "1/N" || v == "1/(2N)";
    }
    if m.path.ends_with("remove descent") || m.path.ends_with("remove flat_direction") {
        return true;
    }
    if !m.path.contains(".samples[") || !m.path.ends_with("changed") {
        return false;
    }
    let v = apply(root, m);
    let samples = v["claims"]["degeneracy"]["flat_direction"]["samples"]
        .as_array()
        .cloned();
    let rats: Vec<_> = samples
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().and_then(num))
        .collect();
    if v["claims"]["degeneracy"]["flat_direction"]["kind"] == "pass-through-shift" {
        // Still valid iff t₋ < 0 < t₊ and every pre-activation stays > 0 with the cost
        // unchanged at both ends: decided with the producer's own evaluation (a second,
        // independent implementation).
        if rats.len() != 2 || !(rats[0].is_negative() && rats[1].is_positive()) {
            return false;
        }
        let net = dlgeom_cert::netio::network_from_json(v.to_string().as_bytes()).unwrap();
        let d: Vec<_> = v["claims"]["degeneracy"]["flat_direction"]["direction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| num(x.as_str().unwrap()).unwrap())
            .collect();
        let data = data(SMALL);
        let base: dlgeom_cert::network::Evaluation<dlgeom_cert::arith::Rat> =
            net.evaluate(&data, Normalisation::HalfMean);
        return rats.iter().all(|t| {
            let e: dlgeom_cert::network::Evaluation<dlgeom_cert::arith::Rat> =
                net.step(&d, t).evaluate(&data, Normalisation::HalfMean);
            e.cost == base.cost && e.patterns.iter().all(|p| p.iter().all(|&b| b))
        });
    }
    rats.len() == 3
        && rats.iter().all(|r| !r.is_zero())
        && rats[0] != rats[1]
        && rats[1] != rats[2]
        && rats[0] != rats[2]
}

#[test]
fn every_single_field_mutation_is_rejected() {
    let d = data(SMALL);
    let certs = certificates(&d, 2, Normalisation::HalfMean);
    assert!(
        certs.len() >= 4,
        "expected shallow, global, partial and grouped certificates"
    );
    let (mut tried, mut valid) = (0, 0);
    let mut rejected = [0usize; 2];
    let mut wrong = Vec::new();
    for c in &certs {
        let root: Value = serde_json::from_str(&c.to_json()).expect("json");
        let mut muts = Vec::new();
        walk(&root, &mut Vec::new(), "", &mut muts);
        for m in &muts {
            let text = serde_json::to_string_pretty(&apply(&root, m)).expect("json");
            let expect_accept = still_valid(&root, m);
            if expect_accept {
                valid += 1;
            } else {
                tried += 1;
            }
            let mut reports = Vec::new();
            for (i, b) in BACKENDS.iter().enumerate() {
                let r = check_json(&text, &d, *b);
                let accepted = r.as_ref().is_ok_and(Report::accepted);
                if !accepted && !expect_accept {
                    rejected[i] += 1;
                } else if accepted != expect_accept {
                    wrong.push(format!(
                        "{} {} ({b:?}): accepted = {accepted}",
                        c.configuration.id, m.path
                    ));
                }
                reports.push(r);
            }
            assert_eq!(
                reports[0], reports[1],
                "backends disagree on {} {}",
                c.configuration.id, m.path
            );
        }
    }
    println!(
        "mutation sweep: {} certificates, {tried} mutations, rejected {} (malachite) / {} (num); \
         {valid} still-valid variants accepted",
        certs.len(),
        rejected[0],
        rejected[1]
    );
    assert!(
        wrong.is_empty(),
        "wrongly decided mutations:\n{}",
        wrong.join("\n")
    );
    assert_eq!(rejected, [tried, tried]);
    assert!(tried > 1000 && valid > 0);
}

#[test]
fn certificate_for_other_data_is_rejected() {
    let (a, b) = (data(SMALL), data(SMALL_MOVED));
    // Same mathematics, different bytes: only the byte hash differs.
    let a_spaced = data(&SMALL.replace(", ", ","));
    for c in certificates(&a, 2, Normalisation::HalfMean) {
        for other in [&b, &a_spaced] {
            let r = both(&c, other);
            assert!(
                !r.accepted(),
                "{} accepted for other data",
                c.configuration.id
            );
            assert!(r.failures().any(|f| f.name == "data"), "{r}");
        }
    }
}

#[test]
fn hostile_json_is_rejected_without_panic() {
    let d = data(SMALL);
    let cert = certificates(&d, 2, Normalisation::HalfMean).remove(1);
    let good: Value = serde_json::from_str(&cert.to_json()).expect("json");
    let deep = "[".repeat(100_000);
    let mut texts: Vec<String> = vec![
        "".into(),
        "{".into(),
        "null".into(),
        "[]".into(),
        "42".into(),
        "\"dlgeom-cert/1\"".into(),
        deep,
        format!("{} trailing", cert.to_json()),
        cert.to_json()
            .replacen("\"format\"", "\"format\": \"x\", \"format\"", 1),
    ];
    let mut edit = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        texts.push(v.to_string());
    };
    for key in [
        "format",
        "tool",
        "data",
        "configuration",
        "network",
        "claims",
        "float_check",
    ] {
        edit(&|v| {
            v.as_object_mut().expect("object").shift_remove(key);
        });
        edit(&|v| v[key] = Value::from(5));
    }
    edit(&|v| v["unknown"] = Value::from(1));
    edit(&|v| v["network"]["width"] = Value::from(1_000_000_000u64));
    edit(&|v| v["network"]["hidden_layers"] = Value::from(u64::MAX));
    edit(&|v| v["network"]["hidden_layers"] = Value::from(0));
    edit(&|v| v["network"]["layers"][0]["w"][0] = Value::Array(vec![Value::from("1"); 100_000]));
    edit(&|v| v["network"]["layers"][0]["b"][0] = Value::from("1/0"));
    // Beyond the default certificate limit (10 × --max-digits = 1 000 000 digits).
    edit(&|v| v["network"]["layers"][0]["b"][0] = Value::from("9".repeat(1_000_001)));
    edit(&|v| v["network"]["layers"][0]["b"][0] = Value::from("NaN"));
    edit(&|v| v["network"]["layers"][0]["b"][0] = Value::from(1));
    edit(&|v| v["claims"]["margin"]["class"] = Value::from(u64::MAX));
    edit(&|v| v["claims"]["gradient"] = Value::Array(vec![Value::from("0"); 1_000_000]));
    edit(&|v| v["claims"]["degeneracy"]["flat_direction"]["direction"] = Value::Array(vec![]));
    edit(&|v| v["claims"]["degeneracy"]["flat_direction"]["samples"] = Value::Array(vec![]));
    edit(&|v| v["configuration"]["cones"][0]["classes"] = Value::from(vec![u64::MAX]));
    edit(&|v| v["configuration"]["cones"][0]["classes"] = Value::from(vec![0]));
    edit(&|v| v["configuration"]["cones"][0]["normal"] = Value::Array(vec![]));
    edit(&|v| v["configuration"]["cones"][0]["layer"] = Value::from(u64::MAX));
    edit(&|v| v["configuration"]["passing"] = Value::from(vec![1, 2, 3]));
    edit(&|v| v["configuration"]["collapse_order"] = Value::Array(vec![]));
    edit(&|v| v["configuration"]["family"] = Value::from("imported"));
    edit(&|v| v["data"]["class_counts"] = Value::Array(vec![]));
    edit(&|v| v["float_check"]["cost_f64"] = Value::from("0.0"));
    edit(&|v| v["float_check"]["cost_f64"] = Value::Null);
    for t in &texts {
        for b in BACKENDS {
            let r = check_json(t, &d, b);
            assert!(
                !r.as_ref().is_ok_and(Report::accepted),
                "accepted: {}",
                &t[..t.len().min(200)]
            );
        }
    }
    // An inconsistent in-memory data set (public fields) is rejected, not a panic.
    let mut bad = d.clone();
    bad.classes[0].inputs[0].pop();
    let mut empty = d.clone();
    empty.classes[1].inputs.clear();
    let mut wide = d.clone();
    wide.q = 3;
    for x in [&bad, &empty, &wide] {
        assert!(!both(&cert, x).accepted());
    }
}

#[test]
fn duplicate_keys_are_rejected() {
    let d = data(SMALL);
    let text = certificates(&d, 2, Normalisation::HalfMean)[1].to_json();
    for (key, dup) in [
        ("format", "\"format\": \"x\", "),
        ("cost", "\"cost\": \"0\", "),
    ] {
        let bad = text.replacen(&format!("\"{key}\": "), &format!("{dup}\"{key}\": "), 1);
        let e = parse_certificate(&bad).unwrap_err();
        assert!(e.contains(&format!("duplicate field `{key}`")), "{e}");
    }
}

#[test]
fn check_path_handles_folders() {
    let d = data(SMALL);
    let dir = std::env::temp_dir().join(format!("dlgeom-checker-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let certs = certificates(&d, 2, Normalisation::HalfMean);
    std::fs::write(dir.join("b.json"), certs[0].to_json()).expect("write");
    std::fs::write(dir.join("a.json"), certs[1].to_json()).expect("write");
    std::fs::write(dir.join("summary.json"), r#"{"runs": []}"#).expect("write");
    std::fs::write(dir.join("notes.txt"), "not json").expect("write");
    let tampered = certs[1]
        .to_json()
        .replacen("\"dlgeom-cert/1\"", "\"dlgeom-cert/2\"", 1);
    std::fs::write(dir.join("c.json"), tampered).expect("write");
    let out = check_path(&dir, &d, Backend::Malachite);
    let names: Vec<String> = out
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into())
        .collect();
    assert_eq!(names, ["a.json", "b.json", "c.json", "summary.json"]);
    assert!(out[0].1.as_ref().unwrap().accepted());
    assert!(out[1].1.as_ref().unwrap().accepted());
    assert!(!out[2].1.as_ref().unwrap().accepted());
    assert!(out[3].1.as_ref().unwrap().skipped.is_some());
    let single = check_path(&dir.join("a.json"), &d, Backend::Num);
    assert!(single[0].1.as_ref().unwrap().accepted());
    assert!(check_path(&dir.join("missing.json"), &d, Backend::Num)[0]
        .1
        .is_err());
    std::fs::remove_dir_all(&dir).ok();
}

/// Q = 1, L = 1, computed by hand: class 1 has inputs 0 and 2 and target 1. The shallow
/// configuration: idle shift s = ⌊2⌋ + 1 = 3, so W₁ = [1], b₁ = [3] (z = x + 3 ∈ {3, 5}),
/// output W₂ = [0], b₂ = [1] (f = 1 = y). Cost 0, margin 3 at (1, 1, 1, 1), gradient 0, one
/// pattern group "1" of 2 points (affine bound 0), Jacobian rows (0, 0, 3, 1), (0, 0, 5, 1):
/// rank 2, kernel 4 − 2 = 2; largest weight 3 (2 bits). No flat line is recorded (the two
/// hidden values 3, 5 span the output layer's inputs affinely).
fn hand_built(d: &Dataset) -> Certificate {
    let s = |x: &str| x.to_string();
    let sv = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    Certificate {
        format: s(FORMAT),
        tool: Tool {
            name: s("dlgeom-cert"),
            version: s("0.0.0"),
        },
        source: s(SOURCE),
        data: DataBinding {
            sha256_bytes: d.sha256_bytes.clone(),
            sha256_canonical: d.sha256_canonical.clone(),
            classes: 1,
            points: 2,
            class_counts: vec![2],
            normalisation: s("1/(2N)"),
        },
        configuration: Configuration {
            id: s("shallow"),
            family: s("shallow"),
            collapse_order: vec![],
            passing: vec![1],
            cones: vec![],
            idle_shift: s("3"),
        },
        network: NetworkRecord {
            hidden_layers: 1,
            width: 1,
            layers: vec![
                LayerRecord {
                    w: vec![sv(&["1"])],
                    b: sv(&["3"]),
                },
                LayerRecord {
                    w: vec![sv(&["0"])],
                    b: sv(&["1"]),
                },
            ],
        },
        claims: Claims {
            verdict: s("global-minimum"),
            cost: s("0"),
            margin: MarginRecord {
                value: s("3"),
                class: 1,
                point: 1,
                layer: 1,
                neuron: 1,
            },
            gradient_zero: true,
            gradient: None,
            outputs_equal_targets: true,
            pattern_region: Some(RegionRecord {
                groups: vec![GroupRecord {
                    pattern: s("1"),
                    size: 2,
                    fit: s("affine"),
                    bound: s("0"),
                }],
                sum: s("0"),
                gap: s("0"),
                certified: true,
            }),
            degeneracy: Some(DegeneracyRecord {
                parameters: 4,
                jacobian_rank: 2,
                hessian_kernel_dim: Some(2),
                rescaling_dims: 1,
                flat_direction: None,
            }),
            descent: None,
            max_weight_bits: 2,
        },
        float_check: FloatRecord {
            non_normative: true,
            cost_f64: Some(0.0),
            max_abs_gradient_f64: Some(0.0),
            max_abs_output_error: Some(0.0),
            margin_f64: Some(3.0),
        },
    }
}

#[test]
fn hand_built_certificate() {
    let d = data(r#"{"classes": [{"target": ["1"], "inputs": [["0"], ["2"]]}]}"#);
    let c = hand_built(&d);
    let r = both(&c, &d);
    assert!(r.accepted(), "{r}");
    // Raising b₂ to 2 gives f = 2: cost (1 + 1)/(2·2) = 1/2, residual 1 on both points,
    // gradient (∂W₁, ∂b₁, ∂W₂, ∂b₂) = (0, 0, (3 + 5)/2, 1) = (0, 0, 4, 1), so the
    // verdict must be not-a-local-minimum.
    let mut wrong = c.clone();
    wrong.network.layers[1].b = vec!["2".into()];
    let r = both(&wrong, &d);
    assert!(!r.accepted());
    let detail = |name: &str| {
        r.checks
            .iter()
            .find(|x| x.name == name)
            .map(|x| x.detail.clone())
            .unwrap_or_default()
    };
    assert_eq!(
        detail("claims.evaluation"),
        "claims.cost: claimed 0, recomputed 1/2"
    );
    assert_eq!(
        detail("claims.verdict"),
        "claims.verdict: claimed \"global-minimum\", recomputed \"not-a-local-minimum\""
    );
    assert_eq!(
        detail("claims.gradient"),
        "claims.gradient_zero: claimed true, recomputed false"
    );
    // The same network with the right claims: every claim is true, but its output layer is
    // not the least-squares fit of the shallow construction, so only the configuration
    // check fails; declared as an imported network (nothing constructed) it is accepted.
    wrong.claims.verdict = "not-a-local-minimum".into();
    wrong.claims.cost = "1/2".into();
    wrong.claims.gradient_zero = false;
    wrong.claims.gradient = Some(vec!["0".into(), "0".into(), "4".into(), "1".into()]);
    wrong.claims.outputs_equal_targets = false;
    wrong.claims.degeneracy = None;
    wrong.claims.pattern_region.as_mut().unwrap().gap = "1/2".into();
    wrong.claims.pattern_region.as_mut().unwrap().certified = false;
    wrong.claims.max_weight_bits = 2;
    wrong.float_check.cost_f64 = Some(0.5);
    wrong.float_check.max_abs_gradient_f64 = Some(4.0);
    let r = both(&wrong, &d);
    let failed: Vec<_> = r.failures().map(|f| f.detail.as_str()).collect();
    assert_eq!(
        failed,
        ["network.layers[1]: not a least-squares fit on the curated points (normal equations fail)"],
        "{r}"
    );
    wrong.configuration = Configuration {
        id: "imported".into(),
        family: "imported".into(),
        collapse_order: vec![],
        passing: vec![],
        cones: vec![],
        idle_shift: "0".into(),
    };
    let r = both(&wrong, &d);
    assert!(r.accepted(), "{r}");
}

/// The float block is read bit-exactly (through `serde_json::Value` and `str::parse`), for
/// random bit patterns and awkward values (subnormals, extremes, halfway-looking decimals).
#[test]
fn floats_are_read_exactly() {
    let d = data(SMALL);
    let mut c = certificates(&d, 2, Normalisation::HalfMean).remove(0);
    let mut seed = 0x9e3779b97f4a7c15u64;
    let mut values = vec![
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        0.1 + 0.2,
        1e23,
        8.98846567431158e307,
    ];
    for _ in 0..3000 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        values.push(f64::from_bits(seed));
    }
    for x in values.into_iter().filter(|x| x.is_finite()) {
        c.float_check.cost_f64 = Some(x);
        let back = parse_certificate(&c.to_json()).expect("parses");
        assert_eq!(
            back.float_check.cost_f64.map(f64::to_bits),
            Some(x.to_bits()),
            "{x:e}"
        );
    }
}

/// The output layer is pinned: moving an archived minimum's output layer along its own
/// output-layer flat line (`t = 1`) keeps every output on the data, so every claim about the
/// outputs stays true, yet the network is not the construction's basic least-squares fit
/// and must be rejected by the configuration check. Likewise the reproducer of a former gap:
/// two last-hidden neurons with identical activations, their output weights swapped.
#[test]
fn output_layer_other_than_the_basic_fit_is_rejected() {
    use dlgeom_cert::arith::Rat;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rejected_for_output = |text: &str, d: &Dataset, what: &str| {
        for b in BACKENDS {
            let r = check_json(text, d, b).expect("parses");
            assert!(!r.accepted(), "{what}: accepted ({b:?})");
            assert!(
                r.failures()
                    .any(|f| f.name == "configuration" && f.detail.contains("output map")),
                "{what}: not rejected by the output-layer check ({b:?}):\n{r}"
            );
        }
    };
    let mut moved = 0;
    for ex in ["two_classes", "three_classes", "four_classes", "iris3"] {
        let bytes = std::fs::read(root.join(format!("examples/{ex}.json"))).expect("example");
        let d = Dataset::from_json_bytes(&bytes, &DataLimits::default()).expect("data");
        let mut names: Vec<_> = std::fs::read_dir(root.join("certificates").join(ex))
            .expect("archive")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.file_name().is_some_and(|n| n != "summary.json"))
            .collect();
        names.sort();
        for path in names {
            let mut v: Value =
                serde_json::from_slice(&std::fs::read(&path).expect("cert")).expect("json");
            let fd = &v["claims"]["degeneracy"]["flat_direction"];
            if fd["kind"] != "output-layer" {
                continue;
            }
            let dir: Vec<Rat> = fd["direction"]
                .as_array()
                .expect("direction")
                .iter()
                .map(|x| Rat::parse(x.as_str().expect("text")).expect("number"))
                .collect();
            let layers = v["network"]["layers"].as_array_mut().expect("layers");
            let q = layers[0]["b"].as_array().expect("b").len();
            let last = layers.last_mut().expect("output layer");
            let block = &dir[dir.len() - q * q - q..];
            let add = |x: &mut Value, dx: &Rat| {
                let s = &Rat::parse(x.as_str().expect("text")).expect("number") + dx;
                *x = Value::String(s.canonical());
            };
            for m in 0..q {
                for k in 0..q {
                    add(&mut last["w"][m][k], &block[m * q + k]);
                }
                add(&mut last["b"][m], &block[q * q + m]);
            }
            let what = format!("{} moved along its flat line", path.display());
            rejected_for_output(&v.to_string(), &d, &what);
            moved += 1;
        }
    }
    assert!(
        moved >= 20,
        "only {moved} archived certificates with a flat line"
    );

    let bytes = std::fs::read(root.join("examples/four_classes.json")).expect("example");
    let d = Dataset::from_json_bytes(&bytes, &DataLimits::default()).expect("data");
    let path = root.join("certificates/four_classes/grouped-1_2_3+4.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).expect("cert")).expect("json");
    let row = &mut v["network"]["layers"][4]["w"][0];
    assert_eq!(row, &serde_json::json!(["2/7", "0", "-53/112", "0"]));
    *row = serde_json::json!(["2/7", "0", "0", "-53/112"]);
    rejected_for_output(
        &v.to_string(),
        &d,
        "grouped-1_2_3+4 with swapped output weights",
    );
}

/// Both descent directions give witnesses the checker accepts: the archive uses
/// `first-layer-bias` (the `b_1` block of `−∇C`, step from the quadratic model), and the
/// fallback `gradient` (`−∇C`, halving search) is exercised here on every refuted candidate
/// of [`SMALL`] and of `examples/four_classes.json`. A witness relabelled with the other
/// direction is rejected.
#[test]
fn descent_witnesses_of_both_directions_are_checked() {
    use dlgeom_cert::certify::{descent_along, DescentDirection};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let four = std::fs::read(root.join("examples/four_classes.json")).expect("example");
    let four = Dataset::from_json_bytes(&four, &DataLimits::default()).expect("data");
    let mut refuted = 0;
    for (d, layers) in [(data(SMALL), 2), (four, 4)] {
        let opts = Options {
            layers,
            norm: Normalisation::HalfMean,
            partition_limit: 5,
        };
        for e in run(&d, &opts).entries {
            let Outcome::Built(b) = e.outcome else {
                continue;
            };
            let Some(bias) = &b.analysis.descent else {
                continue;
            };
            assert_eq!(bias.direction, DescentDirection::FirstLayerBias);
            let net = &b.construction.network;
            // A run keeps no per-point data: analyse again for the patterns.
            let mut analysis = dlgeom_cert::certify::analyse(net, &d, opts.norm);
            let g = descent_along(
                net,
                &d,
                opts.norm,
                &analysis.exact,
                DescentDirection::Gradient,
            )
            .expect("a gradient step");
            assert!(g.cost_after < analysis.exact.cost && g.margin_after.is_positive());
            analysis.descent = Some(g);
            let cert = dlgeom_cert::verify::certificate(&d, &opts, &b.construction, &analysis);
            assert_eq!(cert.claims.descent.as_ref().unwrap().direction, "gradient");
            assert_accepted(&cert, &d);
            let mut wrong = cert.clone();
            wrong.claims.descent.as_mut().unwrap().direction = "first-layer-bias".into();
            assert!(!both(&wrong, &d).accepted(), "{}", cert.configuration.id);
            let mut wrong = b.certificate.clone();
            wrong.claims.descent.as_mut().unwrap().direction = "gradient".into();
            assert!(!both(&wrong, &d).accepted(), "{}", cert.configuration.id);
            refuted += 1;
        }
    }
    assert!(refuted >= 16, "only {refuted} refuted candidates");
}
