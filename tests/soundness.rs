//! Soundness sweep of the independent checker (`dlgeom_cert::checker`) over EVERY archived
//! certificate in `certificates/<example>/*.json`, each paired with its data
//! `examples/<example>.json` (the archive is read at test time; nothing about it is
//! hard-coded).
//!
//! What is covered:
//! - every archived certificate is accepted by both exact backends (the baseline);
//! - the systematic single-field mutation sweep: for every certificate, every mutation of one
//!   field is generated (see [`Kind`]): weights and claimed values moved by a tiny rational
//!   (`p/q → p/q ± 1/(q·2^20)`), replaced by a random other rational, or respelled
//!   non-canonically; counts and indices ±1; each hex digit of both data hashes; every bool;
//!   enumerated strings (verdict, family, fit, pattern bits, id, ...); permutations (the
//!   collapse order, class lists, cones, groups: all of them for ≤ 4 elements, adjacent swaps
//!   otherwise); every array element dropped or duplicated; every non-null key removed; nulls
//!   filled; float cross-check values moved by one ulp; and whole sections (network, claims,
//!   configuration, float block and each claim block) spliced in from another certificate of
//!   the same data. Each mutated certificate must be rejected, except for the documented
//!   harmless equivalences of [`harmless`] (which must be accepted). It is checked with the
//!   malachite backend and with the `num` backend (all of them when unlimited; every
//!   [`NUM_EVERY`]-th under a cap, `num` being about 10× slower at opt-level 1); the two
//!   reports must be identical;
//! - every certificate checked against every other example's data, and against its own data
//!   re-serialised with other bytes, is rejected with a failed `data` check.
//!
//! The number of mutations checked is capped by `DLGEOM_SWEEP_LIMIT` (default
//! [`DEFAULT_LIMIT`], chosen deterministically and spread round-robin over every
//! (certificate, mutation kind) pair, so every file and every kind is exercised); `0` means
//! unlimited. The large version (every mutation of every certificate):
//!
//! ```text
//! DLGEOM_SWEEP_LIMIT=0 cargo test --release --test soundness -- --nocapture
//! ```

mod common;
use common::*;

use dlgeom_cert::arith::{Int, Rat};
use dlgeom_cert::checker::{check_json, Backend, Checker, Report};
use dlgeom_cert::data::{DataLimits, Dataset};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const BACKENDS: [Backend; 2] = [Backend::Malachite, Backend::Num];

/// Mutations checked by default (a few thousand, well under a minute at opt-level 1).
const DEFAULT_LIMIT: usize = 2500;

/// `k` in the tiny change `p/q → p/q ± 1/(q·2^k)`.
const TINY_SHIFT: i64 = 20;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------------------
// The archive
// ---------------------------------------------------------------------------------------

struct Example {
    name: String,
    data: Dataset,
}

struct Cert {
    /// Index into [`Archive::examples`].
    example: usize,
    /// `<example>/<file>`.
    name: String,
    text: String,
    root: Value,
}

struct Archive {
    examples: Vec<Example>,
    certs: Vec<Cert>,
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut v: Vec<PathBuf> = rd.map(|e| e.expect("dir entry").path()).collect();
    v.sort();
    v
}

/// Every certificate of `certificates/` with its example data (summaries and other
/// non-certificate JSON files are skipped).
fn archive() -> Archive {
    let (mut examples, mut certs) = (Vec::new(), Vec::new());
    for dir in sorted_entries(&root().join("certificates")) {
        if !dir.is_dir() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let data_path = root().join("examples").join(format!("{name}.json"));
        let data = Dataset::load(&data_path, &DataLimits::default())
            .unwrap_or_else(|e| panic!("certificates/{name} has no usable example data: {e}"));
        let example = examples.len();
        examples.push(Example {
            name: name.clone(),
            data,
        });
        for f in sorted_entries(&dir) {
            if f.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = std::fs::read_to_string(&f).expect("read certificate");
            let root: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not JSON: {e}", f.display()));
            let is_cert = root["format"]
                .as_str()
                .is_some_and(|s| s.starts_with("dlgeom-cert"));
            if is_cert {
                let file = f.file_name().unwrap().to_string_lossy();
                certs.push(Cert {
                    example,
                    name: format!("{name}/{file}"),
                    text,
                    root,
                });
            }
        }
    }
    assert!(
        examples.len() >= 2 && certs.len() >= 10,
        "archive too small: {} examples, {} certificates",
        examples.len(),
        certs.len()
    );
    Archive { examples, certs }
}

