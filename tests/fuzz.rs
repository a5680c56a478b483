//! Property-based fuzzing (proptest) of everything that reads untrusted text: the data
//! parsers, the exact number parser and the certificate checker. Every case runs the code
//! under test inside `std::panic::catch_unwind` and asserts "no panic" plus a sane outcome.
//!
//! Targets (one `#[test]` each, the totals are printed per target):
//! - `data_json_arbitrary_bytes`, `data_json_token_soup`: `Dataset::from_json_bytes` (and
//!   `from_csv_bytes`) on random bytes and on random sequences of JSON tokens;
//! - `data_json_structured`: one structured edit of a valid data file (`examples/*.json`,
//!   `tests/valid_edge/*.json`): a random JSON value spliced in, a random number text (huge
//!   exponents and digit counts, NaN, inf, fractions with zero denominators, ...) as a JSON
//!   string or raw JSON number, a deleted or duplicated key, an unknown key, deep nesting, a
//!   truncation. Definite outcomes are asserted: a duplicated or unknown key, nesting and a
//!   truncation are errors; a coordinate replaced by number text is read exactly as an
//!   independent reference parser (written here with `num-bigint`) reads it, or rejected
//!   exactly when the reference rejects it;
//! - `data_csv_random_rows`, `data_csv_wellformed`: CSV with random rows (labels, numbers,
//!   garbage, comments, blank lines, CRLF); well-formed CSV must load with exact values;
//! - `rat_parse_arbitrary`, `rat_parse_numeric`: `Rat::parse` on arbitrary strings and on
//!   number-like text: `Ok(x)` exactly when the reference parser accepts, with the same
//!   value, and then `Rat::parse(&x.canonical()) == x` with canonical text; otherwise `Err`;
//! - `checker_arbitrary_bytes`, `checker_byte_edits`, `checker_structured`: `check_json` on
//!   random bytes and token soup (never accepted), on archived certificates
//!   (`certificates/<example>/*.json`, read at test time, with `examples/<example>.json`)
//!   with random byte edits, and with random JSON edits at random paths (values, numbers,
//!   counts, bools, array lengths, swaps, keys, copies of other fields, sections of other
//!   certificates, duplicate keys, deep nesting). Every edit that changes a value is
//!   REJECTED, except the harmless equivalences documented at [`harmless`] (the same list
//!   as in `tests/soundness.rs`: an optional witness removed, flat-line samples moved,
//!   normalisation swapped at zero cost, another tool version, a null field omitted, or a
//!   float of the non-normative block respelled with the same `f64` value), which must be
//!   accepted.
//!
//! Every error of the data parser must be an `Err` with a non-empty one-line message.
//!
//! Case counts: `DLGEOM_FUZZ_CASES` (default [`DEFAULT_CASES`]) cases for each cheap target;
//! the checker targets that run full checks use a fraction of it (see the `divisor` argument
//! of [`fuzz`]). Seeds are random (set `PROPTEST_RNG_SEED` to fix one). The large version
//! (≥ 10⁶ inputs in total):
//!
//! ```text
//! DLGEOM_FUZZ_CASES=150000 cargo test --release --test fuzz -- --nocapture --test-threads 2
//! ```

mod common;
use common::*;

use dlgeom_cert::arith::Rat;
use dlgeom_cert::checker::{check_json, Backend, Report};
use dlgeom_cert::data::{DataError, DataLimits, Dataset};
use num_rational::BigRational;
use num_traits::One;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

/// Cases per cheap target when `DLGEOM_FUZZ_CASES` is not set.
const DEFAULT_CASES: u32 = 512;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn base_cases() -> u32 {
    match std::env::var("DLGEOM_FUZZ_CASES") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("DLGEOM_FUZZ_CASES={s:?} is not a number")),
        Err(_) => DEFAULT_CASES,
    }
}

/// Run `body` on `base_cases() / divisor` inputs drawn from `strategy`; print the total.
fn fuzz<S: Strategy>(
    name: &str,
    divisor: u32,
    strategy: S,
    body: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let cases = (base_cases() / divisor).max(1);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 2000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let t = Instant::now();
    let result = runner.run(&strategy, body);
    println!("fuzz {name}: {cases} inputs in {:.2?}", t.elapsed());
    if let Err(e) = result {
        panic!("fuzz {name} failed: {e}");
    }
}

fn short(s: &str) -> String {
    if s.len() <= 300 {
        s.to_string()
    } else {
        format!("{}… ({} bytes)", &s[..s.floor_char_boundary(300)], s.len())
    }
}

/// Run `f`, turning a panic into a test failure that shows the input.
fn no_panic<T>(what: &str, input: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        let msg = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        TestCaseError::fail(format!(
            "{what} PANICKED ({msg}) on input {:?}",
            short(input)
        ))
    })
}

// ---------------------------------------------------------------------------------------
// Reference number parser (independent of `dlgeom_cert::arith`, on num-bigint)
// ---------------------------------------------------------------------------------------

const MAX_DIGITS: usize = 100_000;

fn all_digits(s: &str) -> bool {
    common::decimal::digits_only(s)
}

/// The value of exact number text as `Rat::parse` documents it at the default limits
/// (`|exponent| ≤ 10000`, at most 100000 digits), or `None`: the shared reference reader
/// [`common::decimal::reference`].
fn reference(s: &str) -> Option<BigRational> {
    common::decimal::reference(s, &dlgeom_cert::arith::ParseLimits::default())
}