fn limit() -> Option<usize> {
    let n = match std::env::var("DLGEOM_SWEEP_LIMIT") {
        Ok(s) => s
            .trim()
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("DLGEOM_SWEEP_LIMIT={s:?} is not a number")),
        Err(_) => DEFAULT_LIMIT,
    };
    (n > 0).then_some(n)
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Key {
    F(String),
    I(usize),
}

/// What is done to the node at the mutation's path.
#[derive(Clone, Debug)]
enum Op {
    Set(Value),
    Drop(usize),
    Dup(usize),
    Remove(String),
    Permute(Vec<usize>),
}

/// The mutation kinds (the strata of the capped sweep).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A weight `p/q → p/q ± 1/(q·2^20)`.
    WeightTiny,
    /// A weight replaced by a random other rational.
    WeightRandom,
    /// A claimed value (claims, configuration) `± 1/(q·2^20)`.
    ValueTiny,
    /// A claimed value replaced by a random other rational, `+1` or its negation.
    ValueOther,
    /// A number written in a non-canonical spelling of the same value (`2p/2q`).
    Respell,
    /// A count or index ±1.
    Count,
    /// One hex digit of a data hash changed.
    Hash,
    /// A bool flipped.
    Bool,
    /// An enumerated or free string changed (verdict, family, fit, kind, id, ...).
    Text,
    /// One bit of a pattern flipped.
    Pattern,
    /// An array permuted (all permutations for ≤ 4 elements, adjacent swaps otherwise).
    Permute,
    /// An array element dropped.
    Drop,
    /// An array element duplicated.
    Duplicate,
    /// A non-null key removed.
    RemoveKey,
    /// A null replaced by `0`, `"0"` or `[]`.
    NullFill,
    /// A float of the cross-check moved by one ulp, or set to null.
    Float,
    /// A whole section replaced by the same section of another certificate of the same data.
    Splice,
}

#[derive(Clone, Debug)]
struct Mutation {
    cert: usize,
    kind: Kind,
    keys: Vec<Key>,
    op: Op,
}