/// Canonical text `p/q` (lowest terms, `q > 0`) or `p`.
fn canon(r: &BigRational) -> String {
    if r.denom().is_one() {
        r.numer().to_string()
    } else {
        format!("{}/{}", r.numer(), r.denom())
    }
}

/// The shape of canonical text: `-?(0|[1-9][0-9]*)(/[1-9][0-9]*)?`, denominator `> 1`.
fn canonical_shape(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s);
    let int = |t: &str| all_digits(t) && (t == "0" || !t.starts_with('0'));
    let shape = match b.split_once('/') {
        Some((n, d)) => int(n) && n != "0" && int(d) && d != "0" && d != "1",
        None => int(b),
    };
    shape && s != "-0"
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

const SPECIAL_NUMBERS: &[&str] = &[
    "NaN",
    "nan",
    "-NaN",
    "inf",
    "-inf",
    "+inf",
    "Infinity",
    "-Infinity",
    "infinity",
    "1/0",
    "-1/0",
    "0/0",
    "0/00",
    "",
    "-",
    "+",
    ".",
    "-.",
    "+.",
    "e",
    "1e",
    "e1",
    ".e1",
    "1.e1",
    "1..2",
    "1.2.3",
    "--1",
    "+-1",
    "-+1",
    "1//2",
    "1/2/3",
    "1/-2",
    "1/+2",
    " 1",
    "1 ",
    "\t1",
    "0x1F",
    "1_0",
    "١",
    "１",
    "1e+",
    "1e-",
    "1e10000",
    "1e10001",
    "1e-10000",
    "1e-10001",
    "-1e10000",
    "1e000000000000000000000000010000",
    "1e99999999999999999999",
    "0e99999",
    "-0",
    "+0",
    "0/5",
    "00/01",
    "007",
    "1e-0",
    "5.",
    ".5",
    "-.5e-5",
    "1E5",
    "2.5E+3",
    "1/3",
    "-22/7",
    "0.1",
    "1.5e-3",
    "123456789012345678901234567890/98765432109876543210",
];

fn exponent() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (0u32..40).prop_map(|e| e.to_string()),
        2 => (9_990u32..10_011).prop_map(|e| e.to_string()),
        1 => "0{1,6}[0-9]{1,5}",
        1 => "[0-9]{15,25}",
        1 => Just(String::new()),
    ]
    .boxed()
}

/// Number-like text: decimals, fractions, exponents near and beyond the limit, specials,
/// and near-misses.
fn num_text() -> BoxedStrategy<String> {
    let decimal = (
        "[-+]?",
        "[0-9]{0,25}",
        prop::option::of("\\.[0-9]{0,25}"),
        prop::option::of(("[eE]", "[-+]?", exponent())),
    )
        .prop_map(|(s, i, f, e)| {
            let e = e.map(|(a, b, c)| format!("{a}{b}{c}")).unwrap_or_default();
            format!("{s}{i}{}{e}", f.unwrap_or_default())
        });
    let fraction =
        ("[-+]?", "[0-9]{1,30}", "/[-+]?[0-9]{0,30}").prop_map(|(s, n, d)| format!("{s}{n}{d}"));
    prop_oneof![
        6 => decimal,
        3 => fraction,
        2 => prop::sample::select(SPECIAL_NUMBERS).prop_map(String::from),
        1 => "[-+0-9./eE ]{0,12}",
        1 => "\\PC{0,12}",
    ]
    .boxed()
}

/// Random JSON values (numbers keep their literal text: `arbitrary_precision`).
fn arb_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        num_text().prop_map(|t| raw_number(&t).unwrap_or(Value::String(t))),
        num_text().prop_map(Value::String),
        "[a-z0-9/._ -]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}

/// The text as a raw JSON number, when it is one in JSON's grammar.
fn raw_number(t: &str) -> Option<Value> {
    let ok = !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b"-+.eE".contains(&b));
    if !ok {
        return None;
    }
    serde_json::from_str::<Value>(t)
        .ok()
        .filter(Value::is_number)
}

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"classes\"",
    "\"inputs\"",
    "\"target\"",
    "\"name\"",
    "\"format\"",
    "\"dlgeom-data/1\"",
    "\"1/2\"",
    "\"0\"",
    "1",
    "-2.5e3",
    "\"NaN\"",
    "\"1/0\"",
    "null",
    "true",
    " ",
    "\n",
    "\"",
    "\\",
    "\u{feff}",
    "1e99999",
    "\"a\"",
    "0.1",
    "\"claims\"",
    "\"network\"",
    "\"dlgeom-cert/1\"",
    "\"layers\"",
    "\"w\"",
    "\"b\"",
    "\"cost\"",
    "-0",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(JSON_TOKENS), 0..80).prop_map(|v| v.concat())
}

// ---------------------------------------------------------------------------------------
// JSON paths
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum Key {
    F(String),
    I(usize),
}

/// Every node's path, in pre-order (the root is `[]`).
fn nodes(v: &Value) -> Vec<Vec<Key>> {
    fn go(v: &Value, p: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
        out.push(p.clone());
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    p.push(Key::F(k.clone()));
                    go(x, p, out);
                    p.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    p.push(Key::I(i));
                    go(x, p, out);
                    p.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(v, &mut Vec::new(), &mut out);
    out
}

fn at_mut<'a>(v: &'a mut Value, path: &[Key]) -> &'a mut Value {
    path.iter().fold(v, |at, k| match k {
        Key::F(f) => at.get_mut(f.as_str()).expect("path"),
        Key::I(i) => at.get_mut(*i).expect("path"),
    })
}

fn at<'a>(v: &'a Value, path: &[Key]) -> Option<&'a Value> {
    path.iter().try_fold(v, |at, k| match k {
        Key::F(f) => at.get(f.as_str()),
        Key::I(i) => at.get(*i),
    })
}

/// Remove the node at `path` from its parent (no-op for the root).
fn delete(v: &mut Value, path: &[Key]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (at_mut(v, parent), last) {
        (Value::Object(o), Key::F(f)) => {
            o.shift_remove(f);
        }
        (Value::Array(a), Key::I(i)) => {
            a.remove(*i);
        }
        _ => unreachable!("path"),
    }
}

/// Compact JSON in which the object at `target` has its first key written twice (first
/// with `extra`, then with its own value).
fn emit_duplicate_key(v: &Value, target: &[Key], extra: &Value) -> String {
    fn go(v: &Value, p: &mut Vec<Key>, target: &[Key], extra: &Value, out: &mut String) {
        match v {
            Value::Object(o) => {
                out.push('{');
                let mut first = true;
                if p == target {
                    if let Some(k) = o.keys().next() {
                        out.push_str(&Value::String(k.clone()).to_string());
                        out.push(':');
                        out.push_str(&extra.to_string());
                        first = false;
                    }
                }
                for (k, x) in o {
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    out.push_str(&Value::String(k.clone()).to_string());
                    out.push(':');
                    p.push(Key::F(k.clone()));
                    go(x, p, target, extra, out);
                    p.pop();
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    p.push(Key::I(i));
                    go(x, p, target, extra, out);
                    p.pop();
                }
                out.push(']');
            }
            leaf => out.push_str(&leaf.to_string()),
        }
    }
    let mut out = String::new();
    go(v, &mut Vec::new(), target, extra, &mut out);
    out
}

/// The nearest object at or above `path` (the root is an object for every base used here).
fn object_at_or_above(v: &Value, path: &[Key]) -> Vec<Key> {
    let mut p = path.to_vec();
    while !at(v, &p).is_some_and(Value::is_object) {
        p.pop();
    }
    p
}

// ---------------------------------------------------------------------------------------
// Data parser
// ---------------------------------------------------------------------------------------

fn limits() -> DataLimits {
    DataLimits::default()
}

fn sha_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// An error must have a non-empty one-line message; a data set must be consistent, hashed
/// from the bytes read, and read back identically from its canonical and pretty forms.
fn sane_outcome(
    what: &str,
    bytes: &[u8],
    r: &Result<Dataset, DataError>,
) -> Result<(), TestCaseError> {
    let input = String::from_utf8_lossy(bytes);
    let d = match r {
        Err(e) => {
            prop_assert!(
                !e.message.trim().is_empty() && !e.message.contains('\n'),
                "{what}: bad error message {:?} for {:?}",
                e.message,
                short(&input)
            );
            return Ok(());
        }
        Ok(d) => d,
    };
    let q = d.q;
    prop_assert!(
        (1..=64).contains(&q) && d.classes.len() == q,
        "{what}: Q = {q}"
    );
    for c in &d.classes {
        prop_assert!(!c.inputs.is_empty() && c.target.len() == q);
        prop_assert!(c.inputs.iter().all(|x| x.len() == q));
    }
    prop_assert_eq!(&d.sha256_bytes, &sha_hex(bytes));
    let canonical = d.canonical_json();
    let back = no_panic("from_json_bytes(canonical)", &canonical, || {
        Dataset::from_json_bytes(canonical.as_bytes(), &limits())
    })?;
    let back = back.map_err(|e| TestCaseError::fail(format!("canonical form rejected: {e}")))?;
    prop_assert_eq!(&back.sha256_canonical, &d.sha256_canonical);
    for (a, b) in back.classes.iter().zip(&d.classes) {
        prop_assert!(a.target == b.target && a.inputs == b.inputs);
    }
    let pretty = d.to_json_pretty();
    let back = no_panic("from_json_bytes(pretty)", &pretty, || {
        Dataset::from_json_bytes(pretty.as_bytes(), &limits())
    })?;
    let back = back.map_err(|e| TestCaseError::fail(format!("pretty form rejected: {e}")))?;
    for (a, b) in back.classes.iter().zip(&d.classes) {
        prop_assert!(a.name == b.name && a.target == b.target && a.inputs == b.inputs);
    }
    Ok(())
}

/// Run one data reader (`"json"` or `"csv"`) under `no_panic` and check the outcome is sane.
fn parse_data(kind: &str, bytes: &[u8]) -> Result<Result<Dataset, DataError>, TestCaseError> {
    let input = String::from_utf8_lossy(bytes);
    let r = no_panic(&format!("from_{kind}_bytes"), &input, || match kind {
        "csv" => Dataset::from_csv_bytes(bytes, &limits()),
        _ => Dataset::from_json_bytes(bytes, &limits()),
    })?;
    sane_outcome(kind, bytes, &r)?;
    Ok(r)
}