fn path_str(keys: &[Key]) -> String {
    let mut s = String::new();
    for k in keys {
        match k {
            Key::F(f) => s.push_str(&format!(".{f}")),
            Key::I(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn describe(m: &Mutation) -> String {
    let op = match &m.op {
        Op::Set(v) => {
            let t = v.to_string();
            let t = if t.len() > 120 {
                format!("{}…", &t[..t.floor_char_boundary(120)])
            } else {
                t
            };
            format!("set to {t}")
        }
        Op::Drop(i) => format!("drop [{i}]"),
        Op::Dup(i) => format!("duplicate [{i}]"),
        Op::Remove(k) => format!("remove key {k:?}"),
        Op::Permute(p) => format!("permute {p:?}"),
    };
    format!("{:?} {} {op}", m.kind, path_str(&m.keys))
}

fn apply(root: &Value, m: &Mutation) -> Value {
    let mut r = root.clone();
    let mut at = &mut r;
    for k in &m.keys {
        at = match k {
            Key::F(f) => at.get_mut(f.as_str()).expect("path"),
            Key::I(i) => at.get_mut(*i).expect("path"),
        };
    }
    match &m.op {
        Op::Set(v) => *at = v.clone(),
        Op::Drop(i) => {
            at.as_array_mut().expect("array").remove(*i);
        }
        Op::Dup(i) => {
            let a = at.as_array_mut().expect("array");
            let x = a[*i].clone();
            a.insert(*i, x);
        }
        Op::Remove(k) => {
            at.as_object_mut().expect("object").shift_remove(k);
        }
        Op::Permute(p) => {
            let a = at.as_array_mut().expect("array");
            *a = p.iter().map(|&i| a[i].clone()).collect();
        }
    }
    r
}

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn seeded(text: &str) -> Rng {
        // FNV-1a of the text.
        let mut h = 0xcbf29ce484222325u64;
        for b in text.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
        Rng(h)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The value of canonical number text (`None` for any other string).
fn canonical_num(s: &str) -> Option<Rat> {
    Rat::parse(s).ok().filter(|r| r.canonical() == s)
}

/// `x + 1/(q·2^k)` with `q` the denominator of `x` (`sign` = ±1).
fn tiny(x: &Rat, sign: i64) -> Rat {
    let den = Rat::from_int(&(x.denom() * Int::from_i64(1 << TINY_SHIFT)));
    x + &(Rat::from_i64(sign) / den)
}

fn random_rat(rng: &mut Rng, avoid: &Rat) -> Rat {
    loop {
        let p = rng.below(1 << 21) as i64 - (1 << 20);
        let q = 1 + rng.below(1000) as i64;
        let r = Rat::from_frac(p, q).expect("q > 0");
        if &r != avoid {
            return r;
        }
    }
}

const VERDICTS: [&str; 5] = [
    "global-minimum",
    "local-minimum",
    "not-a-local-minimum",
    "critical-point-not-certified",
    "not-differentiable",
];
const FAMILIES: [&str; 5] = ["shallow", "global", "partial", "grouped", "imported"];

/// Sections replaced wholesale by another certificate's (for [`Kind::Splice`]).
const SPLICE: [&[&str]; 9] = [
    &["configuration"],
    &["network"],
    &["claims"],
    &["float_check"],
    &["claims", "margin"],
    &["claims", "gradient"],
    &["claims", "pattern_region"],
    &["claims", "degeneracy"],
    &["claims", "descent"],
];

/// Arrays whose every permutation is tried (when they have at most 4 elements).
fn fully_permuted(keys: &[Key]) -> bool {
    let p = path_str(keys);
    p.starts_with(".configuration") || p == ".claims.pattern_region.groups"
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for i in 0..n {
            let mut q = p.clone();
            q.insert(i, n - 1);
            out.push(q);
        }
    }
    out
}

struct Gen<'a> {
    cert: usize,
    /// Ids of the certificates of the same example (other plausible ids).
    ids: &'a [String],
    rng: Rng,
    out: Vec<Mutation>,
}

impl Gen<'_> {
    fn push(&mut self, kind: Kind, keys: &[Key], op: Op) {
        self.out.push(Mutation {
            cert: self.cert,
            kind,
            keys: keys.to_vec(),
            op,
        });
    }
    fn set(&mut self, kind: Kind, keys: &[Key], v: impl Into<Value>) {
        self.push(kind, keys, Op::Set(v.into()));
    }

    fn walk(&mut self, v: &Value, keys: &mut Vec<Key>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if !x.is_null() {
                        self.push(Kind::RemoveKey, keys, Op::Remove(k.clone()));
                    }
                }
                for (k, x) in o {
                    keys.push(Key::F(k.clone()));
                    self.walk(x, keys);
                    keys.pop();
                }
            }
            Value::Array(a) => {
                for i in 0..a.len() {
                    self.push(Kind::Drop, keys, Op::Drop(i));
                    self.push(Kind::Duplicate, keys, Op::Dup(i));
                }
                let n = a.len();
                if (2..=4).contains(&n) && fully_permuted(keys) {
                    for p in permutations(n).into_iter().skip(1) {
                        self.push(Kind::Permute, keys, Op::Permute(p));
                    }
                } else if n >= 2 {
                    for i in 0..n - 1 {
                        let mut p: Vec<usize> = (0..n).collect();
                        p.swap(i, i + 1);
                        self.push(Kind::Permute, keys, Op::Permute(p));
                    }
                    if n > 2 {
                        self.push(Kind::Permute, keys, Op::Permute((0..n).rev().collect()));
                    }
                }
                for (i, x) in a.iter().enumerate() {
                    keys.push(Key::I(i));
                    self.walk(x, keys);
                    keys.pop();
                }
            }
            leaf => self.leaf(leaf, keys),
        }
    }

    fn leaf(&mut self, v: &Value, keys: &[Key]) {
        let field = keys
            .iter()
            .rev()
            .find_map(|k| match k {
                Key::F(f) => Some(f.as_str()),
                Key::I(_) => None,
            })
            .unwrap_or("");
        let section = match keys.first() {
            Some(Key::F(f)) => f.as_str(),
            _ => "",
        };
        match v {
            Value::Null => {
                self.set(Kind::NullFill, keys, 0);
                self.set(Kind::NullFill, keys, "0");
                self.set(Kind::NullFill, keys, Value::Array(vec![]));
            }
            Value::Bool(b) => self.set(Kind::Bool, keys, !b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.set(Kind::Count, keys, u + 1);
                    if u > 0 {
                        self.set(Kind::Count, keys, u - 1);
                    } else {
                        self.set(Kind::Count, keys, -1);
                    }
                } else {
                    let x = n.as_f64().expect("finite float");
                    let up = f64::from_bits(x.to_bits() + 1);
                    let down = if x == 0.0 {
                        -f64::MIN_POSITIVE
                    } else {
                        f64::from_bits(x.to_bits() - 1)
                    };
                    for y in [up, down] {
                        let num = serde_json::Number::from_f64(y).expect("finite");
                        self.set(Kind::Float, keys, Value::Number(num));
                    }
                    self.set(Kind::Float, keys, Value::Null);
                }
            }
            Value::String(s) => self.string(s, keys, field, section),
            _ => unreachable!("containers are walked"),
        }
    }

    fn string(&mut self, s: &str, keys: &[Key], field: &str, section: &str) {
        if field.starts_with("sha256") {
            for (i, c) in s.char_indices() {
                let d = c.to_digit(16).unwrap_or(0);
                let nd = std::char::from_digit((d + 1) % 16, 16).expect("hex");
                let t = format!("{}{nd}{}", &s[..i], &s[i + c.len_utf8()..]);
                self.set(Kind::Hash, keys, t);
            }
            return;
        }
        if let Some(x) = canonical_num(s) {
            let weight = section == "network";
            let (tk, ok) = if weight {
                (Kind::WeightTiny, Kind::WeightRandom)
            } else {
                (Kind::ValueTiny, Kind::ValueOther)
            };
            self.set(tk, keys, tiny(&x, 1).canonical());
            self.set(tk, keys, tiny(&x, -1).canonical());
            let r = random_rat(&mut self.rng, &x);
            self.set(ok, keys, r.canonical());
            if !weight {
                self.set(ok, keys, (&x + &Rat::one()).canonical());
                if !x.is_zero() {
                    self.set(ok, keys, (-&x).canonical());
                }
            }
            let (p, q) = (x.numer(), x.denom());
            let two = Int::from_i64(2);
            let respelled = format!("{}/{}", (&p * &two).canonical(), (&q * &two).canonical());
            self.set(Kind::Respell, keys, respelled);
            return;
        }
        let mut alts: Vec<String> = Vec::new();
        let mut kind = Kind::Text;
        match field {
            "verdict" => alts.extend(VERDICTS.iter().map(|x| x.to_string())),
            "family" => alts.extend(FAMILIES.iter().map(|x| x.to_string())),
            "fit" => alts.extend(["affine".into(), "constant".into()]),
            "normalisation" => alts.extend(["1/N".into(), "1/(2N)".into(), "1/(3N)".into()]),
            "kind" => alts.push("hidden-layer".into()),
            "id" => {
                alts.extend(self.ids.iter().cloned());
                alts.push(format!("{s}x"));
            }
            "pattern" => {
                kind = Kind::Pattern;
                for (i, c) in s.char_indices() {
                    let nc = if c == '0' { '1' } else { '0' };
                    alts.push(format!("{}{nc}{}", &s[..i], &s[i + 1..]));
                }
            }
            "version" => alts.extend(["".into(), "9.9.9-other".into()]),
            "format" => alts.extend(["dlgeom-cert/2".into(), format!("{s} ")]),
            _ => {
                alts.push(format!("{s}x"));
                alts.push(String::new());
            }
        }
        for a in alts {
            if a != s {
                self.set(kind, keys, a);
            }
        }
    }
}

fn keys_of(path: &[&str]) -> Vec<Key> {
    path.iter().map(|k| Key::F(k.to_string())).collect()
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |at, k| at.get(k))
}

/// Every mutation of every certificate, in generation order.
fn all_mutations(a: &Archive) -> Vec<Mutation> {
    let mut out = Vec::new();
    for (ci, c) in a.certs.iter().enumerate() {
        let siblings: Vec<&Cert> = a.certs.iter().filter(|o| o.example == c.example).collect();
        let ids: Vec<String> = siblings
            .iter()
            .filter_map(|o| o.root["configuration"]["id"].as_str().map(String::from))
            .collect();
        let mut g = Gen {
            cert: ci,
            ids: &ids,
            rng: Rng::seeded(&c.name),
            out: Vec::new(),
        };
        g.walk(&c.root, &mut Vec::new());
        for o in &siblings {
            for path in SPLICE {
                let (Some(mine), Some(theirs)) = (get(&c.root, path), get(&o.root, path)) else {
                    continue;
                };
                if mine != theirs {
                    g.set(Kind::Splice, &keys_of(path), theirs.clone());
                }
            }
        }
        out.extend(g.out);
    }
    out
}

/// The capped selection: round robin over the (certificate, kind) strata, each stratum in a
/// fixed pseudo-random order, until `limit` mutations are chosen.
fn select(all: Vec<Mutation>, limit: Option<usize>) -> Vec<Mutation> {
    let Some(limit) = limit.filter(|&l| l < all.len()) else {
        return all;
    };
    let mut strata: BTreeMap<(usize, Kind), Vec<Mutation>> = BTreeMap::new();
    for m in all {
        strata.entry((m.cert, m.kind)).or_default().push(m);
    }
    for ((c, k), v) in strata.iter_mut() {
        let mut rng = Rng::seeded(&format!("{c} {k:?}"));
        for i in (1..v.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
        v.reverse(); // pop() from the end below takes them in shuffled order
    }
    let mut out = Vec::with_capacity(limit);
    while out.len() < limit {
        for v in strata.values_mut() {
            if out.len() == limit {
                break;
            }
            if let Some(m) = v.pop() {
                out.push(m);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------

fn both(text: &str, data: &Dataset) -> [Result<Report, String>; 2] {
    BACKENDS.map(|b| check_json(text, data, b))
}

fn accepted(r: &Result<Report, String>) -> bool {
    r.as_ref().is_ok_and(Report::accepted)
}

#[test]
fn archived_certificates_are_accepted_by_both_backends() {
    let a = archive();
    // One shared checker per example and backend: nothing leaks from one certificate to the
    // next (every report equals a fresh checker's).
    let shared: Vec<[Checker; 2]> = (a.examples.iter())
        .map(|e| BACKENDS.map(|b| Checker::new(&e.data, b)))
        .collect();
    for c in &a.certs {
        let data = &a.examples[c.example].data;
        let compact = serde_json::to_string(&c.root).expect("json");
        let [m, n] = both(&c.text, data);
        assert!(accepted(&m), "{} rejected (malachite): {m:?}", c.name);
        assert_eq!(m, n, "{}: backends disagree", c.name);
        for (ch, fresh) in shared[c.example].iter().zip([&m, &n]) {
            assert_eq!(&ch.check_json(&c.text), fresh, "{}: shared checker", c.name);
        }
        // The compact re-serialisation (as the sweep writes mutated certificates) too.
        let r = check_json(&compact, data, Backend::Malachite);
        assert_eq!(r, m, "{}: compact text checked differently", c.name);
    }
    println!(
        "{} archived certificates of {} examples accepted by both backends",
        a.certs.len(),
        a.examples.len()
    );
}

#[derive(Default)]
struct Tally {
    /// Meaning-changing mutations checked, per backend.
    tried: [usize; 2],
    rejected: [usize; 2],
    harmless: BTreeMap<&'static str, usize>,
    /// Per kind: generated, checked (meaning-changing), rejected by every backend that ran.
    per_kind: BTreeMap<Kind, [usize; 3]>,
    no_ops: usize,
    failures: Vec<String>,
}

/// With a limit in force, the `Num` backend (about 10× slower than malachite at opt-level 1)
/// checks every [`NUM_EVERY`]-th selected mutation; unlimited, it checks every one.
const NUM_EVERY: usize = 4;

fn run_one(a: &Archive, m: &Mutation, with_num: bool, tally: &Mutex<Tally>) {
    let c = &a.certs[m.cert];
    let mutated = apply(&c.root, m);
    if mutated == c.root {
        tally.lock().unwrap().no_ops += 1; // e.g. swapping two equal entries
        return;
    }
    let text = serde_json::to_string(&mutated).expect("json");
    let data = &a.examples[c.example].data;
    let expect = harmless(&c.root, &mutated, data);
    let backends: &[Backend] = if with_num { &BACKENDS } else { &BACKENDS[..1] };
    let reports: Vec<_> = backends
        .iter()
        .map(|b| check_json(&text, data, *b))
        .collect();
    let acc: Vec<bool> = reports.iter().map(accepted).collect();
    let mut t = tally.lock().unwrap();
    let what = || format!("{} {}", c.name, describe(m));
    if reports.len() == 2 && reports[0] != reports[1] {
        t.failures.push(format!("backends disagree: {}", what()));
    }
    if let Some(class) = expect {
        *t.harmless.entry(class).or_default() += 1;
        if acc.iter().any(|x| !x) {
            let r = &reports[0];
            t.failures.push(format!(
                "harmless variant ({class}) rejected {acc:?}: {}
{r:?}",
                what()
            ));
        }
        return;
    }
    for (k, ok) in acc.iter().enumerate() {
        t.tried[k] += 1;
        t.rejected[k] += usize::from(!ok);
    }
    let e = t.per_kind.entry(m.kind).or_default();
    e[1] += 1;
    e[2] += usize::from(acc.iter().all(|x| !x));
    if acc.iter().any(|x| *x) {
        t.failures
            .push(format!("ACCEPTED (soundness) {acc:?}: {}", what()));
    }
}

#[test]
fn every_single_field_mutation_is_rejected() {
    let t0 = Instant::now();
    let a = archive();
    let all = all_mutations(&a);
    let generated = all.len();
    let tally = Mutex::new(Tally::default());
    for m in &all {
        tally.lock().unwrap().per_kind.entry(m.kind).or_default()[0] += 1;
    }
    let lim = limit();
    let chosen = select(all, lim);
    let num_every = if lim.is_some() { NUM_EVERY } else { 1 };
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads() {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(m) = chosen.get(i) else { break };
                run_one(&a, m, i.is_multiple_of(num_every), &tally);
                if (i + 1).is_multiple_of(5000) {
                    eprintln!(
                        "  … {} of {} checked ({:.0?})",
                        i + 1,
                        chosen.len(),
                        t0.elapsed()
                    );
                }
            });
        }
    });
    let t = tally.into_inner().unwrap();
    println!(
        "soundness sweep: {} certificates ({} examples), {generated} mutations generated, \
         limit {}, {} selected, {} no-ops skipped, {:.1?} with {} threads",
        a.certs.len(),
        a.examples.len(),
        lim.map_or("none".to_string(), |l| l.to_string()),
        chosen.len(),
        t.no_ops,
        t0.elapsed(),
        threads()
    );
    for (k, name) in ["malachite", "num"].iter().enumerate() {
        println!(
            "  {name}: {} meaning-changing mutations tried, {} rejected",
            t.tried[k], t.rejected[k]
        );
    }
    for (k, [g, n, r]) in &t.per_kind {
        println!("  {k:?}: {g} generated, {n} checked, {r} rejected");
    }
    for (class, n) in &t.harmless {
        println!("  harmless (accepted as expected): {class}: {n}");
    }
    assert!(
        t.failures.is_empty(),
        "{} wrong outcomes:\n{}",
        t.failures.len(),
        t.failures.join("\n")
    );
    assert_eq!(t.rejected, t.tried);
    assert!(t.tried[0] > 0 && t.tried[1] > 0);
}

#[test]
fn certificates_for_other_data_are_rejected() {
    let a = archive();
    let limits = DataLimits::default();
    // Each example re-serialised: the same mathematics in other bytes.
    let respaced: Vec<Dataset> = a
        .examples
        .iter()
        .map(|e| {
            let text = e.data.to_json_pretty();
            let d = Dataset::from_json_bytes(text.as_bytes(), &limits).expect("round trip");
            assert_eq!(d.sha256_canonical, e.data.sha256_canonical, "{}", e.name);
            d
        })
        .collect();
    let (mut pairs, mut same_math) = (0, 0);
    let mut failures = Vec::new();
    for c in &a.certs {
        let mut targets: Vec<(String, &Dataset)> = a
            .examples
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != c.example)
            .map(|(_, e)| (e.name.clone(), &e.data))
            .collect();
        let own = &respaced[c.example];
        if own.sha256_bytes != a.examples[c.example].data.sha256_bytes {
            targets.push(("its own data, other bytes".into(), own));
            same_math += 1;
        }
        for (name, d) in targets {
            pairs += 1;
            let reports = both(&c.text, d);
            if reports[0] != reports[1] {
                failures.push(format!("{} on {name}: backends disagree", c.name));
            }
            for r in &reports {
                let data_failed = r
                    .as_ref()
                    .is_ok_and(|r| r.failures().any(|f| f.name == "data"));
                if accepted(r) || !data_failed {
                    failures.push(format!("{} on {name}: not rejected by `data`", c.name));
                }
            }
        }
    }
    println!(
        "cross-data: {pairs} (certificate, other data) pairs rejected by both backends, \
         {same_math} of them the same mathematics in other bytes"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