#[test]
fn data_json_arbitrary_bytes() {
    fuzz(
        "data_json_arbitrary_bytes (JSON and CSV parsers)",
        1,
        prop::collection::vec(any::<u8>(), 0..400),
        |bytes| {
            let _ = parse_data("json", &bytes)?;
            let _ = parse_data("csv", &bytes)?;
            Ok(())
        },
    );
}

#[test]
fn data_json_token_soup() {
    fuzz("data_json_token_soup", 1, token_soup(), |text| {
        let _ = parse_data("json", text.as_bytes())?;
        Ok(())
    });
}

/// The valid data files the structured edits start from.
fn data_bases() -> &'static Vec<(String, Value)> {
    static BASES: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    BASES.get_or_init(|| {
        let mut out = Vec::new();
        for dir in ["examples", "tests/valid_edge"] {
            let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
                .expect("data dir")
                .map(|e| e.expect("entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for f in files {
                let text = std::fs::read_to_string(&f).expect("read");
                let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
                let v: Value = serde_json::from_str(body).expect("valid JSON");
                Dataset::from_json_bytes(v.to_string().as_bytes(), &limits())
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                out.push((f.display().to_string(), v));
            }
        }
        assert!(out.len() >= 5);
        out
    })
}

#[derive(Clone, Debug)]
enum DataEdit {
    Replace(Value),
    /// Number text as a JSON string.
    Number(String),
    /// Number text as a raw JSON number (a JSON string when it is not JSON's grammar).
    RawNumber(String),
    Delete,
    DuplicateKey(Value),
    UnknownKey(String, Value),
    /// Wrap the node in `depth` arrays (or objects `{"a": …}`).
    Nest(usize, bool),
    Truncate(Index),
}

fn data_edit() -> impl Strategy<Value = DataEdit> {
    prop_oneof![
        3 => arb_json().prop_map(DataEdit::Replace),
        4 => num_text().prop_map(DataEdit::Number),
        2 => num_text().prop_map(DataEdit::RawNumber),
        2 => Just(DataEdit::Delete),
        1 => arb_json().prop_map(DataEdit::DuplicateKey),
        1 => ("zz_[a-z]{0,4}|Classes|input|targets|nme|names", arb_json())
            .prop_map(|(k, v)| DataEdit::UnknownKey(k, v)),
        1 => (1usize..200, any::<bool>()).prop_map(|(d, o)| DataEdit::Nest(d, o)),
        1 => any::<Index>().prop_map(DataEdit::Truncate),
    ]
}

/// `(class, point or None for the target, coordinate)` when `path` is a coordinate.
fn coordinate(path: &[Key]) -> Option<(usize, Option<usize>, usize)> {
    match path {
        [Key::F(c), Key::I(j), Key::F(f), Key::I(i), Key::I(k)]
            if c == "classes" && f == "inputs" =>
        {
            Some((*j, Some(*i), *k))
        }
        [Key::F(c), Key::I(j), Key::F(f), Key::I(k)] if c == "classes" && f == "target" => {
            Some((*j, None, *k))
        }
        _ => None,
    }
}

static DATA_DEFINITE: AtomicUsize = AtomicUsize::new(0);

#[test]
fn data_json_structured() {
    let strategy = (any::<Index>(), any::<Index>(), data_edit());
    fuzz("data_json_structured", 1, strategy, |(base, node, edit)| {
        let bases = data_bases();
        let (name, v) = &bases[base.index(bases.len())];
        let paths = nodes(v);
        let path = &paths[node.index(paths.len())];
        let mut m = v.clone();
        // `expect`: Some(None) = must be an error; Some(Some(value)) = must be read with this
        // value at the coordinate; None = no definite expectation.
        let mut expect: Option<Option<BigRational>> = None;
        let text = match &edit {
            DataEdit::Replace(x) => {
                *at_mut(&mut m, path) = x.clone();
                m.to_string()
            }
            DataEdit::Number(t) | DataEdit::RawNumber(t) => {
                let raw = matches!(edit, DataEdit::RawNumber(_));
                let value = match raw_number(t) {
                    Some(n) if raw => n,
                    _ => Value::String(t.clone()),
                };
                *at_mut(&mut m, path) = value;
                if coordinate(path).is_some() {
                    expect = Some(reference(t));
                }
                m.to_string()
            }
            DataEdit::Delete => {
                delete(&mut m, path);
                m.to_string()
            }
            DataEdit::DuplicateKey(x) => {
                expect = Some(None);
                emit_duplicate_key(v, &object_at_or_above(v, path), x)
            }
            DataEdit::UnknownKey(k, x) => {
                let p = object_at_or_above(v, path);
                let o = at_mut(&mut m, &p).as_object_mut().expect("object");
                o.insert(k.clone(), x.clone());
                expect = Some(None);
                m.to_string()
            }
            DataEdit::Nest(depth, objects) => {
                let node = at_mut(&mut m, path);
                let mut x = node.take();
                for _ in 0..*depth {
                    x = if *objects {
                        Value::Object([("a".to_string(), x)].into_iter().collect())
                    } else {
                        Value::Array(vec![x])
                    };
                }
                *node = x;
                expect = Some(None);
                m.to_string()
            }
            DataEdit::Truncate(i) => {
                let full = v.to_string();
                let cut = full.floor_char_boundary(i.index(full.len()));
                expect = Some(None);
                full[..cut].to_string()
            }
        };
        let r = parse_data("json", text.as_bytes())?;
        match (&expect, &r) {
            (None, _) => {}
            (Some(None), Ok(_)) => {
                return Err(TestCaseError::fail(format!(
                    "{name}: {edit:?} at {path:?} accepted: {}",
                    short(&text)
                )))
            }
            (Some(None), Err(_)) => {
                DATA_DEFINITE.fetch_add(1, Ordering::Relaxed);
            }
            (Some(Some(_)), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "{name}: valid number {edit:?} at {path:?} rejected: {e}"
                )))
            }
            (Some(Some(want)), Ok(d)) => {
                let (j, i, k) = coordinate(path).expect("coordinate");
                let c = &d.classes[j];
                let got = match i {
                    Some(i) => &c.inputs[i][k],
                    None => &c.target[k],
                };
                prop_assert_eq!(got.canonical(), canon(want), "{} {:?}", name, edit);
                DATA_DEFINITE.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    });
    println!(
        "  data_json_structured: {} inputs with a definite expected outcome",
        DATA_DEFINITE.load(Ordering::Relaxed)
    );
}

fn csv_field() -> BoxedStrategy<String> {
    prop_oneof![
        4 => num_text(),
        1 => "[ ]{0,2}\"?[-0-9./]{0,6}\"?[ ]{0,2}",
        1 => "[a-z#\"]{0,4}",
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

fn csv_line() -> BoxedStrategy<String> {
    let label = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        Just(" \"a\" ".to_string()),
        Just(String::new()),
        "[a-z#\" ]{1,4}",
    ];
    prop_oneof![
        8 => (label, prop::collection::vec(csv_field(), 0..5))
            .prop_map(|(l, f)| std::iter::once(l).chain(f).collect::<Vec<_>>().join(",")),
        1 => "#\\PC{0,10}",
        1 => "[ \t]{0,3}",
    ]
    .boxed()
}

#[test]
fn data_csv_random_rows() {
    let strategy = (
        prop::collection::vec(csv_line(), 0..12),
        prop::sample::select(&["\n", "\r\n"][..]),
        any::<bool>(),
    );
    fuzz("data_csv_random_rows", 1, strategy, |(lines, eol, bom)| {
        let mut text = lines.join(eol);
        if bom {
            text.insert(0, '\u{feff}');
        }
        let _ = parse_data("csv", text.as_bytes())?;
        Ok(())
    });
}

/// A valid number text (and its value): decimal, fraction or exponent form (moderate
/// exponents: the huge ones are covered by the other targets).
fn valid_number() -> impl Strategy<Value = (String, BigRational)> {
    let text = prop_oneof![
        (
            "[-+]?[0-9]{1,20}",
            "(\\.[0-9]{0,20})?",
            "([eE][-+]?[0-9]{1,2})?"
        )
            .prop_map(|(a, b, c)| format!("{a}{b}{c}")),
        "[-+]?\\.[0-9]{1,8}",
        "[-+]?[0-9]{1,20}/[0-9]{0,19}[1-9]",
    ];
    text.prop_filter_map("valid numbers only", |t| reference(&t).map(|v| (t, v)))
}

#[test]
fn data_csv_wellformed() {
    // Q classes, every label used, rows `label,x_1,…,x_Q` with valid numbers (optionally
    // padded with spaces or quoted), an optional header.
    let strategy = (1usize..=4).prop_flat_map(|q| {
        let row = (0..q, prop::collection::vec(valid_number(), q), 0u8..3);
        (Just(q), prop::collection::vec(row, q..q + 8), any::<bool>())
    });
    fuzz(
        "data_csv_wellformed",
        2,
        strategy,
        |(q, mut rows, header)| {
            // Make every label appear: the first q rows get labels 0..q.
            for (i, r) in rows.iter_mut().take(q).enumerate() {
                r.0 = i;
            }
            let mut lines = Vec::new();
            if header {
                let cols: Vec<String> = (1..=q).map(|k| format!("x{k}")).collect();
                lines.push(format!("label,{}", cols.join(",")));
            }
            for (label, xs, style) in &rows {
                let fields: Vec<String> = xs
                    .iter()
                    .map(|(t, _)| match style {
                        0 => t.clone(),
                        1 => format!(" {t} "),
                        _ => format!("\"{t}\""),
                    })
                    .collect();
                lines.push(format!("class{label},{}", fields.join(",")));
            }
            let text = lines.join("\n");
            let d = parse_data("csv", text.as_bytes())?
                .map_err(|e| TestCaseError::fail(format!("rejected {text:?}: {e}")))?;
            prop_assert_eq!(d.q, q);
            // Classes in order of first appearance: class j is label j.
            let mut seen = vec![0usize; q];
            for (label, xs, _) in &rows {
                let c = &d.classes[*label];
                prop_assert_eq!(c.name.clone(), Some(format!("class{label}")));
                let got: Vec<String> = c.inputs[seen[*label]].iter().map(Rat::canonical).collect();
                let want: Vec<String> = xs.iter().map(|(_, v)| canon(v)).collect();
                prop_assert_eq!(got, want);
                seen[*label] += 1;
            }
            Ok(())
        },
    );
}

// ---------------------------------------------------------------------------------------
// Rat::parse
// ---------------------------------------------------------------------------------------

fn check_rat(s: &str) -> Result<(), TestCaseError> {
    let got = no_panic("Rat::parse", s, || Rat::parse(s))?;
    let want = reference(s);
    match (got, want) {
        (Ok(x), Some(w)) => {
            let c = x.canonical();
            if c != canon(&w) {
                return Err(TestCaseError::fail(format!(
                    "Rat::parse({:?}) = {}, the reference reads {}",
                    short(s),
                    short(&c),
                    short(&canon(&w))
                )));
            }
            prop_assert!(
                canonical_shape(&c),
                "canonical text {:?} of {:?}",
                short(&c),
                short(s)
            );
            let back = no_panic("Rat::parse(canonical)", &c, || Rat::parse(&c))?;
            if back.as_ref() != Ok(&x) {
                return Err(TestCaseError::fail(format!(
                    "canonical text {:?} of {:?} reads back as {:?}",
                    short(&c),
                    short(s),
                    back.map(|b| short(&b.canonical()))
                )));
            }
        }
        (Err(e), None) => prop_assert!(!e.0.is_empty(), "empty error for {:?}", short(s)),
        (Ok(x), None) => {
            return Err(TestCaseError::fail(format!(
                "Rat::parse accepted {:?} as {}, the reference rejects it",
                short(s),
                short(&x.canonical())
            )))
        }
        (Err(e), Some(w)) => {
            return Err(TestCaseError::fail(format!(
                "Rat::parse rejected {:?} ({e}), the reference reads {}",
                short(s),
                short(&canon(&w))
            )))
        }
    }
    Ok(())
}

#[test]
fn rat_parse_arbitrary() {
    fuzz("rat_parse_arbitrary", 1, any::<String>(), |s| check_rat(&s));
}

#[test]
fn rat_parse_numeric() {
    fuzz("rat_parse_numeric", 1, num_text(), |s| check_rat(&s));
}

/// The digit and exponent limits, at and beyond the boundary (too slow to fuzz).
#[test]
fn rat_parse_limits_boundary() {
    for s in [
        "9".repeat(MAX_DIGITS),
        "9".repeat(MAX_DIGITS + 1),
        format!("-{}/{}", "1".repeat(50_000), "3".repeat(50_000)),
        format!("{}/{}", "1".repeat(50_000), "3".repeat(50_001)),
        format!("0.{}e-9999", "7".repeat(99_994)),
        format!("0.{}e-9999", "7".repeat(99_996)),
        format!("{}e10000", "1".repeat(99_995)),
    ] {
        check_rat(&s).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The digit limit applies to the canonical text as well: text within the limits whose
/// value has a longer canonical form (`"0." + "1" × 60000`: 60001 digits, canonical
/// `111…1/1000…0` with 120001) is rejected with a message naming the canonical digit count,
/// so the canonical form of accepted data (`Dataset::canonical_json`) always reads back (the
/// checker converts data through canonical text). A 49 999-digit decimal still round trips.
#[test]
fn digit_limit_bounds_the_canonical_text() {
    let s = format!("0.{}", "1".repeat(60_000));
    let e = Rat::parse(&s).expect_err("canonical text has 120001 digits");
    assert!(e.0.contains("120001 digits in lowest terms"), "{e}");
    let text = format!("{{\"classes\": [{{\"inputs\": [[\"{s}\"]]}}]}}");
    let err = Dataset::from_json_bytes(text.as_bytes(), &limits()).expect_err("rejected");
    assert!(err.to_string().contains("lowest terms"), "{err}");
    let ok = format!("0.{}", "1".repeat(49_998));
    let x = Rat::parse(&ok).expect("accepted: canonical text has 99997 digits");
    assert_eq!(Rat::parse(&x.canonical()).as_ref(), Ok(&x));
    let text = format!("{{\"classes\": [{{\"inputs\": [[\"{ok}\"]]}}]}}");
    let d = Dataset::from_json_bytes(text.as_bytes(), &limits()).expect("data accepted");
    let back = Dataset::from_json_bytes(d.canonical_json().as_bytes(), &limits());
    assert!(
        back.is_ok(),
        "canonical form rejected: {}",
        back.unwrap_err()
    );
    // Exponents: 10^10000 has 10001 digits and is accepted; with a long mantissa the
    // canonical text outgrows the limit.
    assert!(Rat::parse("1e10000").is_ok());
    let long = format!("{}e10000", "1".repeat(95_000));
    assert!(Rat::parse(&long).unwrap_err().0.contains("lowest terms"));
}

// ---------------------------------------------------------------------------------------
// The checker
// ---------------------------------------------------------------------------------------

struct Archive {
    data: Vec<Dataset>,
    /// (name, text, parsed, index into `data`)
    certs: Vec<(String, String, Value, usize)>,
}

fn archive() -> &'static Archive {
    static A: OnceLock<Archive> = OnceLock::new();
    A.get_or_init(|| {
        let (mut data, mut certs) = (Vec::new(), Vec::new());
        let sorted = |d: &Path| {
            let mut v: Vec<PathBuf> = std::fs::read_dir(d)
                .expect("dir")
                .map(|e| e.expect("entry").path())
                .collect();
            v.sort();
            v
        };
        for dir in sorted(&root().join("certificates")) {
            if !dir.is_dir() {
                continue;
            }
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            let path = root().join("examples").join(format!("{name}.json"));
            let d = Dataset::load(&path, &limits()).expect("example data");
            data.push(d);
            for f in sorted(&dir) {
                if f.extension().is_none_or(|e| e != "json") {
                    continue;
                }
                let text = std::fs::read_to_string(&f).expect("read");
                let v: Value = serde_json::from_str(&text).expect("JSON");
                if v["format"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("dlgeom-cert"))
                {
                    let n = format!("{name}/{}", f.file_name().unwrap().to_string_lossy());
                    certs.push((n, text, v, data.len() - 1));
                }
            }
        }
        assert!(certs.len() >= 10, "archive too small");
        Archive { data, certs }
    })
}

fn backend() -> impl Strategy<Value = Backend> {
    prop_oneof![3 => Just(Backend::Malachite), 1 => Just(Backend::Num)]
}

/// Check without panicking; a report must say something.
fn run_check(text: &str, data: &Dataset, b: Backend) -> Result<bool, TestCaseError> {
    let r = no_panic("check_json", text, || check_json(text, data, b))?;
    match &r {
        Err(e) => prop_assert!(!e.is_empty(), "empty parse error"),
        Ok(rep) => {
            prop_assert!(!rep.checks.is_empty(), "empty report");
            prop_assert!(rep.failures().all(|c| !c.detail.is_empty()));
        }
    }
    Ok(r.as_ref().is_ok_and(Report::accepted))
}

#[test]
fn checker_arbitrary_bytes() {
    let strategy = (
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..400)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
            token_soup(),
        ],
        any::<Index>(),
        backend(),
    );
    fuzz("checker_arbitrary_bytes", 1, strategy, |(text, d, b)| {
        let a = archive();
        let data = &a.data[d.index(a.data.len())];
        prop_assert!(!run_check(&text, data, b)?, "accepted {:?}", short(&text));
        Ok(())
    });
}

/// The outcome of checking an edited certificate: no-op edits and harmless variants must be
/// accepted, every other change rejected.
fn judge(
    orig: &Value,
    mutated: Option<&Value>,
    data: &Dataset,
    accepted: bool,
    what: &str,
) -> Result<(), TestCaseError> {
    let Some(m) = mutated else {
        prop_assert!(!accepted, "ACCEPTED invalid text: {}", what);
        return Ok(());
    };
    if m == orig {
        prop_assert!(accepted, "unchanged certificate rejected: {}", what);
    } else if let Some(class) = harmless(orig, m, data) {
        prop_assert!(accepted, "harmless variant ({}) rejected: {}", class, what);
    } else {
        let sections = ["claims", "network", "data", "configuration"];
        let inside = sections.iter().any(|s| orig.get(s) != m.get(s));
        prop_assert!(
            !accepted,
            "ACCEPTED (soundness; change {} claims/network/data/configuration): {}",
            if inside { "inside" } else { "outside" },
            what
        );
    }
    Ok(())
}

#[test]
fn checker_byte_edits() {
    let edit = (any::<Index>(), 0u8..3, any::<u8>());
    let strategy = (any::<Index>(), prop::collection::vec(edit, 1..4), backend());
    fuzz("checker_byte_edits", 2, strategy, |(ci, edits, b)| {
        let a = archive();
        let (name, text, orig, d) = &a.certs[ci.index(a.certs.len())];
        let mut bytes = text.as_bytes().to_vec();
        for (i, op, byte) in &edits {
            let p = i.index(bytes.len() + 1);
            match op {
                0 if p < bytes.len() => bytes[p] = *byte,
                1 => bytes.insert(p, *byte),
                _ if p < bytes.len() => {
                    bytes.remove(p);
                }
                _ => bytes.push(*byte),
            }
        }
        let t = String::from_utf8_lossy(&bytes).into_owned();
        let accepted = run_check(&t, &a.data[*d], b)?;
        let parsed: Option<Value> = serde_json::from_str(&t).ok();
        let what = format!("{name} with byte edits {edits:?} ({b:?})");
        judge(orig, parsed.as_ref(), &a.data[*d], accepted, &what)
    });
}

#[derive(Clone, Debug)]
enum CertEdit {
    Replace(Value),
    NumberText(String),
    IntDelta(i64),
    Flip,
    Delete,
    Duplicate,
    Append(Value),
    InsertKey(String, Value),
    Text(String),
    /// Copy the value of another node of the same certificate here.
    CopyFrom(Index),
    /// The value at the same path in another certificate (of any example; at the root this
    /// may be another valid certificate of the same data, which must be accepted).
    Splice(Index),
    /// Write the nearest object's first key twice (text level).
    DuplicateKey(Value),
    /// Wrap the node in this many arrays.
    Nest(usize),
    /// Swap an array element with the next one (cyclically).
    SwapNext,
}

fn cert_edit() -> impl Strategy<Value = CertEdit> {
    prop_oneof![
        2 => arb_json().prop_map(CertEdit::Replace),
        4 => num_text().prop_map(CertEdit::NumberText),
        3 => prop_oneof![-3i64..=3, any::<i64>()].prop_map(CertEdit::IntDelta),
        1 => Just(CertEdit::Flip),
        2 => Just(CertEdit::Delete),
        2 => Just(CertEdit::Duplicate),
        1 => arb_json().prop_map(CertEdit::Append),
        1 => ("[a-z_]{1,10}", arb_json()).prop_map(|(k, v)| CertEdit::InsertKey(k, v)),
        1 => "\\PC{0,16}".prop_map(CertEdit::Text),
        2 => any::<Index>().prop_map(CertEdit::CopyFrom),
        2 => any::<Index>().prop_map(CertEdit::Splice),
        1 => arb_json().prop_map(CertEdit::DuplicateKey),
        1 => (1usize..300).prop_map(CertEdit::Nest),
        2 => Just(CertEdit::SwapNext),
    ]
}

/// Apply a structured edit; `None` for the text-level duplicate key.
fn apply_cert_edit(orig: &Value, path: &[Key], edit: &CertEdit) -> (Option<Value>, String) {
    let mut m = orig.clone();
    let node = at_mut(&mut m, path);
    match edit {
        CertEdit::Replace(x) => *node = x.clone(),
        CertEdit::NumberText(t) => *node = Value::String(t.clone()),
        CertEdit::IntDelta(d) => {
            *node = match node.as_i64() {
                Some(n) => Value::from(n.wrapping_add(*d)),
                None => Value::from(*d),
            }
        }
        CertEdit::Flip => {
            *node = match node {
                Value::Bool(b) => Value::Bool(!*b),
                Value::Null => Value::Bool(false),
                _ => Value::Null,
            }
        }
        CertEdit::Delete => delete(&mut m, path),
        CertEdit::Duplicate => {
            if let Some((Key::I(i), parent)) = path.split_last() {
                let arr = at_mut(&mut m, parent).as_array_mut().expect("array");
                let x = arr[*i].clone();
                arr.insert(*i, x);
            } else if let Value::Array(a) = node {
                if let Some(x) = a.first().cloned() {
                    a.push(x);
                }
            }
        }
        CertEdit::Append(x) => match node {
            Value::Array(a) => a.push(x.clone()),
            Value::Object(o) => {
                o.insert("extra".into(), x.clone());
            }
            other => *other = Value::Array(vec![other.clone(), x.clone()]),
        },
        CertEdit::InsertKey(k, x) => {
            let p = object_at_or_above(orig, path);
            at_mut(&mut m, &p)
                .as_object_mut()
                .expect("object")
                .insert(k.clone(), x.clone());
        }
        CertEdit::Text(t) => *node = Value::String(t.clone()),
        CertEdit::CopyFrom(i) => {
            let all = nodes(orig);
            *node = at(orig, &all[i.index(all.len())]).expect("node").clone();
        }
        CertEdit::Splice(i) => {
            let a = archive();
            let other = &a.certs[i.index(a.certs.len())].2;
            if let Some(x) = at(other, path) {
                *node = x.clone();
            }
        }
        CertEdit::DuplicateKey(x) => {
            let text = emit_duplicate_key(orig, &object_at_or_above(orig, path), x);
            return (None, text);
        }
        CertEdit::SwapNext => {
            if let Some((Key::I(i), parent)) = path.split_last() {
                let arr = at_mut(&mut m, parent).as_array_mut().expect("array");
                let j = (i + 1) % arr.len();
                arr.swap(*i, j);
            }
        }
        CertEdit::Nest(depth) => {
            let mut x = node.take();
            for _ in 0..*depth {
                x = Value::Array(vec![x]);
            }
            *node = x;
        }
    }
    let text = m.to_string();
    (Some(m), text)
}

static CHECKER_OUTCOMES: [AtomicUsize; 5] = [const { AtomicUsize::new(0) }; 5];

#[test]
fn checker_structured() {
    let strategy = (any::<Index>(), any::<Index>(), cert_edit(), backend());
    fuzz("checker_structured", 2, strategy, |(ci, node, edit, b)| {
        let a = archive();
        let (name, _, orig, d) = &a.certs[ci.index(a.certs.len())];
        let paths = nodes(orig);
        let path = &paths[node.index(paths.len())];
        let (mutated, text) = apply_cert_edit(orig, path, &edit);
        let accepted = run_check(&text, &a.data[*d], b)?;
        let what = format!("{name}: {edit:?} at {path:?} ({b:?})");
        // A splice at the root may give another archived certificate of the same data: a
        // different valid certificate, not a mutation.
        let other_valid = mutated
            .as_ref()
            .is_some_and(|m| m != orig && a.certs.iter().any(|c| c.3 == *d && c.2 == *m));
        let kind = match &mutated {
            None => 0,
            Some(m) if m == orig => 1,
            Some(m) if harmless(orig, m, &a.data[*d]).is_some() => 2,
            Some(_) if other_valid => 4,
            Some(_) => 3,
        };
        CHECKER_OUTCOMES[kind].fetch_add(1, Ordering::Relaxed);
        if other_valid {
            prop_assert!(accepted, "another valid certificate rejected: {}", what);
            return Ok(());
        }
        judge(orig, mutated.as_ref(), &a.data[*d], accepted, &what)
    });
    let n = |i: usize| CHECKER_OUTCOMES[i].load(Ordering::Relaxed);
    println!(
        "  checker_structured: {} value-changing edits rejected, {} harmless variants and {} \
         no-op edits accepted, {} duplicate-key texts rejected, {} root splices giving another \
         valid certificate of the same data accepted",
        n(3),
        n(2),
        n(1),
        n(0),
        n(4)
    );
}
