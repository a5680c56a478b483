//! Training data: the `dlgeom-data/1` JSON format (PRODUCT.md, "Input data format"), CSV,
//! validation, hashes, and per-class sufficient statistics.
//!
//! MATH.md §1: `Q` classes, class `j` has inputs `x_{j,1..N_j} ∈ ℚ^Q` (`N_j ≥ 1`) and one
//! target `y_j ∈ ℚ^Q` (default one-hot `e_j`); `N = Σ_j N_j`. MATH.md §6 and §8 need only the
//! sufficient statistics of each class ([`ClassStats`]: `N_j`, `Σ_i x_{j,i}`,
//! `Σ_i x_{j,i} x_{j,i}ᵀ`).
//!
//! # Reading
//!
//! - [`Dataset::from_json_bytes`] reads `dlgeom-data/1`. The document is streamed through
//!   `serde_json` with hand-written visitors, so that: numbers (JSON strings or JSON numbers)
//!   are read from their literal text and never pass through a float; a repeated key at any
//!   level is an error with its line and column (serde_json's `Value` would silently keep the
//!   last one); unknown keys are errors; nesting deeper than [`DataLimits::max_depth`] is an
//!   error, never a stack overflow; the number of classes and points is bounded while reading.
//! - [`Dataset::from_csv_bytes`] reads rows `class,x_1,…,x_Q` (one-hot targets).
//! - [`Dataset::load`] reads a file and dispatches on its extension.
//!
//! Every error is a [`DataError`] whose message names the place: `class 2 ("b"), point 5,
//! coordinate 3: …`, `class 1 ("a"), target: …`, `line 7, column 12: duplicate key …`,
//! `line 3: CSV row has 4 columns, expected 3`. Classes, points, coordinates, entries,
//! lines and columns are counted from 1. Nothing in this module panics on any input.
//!
//! # Hashes
//!
//! [`Dataset::sha256_bytes`](Dataset) is the SHA-256 of the bytes as read;
//! [`Dataset::sha256_canonical`](Dataset) is the SHA-256 of [`Dataset::canonical_json`], which
//! does not depend on whitespace, key order, number spelling (`0.5`, `"1/2"`, `5e-1`) or class
//! names, only on the mathematics (targets and inputs, in order).

use crate::arith::{Int, ParseLimits, Rat};
use crate::matrix::Matrix;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::Path;

/// One class: its inputs and its target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    /// Optional human-readable name.
    pub name: Option<String>,
    /// The target `y_j ∈ ℚ^Q`.
    pub target: Vec<Rat>,
    /// `true` when the target was given in the file (otherwise it is the one-hot default).
    pub target_given: bool,
    /// The inputs `x_{j,i} ∈ ℚ^Q`.
    pub inputs: Vec<Vec<Rat>>,
}

/// A validated data set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Number of classes (= dimension of every space).
    pub q: usize,
    /// The classes, in file order (class `j` is `classes[j - 1]`).
    pub classes: Vec<Class>,
    /// SHA-256 (lowercase hex) of the file bytes as read.
    pub sha256_bytes: String,
    /// SHA-256 (lowercase hex) of [`Dataset::canonical_json`].
    pub sha256_canonical: String,
}

/// Bounds on what a data file may demand, so that hostile input is rejected with an error
/// instead of exhausting memory or the stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLimits {
    /// Largest number of classes `Q` (default 64).
    pub max_classes: usize,
    /// Largest total number of points `N` (default 10 000 000).
    pub max_points: usize,
    /// Largest file size in bytes (default 2 GiB).
    pub max_file_bytes: u64,
    /// Deepest JSON nesting of arrays and objects (default 8; a valid `dlgeom-data/1`
    /// document needs 5: document, `classes`, class, `inputs`, point). Independently of
    /// this, `serde_json` stops at 128 levels, so even a huge value here cannot overflow
    /// the stack.
    pub max_depth: usize,
    /// Bounds on every number's text (digits, exponent): see [`Rat::parse_with`].
    pub number: ParseLimits,
}

impl Default for DataLimits {
    fn default() -> Self {
        DataLimits {
            max_classes: 64,
            max_points: 10_000_000,
            max_file_bytes: 2 * 1024 * 1024 * 1024,
            max_depth: 8,
            number: ParseLimits::default(),
        }
    }
}

/// Why a data file was rejected: one paragraph naming what is wrong and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataError {
    /// The message, e.g. `class 2 ("b"), point 5, coordinate 3: "1/0" has a zero denominator`.
    pub message: String,
}

impl DataError {
    fn new(message: impl Into<String>) -> DataError {
        DataError {
            message: message.into(),
        }
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DataError {}

/// Sufficient statistics of one class (MATH.md §6, §8), all exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassStats {
    /// `N_j`, the number of inputs.
    pub count: usize,
    /// `Σ_i x_{j,i}` (length `Q`).
    pub sum: Vec<Rat>,
    /// `Σ_i x_{j,i} x_{j,i}ᵀ` (`Q × Q`, symmetric).
    pub outer: Matrix,
}

/// The format tag of the JSON data format.
pub const FORMAT_TAG: &str = "dlgeom-data/1";

/// Class-sum denominators up to this many bits use integer accumulation (see
/// [`Dataset::class_stats`]); beyond it plain rational sums are used.
const COMMON_DENOMINATOR_MAX_BITS: u64 = 2048;

impl Dataset {
    /// Total number of points `N`.
    pub fn n(&self) -> usize {
        self.classes.iter().map(|c| c.inputs.len()).sum()
    }
    /// `N_j` for every class.
    pub fn counts(&self) -> Vec<usize> {
        self.classes.iter().map(|c| c.inputs.len()).collect()
    }

    /// Build a data set from classes made in memory (e.g. by [`crate::gen`] or tests),
    /// validating it as the readers do: at least one class, every class non-empty, every
    /// target and input of length `Q` = number of classes.
    ///
    /// Since there is no file, [`Dataset::sha256_bytes`](Dataset) is the SHA-256 of
    /// [`Dataset::to_json_pretty`] (the bytes one would write to a file).
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::data::{Class, Dataset};
    /// let r = |s: &str| Rat::parse(s).unwrap();
    /// let class = |name: &str, t: [&str; 2], x: [&str; 2]| Class {
    ///     name: Some(name.into()),
    ///     target: t.iter().map(|s| r(s)).collect(),
    ///     target_given: true,
    ///     inputs: vec![x.iter().map(|s| r(s)).collect()],
    /// };
    /// let d = Dataset::from_classes(vec![
    ///     class("a", ["1", "0"], ["0", "0"]),
    ///     class("b", ["0", "1"], ["1", "1/2"]),
    /// ]).unwrap();
    /// assert_eq!(d.q, 2);
    /// assert!(Dataset::from_classes(vec![]).is_err());
    /// ```
    pub fn from_classes(classes: Vec<Class>) -> Result<Dataset, DataError> {
        validate_shapes(&classes)?;
        let mut d = assemble(classes, String::new());
        d.sha256_bytes = sha256_hex(d.to_json_pretty().as_bytes());
        Ok(d)
    }

    /// Read a `dlgeom-data/1` JSON document (PRODUCT.md, "Input data format").
    ///
    /// Numbers may be JSON strings (`"-7"`, `"3/4"`, `"0.125"`, `"-1.5e-3"`) or JSON
    /// numbers, which are read from their literal text (`0.1` is exactly `1/10`). A UTF-8
    /// byte-order mark at the start is ignored. `target` defaults to the one-hot `e_j`,
    /// `name` is optional, `format` is optional but must be `"dlgeom-data/1"` if present.
    /// Rejected with a [`DataError`] naming the place: invalid UTF-8, malformed JSON,
    /// trailing garbage, duplicate keys at any level, unknown keys, a wrong `format`, no
    /// classes, an empty class, wrong lengths, bad or unbounded numbers, nesting deeper than
    /// `limits.max_depth`, more than `limits.max_classes` classes or `limits.max_points`
    /// points, a file larger than `limits.max_file_bytes`, a name that is not a string.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// let text = r#"{"format": "dlgeom-data/1", "classes": [
    ///     {"name": "a", "target": ["1", "0"], "inputs": [["-3", "1/2"], ["-2.75", 0.5]]},
    ///     {"name": "b", "inputs": [["4", "1e-1"], [5, "-1/3"]]}]}"#;
    /// let d = Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default()).unwrap();
    /// assert_eq!(d.q, 2);
    /// assert_eq!(d.counts(), vec![2, 2]);
    /// assert_eq!(d.classes[1].target, vec![Rat::zero(), Rat::one()]); // one-hot default
    /// assert_eq!(d.classes[0].inputs[1][1].canonical(), "1/2");
    ///
    /// let bad = br#"{"classes": [{"name": "a", "inputs": [["1/0"]]}]}"#;
    /// let e = Dataset::from_json_bytes(bad, &DataLimits::default()).unwrap_err();
    /// assert_eq!(e.message, r#"class 1 ("a"), point 1, coordinate 1: "1/0" has a zero denominator"#);
    /// ```
    pub fn from_json_bytes(bytes: &[u8], limits: &DataLimits) -> Result<Dataset, DataError> {
        check_size(bytes.len(), limits)?;
        let text = utf8(bytes)?;
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        if body.trim().is_empty() {
            return Err(DataError::new(
                "the file is empty: expected a dlgeom-data/1 JSON object {\"classes\": [...]}",
            ));
        }
        let ctx = Ctx::new(limits);
        let mut de = serde_json::Deserializer::from_str(body);
        let parsed = TopV { ctx: &ctx }
            .deserialize(&mut de)
            .and_then(|c| de.end().map(|()| c));
        let raw = parsed.map_err(|e| ctx.error_from(&e))?;
        let q = raw.len();
        let mut classes = Vec::with_capacity(q);
        for (j, rc) in raw.into_iter().enumerate() {
            let target_given = rc.target.is_some();
            let target = match rc.target {
                Some(t) => {
                    if t.len() != q {
                        return Err(DataError::new(format!(
                            "{}, target: expected {q} entries (Q = {q} classes), found {}",
                            rc.label,
                            t.len()
                        )));
                    }
                    t
                }
                None => one_hot(q, j),
            };
            for (i, x) in rc.inputs.iter().enumerate() {
                if x.len() != q {
                    return Err(DataError::new(format!(
                        "{}, point {}: expected {q} coordinates (Q = {q} classes), found {}",
                        rc.label,
                        i + 1,
                        x.len()
                    )));
                }
            }
            classes.push(Class {
                name: rc.name,
                target,
                target_given,
                inputs: rc.inputs,
            });
        }
        Ok(assemble(classes, sha256_hex(bytes)))
    }

    /// Read CSV rows `class,x_1,…,x_Q` (PRODUCT.md: "Also accepted").
    ///
    /// - The first field is the class label (any text without a comma; surrounding spaces
    ///   and one pair of surrounding double quotes are removed); classes are numbered in
    ///   order of first appearance and named by their labels.
    /// - `Q` = number of distinct labels must equal the number of columns − 1.
    /// - Coordinates are exact numbers as in JSON strings (`-7`, `3/4`, `0.125`, `1e-3`).
    /// - Targets are one-hot.
    /// - Blank lines and lines starting with `#` are skipped. The first remaining row is a
    ///   header (and skipped) exactly when every coordinate field is a name
    ///   ([`is_header_name`]: it starts with a letter or `_` and is not a spelling of NaN or
    ///   infinity) and its first field is not a class label of a later row; any other row
    ///   is data, and a coordinate that does not parse is an error naming its line and
    ///   column. A row is never dropped because its numbers failed to parse.
    ///
    /// ```
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// let csv = "# two classes\nlabel,x1,x2\na,0,0\nb,10,1/2\na,0.5,-1\n";
    /// let d = Dataset::from_csv_bytes(csv.as_bytes(), &DataLimits::default()).unwrap();
    /// assert_eq!(d.counts(), vec![2, 1]);
    /// assert_eq!(d.classes[1].name.as_deref(), Some("b"));
    ///
    /// let e = Dataset::from_csv_bytes(b"a,1,2\nb,1,2,3\n", &DataLimits::default()).unwrap_err();
    /// assert_eq!(e.message, "line 2: CSV row has 4 columns, expected 3");
    /// ```
    pub fn from_csv_bytes(bytes: &[u8], limits: &DataLimits) -> Result<Dataset, DataError> {
        check_size(bytes.len(), limits)?;
        let text = utf8(bytes)?;
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut labels: Vec<String> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut inputs: Vec<Vec<Vec<Rat>>> = Vec::new();
        let mut ncols: Option<usize> = None;
        let mut points = 0usize;
        let mut header: Option<(usize, String)> = None;
        for (k, raw_line) in body.split('\n').enumerate() {
            let ln = k + 1;
            let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(unquote).collect();
            let cols = fields.len();
            match ncols {
                None => {
                    if cols < 2 {
                        return Err(DataError::new(format!(
                            "line {ln}: CSV row has 1 column; expected class,x_1,…,x_Q (at least 2 columns)"
                        )));
                    }
                    if cols - 1 > limits.max_classes {
                        return Err(DataError::new(format!(
                            "line {ln}: CSV row has {} coordinates, but Q (the number of classes) is limited to {}",
                            cols - 1,
                            limits.max_classes
                        )));
                    }
                    ncols = Some(cols);
                    if fields[1..].iter().all(|f| is_header_name(f)) {
                        header = Some((ln, fields[0].to_owned()));
                        continue;
                    }
                }
                Some(c) if c != cols => {
                    return Err(DataError::new(format!(
                        "line {ln}: CSV row has {cols} column{}, expected {c}",
                        if cols == 1 { "" } else { "s" }
                    )));
                }
                Some(_) => {}
            }
            let q = cols - 1;
            let label = fields[0];
            if label.is_empty() {
                return Err(DataError::new(format!(
                    "line {ln}: the class label (first column) is empty"
                )));
            }
            let mut x = Vec::with_capacity(q);
            for (m, f) in fields[1..].iter().enumerate() {
                match Rat::parse_with(f, &limits.number) {
                    Ok(v) => x.push(v),
                    Err(e) => {
                        return Err(DataError::new(format!(
                            "line {ln}, column {} (class {}, coordinate {}): {}",
                            m + 2,
                            quote(label),
                            m + 1,
                            shorten(&e.0)
                        )))
                    }
                }
            }
            let j = match index.get(label) {
                Some(&j) => j,
                None => {
                    if labels.len() == q {
                        return Err(DataError::new(format!(
                            "line {ln}: class label {} is distinct label number {}, but the rows have only {q} coordinate{}; Q (the number of coordinates) must equal the number of classes",
                            quote(label),
                            q + 1,
                            if q == 1 { "" } else { "s" }
                        )));
                    }
                    index.insert(label.to_owned(), labels.len());
                    labels.push(label.to_owned());
                    inputs.push(Vec::new());
                    labels.len() - 1
                }
            };
            points += 1;
            if points > limits.max_points {
                return Err(DataError::new(format!(
                    "line {ln}: too many points, more than the limit of {}",
                    limits.max_points
                )));
            }
            inputs[j].push(x);
        }
        let Some(c) = ncols else {
            return Err(DataError::new(
                "the CSV file has no rows: expected rows class,x_1,…,x_Q",
            ));
        };
        if labels.is_empty() {
            return Err(DataError::new(
                "the CSV file has a header but no data rows: expected rows class,x_1,…,x_Q",
            ));
        }
        if let Some((hl, first)) = &header {
            if index.contains_key(first.as_str()) {
                return Err(DataError::new(format!(
                    "line {hl}: this row is read as a header (no coordinate field looks like a number), but its first field {} is also a class label of the data rows; a data row must have numeric coordinates, and a header must not name a class",
                    quote(first)
                )));
            }
        }
        let q = c - 1;
        if labels.len() != q {
            return Err(DataError::new(format!(
                "the CSV rows have {q} coordinates but there {} only {} distinct class label{}; Q (the number of coordinates) must equal the number of classes",
                if labels.len() == 1 { "is" } else { "are" },
                labels.len(),
                if labels.len() == 1 { "" } else { "s" }
            )));
        }
        let classes = labels
            .into_iter()
            .zip(inputs)
            .enumerate()
            .map(|(j, (name, inputs))| Class {
                name: Some(name),
                target: one_hot(q, j),
                target_given: false,
                inputs,
            })
            .collect();
        Ok(assemble(classes, sha256_hex(bytes)))
    }

    /// Read a data file: CSV when the extension is `.csv` (any case), `dlgeom-data/1` JSON
    /// otherwise. Errors start with the path; a file larger than `limits.max_file_bytes` is
    /// rejected before it is read.
    ///
    /// ```
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// use std::path::Path;
    /// let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iris3.json");
    /// let d = Dataset::load(&path, &DataLimits::default()).unwrap();
    /// assert_eq!(d.counts(), vec![50, 50, 50]);
    ///
    /// let e = Dataset::load(Path::new("no/such/file.json"), &DataLimits::default()).unwrap_err();
    /// assert!(e.message.starts_with("cannot read no/such/file.json"));
    /// ```
    pub fn load(path: &Path, limits: &DataLimits) -> Result<Dataset, DataError> {
        let shown = path.display();
        let meta = std::fs::metadata(path)
            .map_err(|e| DataError::new(format!("cannot read {shown}: {e}")))?;
        if meta.is_dir() {
            return Err(DataError::new(format!(
                "cannot read {shown}: it is a directory, not a data file"
            )));
        }
        if meta.len() > limits.max_file_bytes {
            return Err(DataError::new(format!(
                "{shown}: the file has {} bytes, more than the limit of {}",
                meta.len(),
                limits.max_file_bytes
            )));
        }
        let bytes =
            std::fs::read(path).map_err(|e| DataError::new(format!("cannot read {shown}: {e}")))?;
        let is_csv = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let result = if is_csv {
            Dataset::from_csv_bytes(&bytes, limits)
        } else {
            Dataset::from_json_bytes(&bytes, limits)
        };
        result.map_err(|e| DataError::new(format!("{shown}: {}", e.message)))
    }

    /// The canonical form of the exact data: compact JSON
    /// `{"format":"dlgeom-data/1","classes":[{"target":[…],"inputs":[[…],…]},…]}` with every
    /// number as its canonical string `"p/q"` ([`Rat::canonical`]), targets always explicit,
    /// names omitted (they are not mathematics). Its SHA-256 is
    /// [`Dataset::sha256_canonical`](Dataset).
    ///
    /// ```
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// let a = br#"{"classes": [{"name": "a", "inputs": [[0.50]]}]}"#;
    /// let b = br#"{"format":"dlgeom-data/1","classes":[{"inputs":[["1/2"]],"target":[1]}]}"#;
    /// let da = Dataset::from_json_bytes(a, &DataLimits::default()).unwrap();
    /// let db = Dataset::from_json_bytes(b, &DataLimits::default()).unwrap();
    /// assert_eq!(da.canonical_json(),
    ///            r#"{"format":"dlgeom-data/1","classes":[{"target":["1"],"inputs":[["1/2"]]}]}"#);
    /// assert_eq!(da.sha256_canonical, db.sha256_canonical);
    /// assert_ne!(da.sha256_bytes, db.sha256_bytes);
    /// ```
    pub fn canonical_json(&self) -> String {
        let mut s = String::with_capacity(64 + self.n() * self.q * 8);
        s.push_str("{\"format\":\"");
        s.push_str(FORMAT_TAG);
        s.push_str("\",\"classes\":[");
        for (j, c) in self.classes.iter().enumerate() {
            if j > 0 {
                s.push(',');
            }
            s.push_str("{\"target\":");
            push_vec(&mut s, &c.target, ",");
            s.push_str(",\"inputs\":[");
            for (i, x) in c.inputs.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                push_vec(&mut s, x, ",");
            }
            s.push_str("]}");
        }
        s.push_str("]}");
        s
    }

    /// A readable `dlgeom-data/1` file: names (when present) and targets (always) explicit,
    /// numbers as canonical strings, one point per line, a final newline. Reading it back
    /// with [`Dataset::from_json_bytes`] gives the same names, targets and inputs.
    ///
    /// ```
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// let d = Dataset::from_csv_bytes(b"a,0.5,1\nb,2,3/6\n", &DataLimits::default()).unwrap();
    /// let text = d.to_json_pretty();
    /// assert!(text.contains(r#"["1/2", "1"]"#));
    /// let back = Dataset::from_json_bytes(text.as_bytes(), &DataLimits::default()).unwrap();
    /// assert_eq!(back.sha256_canonical, d.sha256_canonical);
    /// ```
    pub fn to_json_pretty(&self) -> String {
        let mut s = String::with_capacity(64 + self.n() * self.q * 10);
        s.push_str("{\n  \"format\": \"");
        s.push_str(FORMAT_TAG);
        s.push_str("\",\n  \"classes\": [\n");
        for (j, c) in self.classes.iter().enumerate() {
            s.push_str("    {\n");
            if let Some(name) = &c.name {
                s.push_str("      \"name\": ");
                s.push_str(&json_string(name));
                s.push_str(",\n");
            }
            s.push_str("      \"target\": ");
            push_vec(&mut s, &c.target, ", ");
            s.push_str(",\n      \"inputs\": [\n");
            for (i, x) in c.inputs.iter().enumerate() {
                s.push_str("        ");
                push_vec(&mut s, x, ", ");
                s.push_str(if i + 1 < c.inputs.len() { ",\n" } else { "\n" });
            }
            s.push_str("      ]\n    }");
            s.push_str(if j + 1 < self.classes.len() {
                ",\n"
            } else {
                "\n"
            });
        }
        s.push_str("  ]\n}\n");
        s
    }

    /// Per-class sufficient statistics `N_j`, `Σ_i x_{j,i}`, `Σ_i x_{j,i} x_{j,i}ᵀ`
    /// (MATH.md §6, §8), exact.
    ///
    /// Each class is scaled to integers by the least common multiple `D` of its coordinate
    /// denominators; sums of integers are then divided by `D` and `D²` once. When `D` would
    /// exceed 2048 bits, plain rational sums are used instead. Both give the same exact
    /// values.
    ///
    /// ```
    /// use dlgeom_cert::arith::Rat;
    /// use dlgeom_cert::data::{DataLimits, Dataset};
    /// let d = Dataset::from_csv_bytes(b"a,1,1/2\na,3,0\nb,0,1\n", &DataLimits::default()).unwrap();
    /// let s = d.class_stats();
    /// assert_eq!(s[0].count, 2);
    /// assert_eq!(s[0].sum, vec![Rat::from_i64(4), Rat::parse("1/2").unwrap()]);
    /// assert_eq!(s[0].outer[(0, 0)], Rat::from_i64(10));
    /// assert_eq!(s[0].outer[(0, 1)], Rat::parse("1/2").unwrap());
    /// ```
    pub fn class_stats(&self) -> Vec<ClassStats> {
        self.classes
            .iter()
            .map(|c| class_stats_one(&c.inputs, self.q))
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

fn one_hot(q: usize, j: usize) -> Vec<Rat> {
    (0..q)
        .map(|m| if m == j { Rat::one() } else { Rat::zero() })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn assemble(classes: Vec<Class>, sha256_bytes: String) -> Dataset {
    let mut d = Dataset {
        q: classes.len(),
        classes,
        sha256_bytes,
        sha256_canonical: String::new(),
    };
    d.sha256_canonical = sha256_hex(d.canonical_json().as_bytes());
    d
}

fn validate_shapes(classes: &[Class]) -> Result<(), DataError> {
    let q = classes.len();
    if q == 0 {
        return Err(DataError::new(
            "no classes: a data set needs at least one class",
        ));
    }
    for (j, c) in classes.iter().enumerate() {
        let label = class_label(j + 1, c.name.as_deref());
        if c.target.len() != q {
            return Err(DataError::new(format!(
                "{label}, target: expected {q} entries (Q = {q} classes), found {}",
                c.target.len()
            )));
        }
        if c.inputs.is_empty() {
            return Err(DataError::new(format!(
                "{label}: no inputs (every class needs at least one point)"
            )));
        }
        for (i, x) in c.inputs.iter().enumerate() {
            if x.len() != q {
                return Err(DataError::new(format!(
                    "{label}, point {}: expected {q} coordinates (Q = {q} classes), found {}",
                    i + 1,
                    x.len()
                )));
            }
        }
    }
    Ok(())
}

fn push_vec(s: &mut String, v: &[Rat], sep: &str) {
    s.push('[');
    for (m, x) in v.iter().enumerate() {
        if m > 0 {
            s.push_str(sep);
        }
        s.push('"');
        s.push_str(&x.canonical());
        s.push('"');
    }
    s.push(']');
}

/// JSON string literal of `s` (quotes and escapes).
fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| String::from("\"?\""))
}

/// Cut long text in the middle (on character boundaries) for use in messages (shared by
/// the readers of `data` and `netio`).
pub(crate) fn shorten(s: &str) -> String {
    const HEAD: usize = 120;
    const TAIL: usize = 40;
    let n = s.chars().count();
    if n <= HEAD + TAIL + 20 {
        return s.to_owned();
    }
    let head: String = s.chars().take(HEAD).collect();
    let tail: String = s.chars().skip(n - TAIL).collect();
    format!("{head}…({} characters omitted)…{tail}", n - HEAD - TAIL)
}

/// A user string quoted for a message: JSON escaping, shortened when long.
pub(crate) fn quote(s: &str) -> String {
    shorten(&json_string(s))
}

fn class_label(j: usize, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("class {j} ({})", quote(n)),
        None => format!("class {j}"),
    }
}

fn check_size(len: usize, limits: &DataLimits) -> Result<(), DataError> {
    if len as u64 > limits.max_file_bytes {
        return Err(DataError::new(format!(
            "the input has {len} bytes, more than the limit of {}",
            limits.max_file_bytes
        )));
    }
    Ok(())
}

fn utf8(bytes: &[u8]) -> Result<&str, DataError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = good
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = std::str::from_utf8(&good[line_start..])
            .map_or(0, |s| s.chars().count())
            + 1;
        DataError::new(format!(
            "line {line}, column {column}: the file is not valid UTF-8 (invalid byte 0x{:02x} at byte offset {}); data files must be UTF-8 text",
            bytes[e.valid_up_to()],
            e.valid_up_to()
        ))
    })
}

/// `true` iff a CSV field can only be a column name, never a number or a misspelt one:
/// non-empty, its first character a letter or `_`, and not `nan`, `inf` or `infinity` in
/// any case (with or without a sign, which already makes it number-like). This is the
/// explicit header rule of [`Dataset::from_csv_bytes`]: whether a field *parses* under the
/// current limits plays no part, so raising `--max-exponent` cannot change which rows are
/// data.
///
/// ```
/// use dlgeom_cert::data::is_header_name;
/// assert!(is_header_name("x1") && is_header_name("sepal length") && is_header_name("_a"));
/// assert!(!is_header_name("1e10001") && !is_header_name("NaN") && !is_header_name("Inf"));
/// assert!(!is_header_name("-x") && !is_header_name(".5") && !is_header_name(""));
/// ```
pub fn is_header_name(field: &str) -> bool {
    let lower = field.to_lowercase();
    let starts_like_name = field
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_');
    starts_like_name && !matches!(lower.as_str(), "nan" | "inf" | "infinity")
}

fn unquote(f: &str) -> &str {
    let t = f.trim();
    if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
        t[1..t.len() - 1].trim()
    } else {
        t
    }
}

fn class_stats_one(inputs: &[Vec<Rat>], q: usize) -> ClassStats {
    let count = inputs.len();
    let mut d = Int::one();
    let mut small = true;
    'outer: for x in inputs {
        for v in x {
            if !v.is_integer() {
                d = d.lcm(&v.denom());
                if d.bit_size() > COMMON_DENOMINATOR_MAX_BITS {
                    small = false;
                    break 'outer;
                }
            }
        }
    }
    let mut outer = Matrix::zeros(q, q);
    if small {
        let mut sum = vec![Int::zero(); q];
        let mut acc = vec![Int::zero(); q * q];
        let mut n = vec![Int::zero(); q];
        for x in inputs {
            for (m, v) in x.iter().enumerate() {
                n[m] = &v.numer() * &d.div_exact(&v.denom());
                sum[m] += &n[m];
            }
            for a in 0..q {
                for b in a..q {
                    acc[a * q + b] += &n[a] * &n[b];
                }
            }
        }
        let d2 = &d * &d;
        for a in 0..q {
            for b in a..q {
                let v = Rat::from_ints(&acc[a * q + b], &d2).unwrap_or_default();
                outer[(b, a)] = v.clone();
                outer[(a, b)] = v;
            }
        }
        let sum = sum
            .iter()
            .map(|s| Rat::from_ints(s, &d).unwrap_or_default())
            .collect();
        ClassStats { count, sum, outer }
    } else {
        let mut sum = vec![Rat::zero(); q];
        for x in inputs {
            for (m, v) in x.iter().enumerate() {
                sum[m] += v;
            }
            for a in 0..q {
                for b in a..q {
                    outer[(a, b)] += &x[a] * &x[b];
                }
            }
        }
        for a in 0..q {
            for b in 0..a {
                outer[(a, b)] = outer[(b, a)].clone();
            }
        }
        ClassStats { count, sum, outer }
    }
}

// ---------------------------------------------------------------------------------------
// Streaming JSON reader
// ---------------------------------------------------------------------------------------

/// The key serde_json (feature `arbitrary_precision`) uses to pass a number's literal text
/// to a visitor as a one-entry map.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Shared state of one JSON read.
struct Ctx {
    limits: DataLimits,
    /// A complete message (with class/point/coordinate context) that replaces serde_json's
    /// error text, which would otherwise carry a line/column of the class end.
    semantic: RefCell<Option<String>>,
    points: Cell<usize>,
}

impl Ctx {
    fn new(limits: &DataLimits) -> Ctx {
        Ctx {
            limits: limits.clone(),
            semantic: RefCell::new(None),
            points: Cell::new(0),
        }
    }

    /// An error whose message is final (no line/column added).
    fn fail<E: de::Error>(&self, msg: String) -> E {
        let e = E::custom(&msg);
        *self.semantic.borrow_mut() = Some(msg);
        e
    }

    /// Checks the nesting depth on entering a container at `depth` (1 = the document).
    fn enter<E: de::Error>(&self, depth: usize) -> Result<(), E> {
        if depth > self.limits.max_depth {
            Err(E::custom(format!(
                "JSON nesting is deeper than the limit of {} levels",
                self.limits.max_depth
            )))
        } else {
            Ok(())
        }
    }

    fn error_from(&self, e: &serde_json::Error) -> DataError {
        if let Some(m) = self.semantic.borrow_mut().take() {
            return DataError::new(m);
        }
        let s = e.to_string();
        if e.line() == 0 {
            return DataError::new(s);
        }
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let msg = s.strip_suffix(&suffix).unwrap_or(&s);
        let hint = if e.is_eof() {
            " (the document ends too early: is the file truncated?)"
        } else if msg.starts_with("trailing characters") {
            " (there is more text after the end of the JSON document)"
        } else if msg.starts_with("recursion limit exceeded") {
            " (JSON nested too deeply)"
        } else {
            ""
        };
        DataError::new(format!(
            "line {}, column {}: {msg}{hint}",
            e.line(),
            e.column()
        ))
    }

    fn number(&self, a: Any) -> Result<Rat, String> {
        match a {
            Any::Num(t) | Any::Str(t) => {
                Rat::parse_with(&t, &self.limits.number).map_err(|e| shorten(&e.0))
            }
            other => Err(format!(
                "expected a number (a JSON number or a string like \"3/4\"), found {}",
                other.kind()
            )),
        }
    }
}

/// What a generic value was, without its nested contents.
enum Any {
    Num(String),
    Str(String),
    Bool,
    Null,
    Array,
    Object,
}

impl Any {
    fn kind(&self) -> String {
        match self {
            Any::Num(t) => format!("the JSON number {}", shorten(t)),
            Any::Str(s) => format!("the string {}", quote(s)),
            Any::Bool => "a boolean".into(),
            Any::Null => "null".into(),
            Any::Array => "an array".into(),
            Any::Object => "an object".into(),
        }
    }
}

/// (place relative to the enclosing item, message)
type Issue = (String, String);

fn set_issue(slot: &mut Option<Issue>, issue: Issue) {
    if slot.is_none() {
        *slot = Some(issue);
    }
}

/// Implements the scalar `visit_*` methods through `self.scalar(Any)`.
macro_rules! scalar_visits {
    () => {
        fn visit_bool<E: de::Error>(self, _v: bool) -> Result<Self::Value, E> {
            self.scalar(Any::Bool)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            self.scalar(Any::Num(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            self.scalar(Any::Num(v.to_string()))
        }
        fn visit_i128<E: de::Error>(self, v: i128) -> Result<Self::Value, E> {
            self.scalar(Any::Num(v.to_string()))
        }
        fn visit_u128<E: de::Error>(self, v: u128) -> Result<Self::Value, E> {
            self.scalar(Any::Num(v.to_string()))
        }
        fn visit_f64<E: de::Error>(self, _v: f64) -> Result<Self::Value, E> {
            Err(E::custom(
                "internal error: a JSON number reached the reader as a float \
                 (serde_json must be built with the arbitrary_precision feature)",
            ))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            self.scalar(Any::Str(v.to_owned()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            self.scalar(Any::Null)
        }
    };
}

/// Implements `DeserializeSeed` for a visitor by `deserialize_any(self)`.
macro_rules! seed_is_visitor {
    ($t:ident) => {
        impl<'de, 'c> DeserializeSeed<'de> for $t<'c> {
            type Value = <Self as Visitor<'de>>::Value;
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// Reads the first key of a map. A first key equal to `NUMBER_TOKEN` means the "map" is
/// serde_json's wrapper of a JSON number (its value is the literal text), not an object.
fn first_key<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<String>, A::Error> {
    map.next_key::<String>()
}

fn duplicate<E: de::Error>(key: &str, place: &str) -> E {
    E::custom(format!("duplicate key {} {place}", quote(key)))
}

/// Consumes any JSON value, checking depth and duplicate keys, remembering only its kind.
struct AnyV<'c> {
    ctx: &'c Ctx,
    depth: usize,
}
seed_is_visitor!(AnyV);

impl AnyV<'_> {
    fn scalar<E: de::Error>(self, a: Any) -> Result<Any, E> {
        Ok(a)
    }
}

impl<'de> Visitor<'de> for AnyV<'_> {
    type Value = Any;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Any, A::Error> {
        self.ctx.enter(self.depth)?;
        while seq
            .next_element_seed(AnyV {
                ctx: self.ctx,
                depth: self.depth + 1,
            })?
            .is_some()
        {}
        Ok(Any::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Any, A::Error> {
        let Some(key) = first_key(&mut map)? else {
            self.ctx.enter(self.depth)?;
            return Ok(Any::Object);
        };
        if key == NUMBER_TOKEN {
            let text: String = map.next_value()?;
            if map.next_key::<String>()?.is_none() {
                return Ok(Any::Num(text));
            }
            // A real object that happens to use serde_json's private key: consume it.
            map.next_value_seed(AnyV {
                ctx: self.ctx,
                depth: self.depth + 1,
            })?;
            while map.next_key::<String>()?.is_some() {
                map.next_value_seed(AnyV {
                    ctx: self.ctx,
                    depth: self.depth + 1,
                })?;
            }
            return Ok(Any::Object);
        }
        self.ctx.enter(self.depth)?;
        let mut seen: HashSet<String> = HashSet::new();
        let mut next = Some(key);
        while let Some(k) = next {
            if seen.contains(&k) {
                return Err(duplicate(&k, "in an object"));
            }
            map.next_value_seed(AnyV {
                ctx: self.ctx,
                depth: self.depth + 1,
            })?;
            seen.insert(k);
            next = map.next_key::<String>()?;
        }
        Ok(Any::Object)
    }
}

/// A vector of numbers: a target (`entry m`) or a point (`coordinate m`).
struct VecV<'c> {
    ctx: &'c Ctx,
    depth: usize,
    /// "entry" or "coordinate".
    item: &'static str,
}
seed_is_visitor!(VecV);

impl VecV<'_> {
    fn not_array(&self, a: Any) -> Issue {
        (
            String::new(),
            format!("expected an array of numbers, found {}", a.kind()),
        )
    }
    fn scalar<E: de::Error>(self, a: Any) -> Result<Result<Vec<Rat>, Issue>, E> {
        Ok(Err(self.not_array(a)))
    }
}

impl<'de> Visitor<'de> for VecV<'_> {
    type Value = Result<Vec<Rat>, Issue>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        self.ctx.enter(self.depth)?;
        let max = self.ctx.limits.max_classes;
        let mut out = Vec::new();
        let mut issue: Option<Issue> = None;
        let mut len = 0usize;
        while let Some(a) = seq.next_element_seed(AnyV {
            ctx: self.ctx,
            depth: self.depth + 1,
        })? {
            len += 1;
            if issue.is_some() {
                continue;
            }
            if len > max {
                issue = Some((
                    String::new(),
                    format!(
                        "more than {max} {}s, but Q (the number of classes) is limited to {max}",
                        self.item
                    ),
                ));
                out = Vec::new();
                continue;
            }
            match self.ctx.number(a) {
                Ok(v) => out.push(v),
                Err(m) => {
                    issue = Some((format!(", {} {len}", self.item), m));
                    out = Vec::new();
                }
            }
        }
        Ok(match issue {
            Some(i) => Err(i),
            None => Ok(out),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let a = AnyV {
            ctx: self.ctx,
            depth: self.depth,
        }
        .visit_map(map)?;
        Ok(Err(self.not_array(a)))
    }
}

/// The `inputs` array of one class.
struct InputsV<'c> {
    ctx: &'c Ctx,
    depth: usize,
}
seed_is_visitor!(InputsV);

type InputsOut = Result<Vec<Vec<Rat>>, Issue>;

impl InputsV<'_> {
    fn scalar<E: de::Error>(self, a: Any) -> Result<InputsOut, E> {
        Ok(Err((
            String::new(),
            format!(
                "\"inputs\" must be an array of points (arrays of numbers), found {}",
                a.kind()
            ),
        )))
    }
}

impl<'de> Visitor<'de> for InputsV<'_> {
    type Value = InputsOut;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of points")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<InputsOut, A::Error> {
        self.ctx.enter(self.depth)?;
        let mut out = Vec::new();
        let mut issue: Option<Issue> = None;
        let mut i = 0usize;
        while let Some(p) = seq.next_element_seed(VecV {
            ctx: self.ctx,
            depth: self.depth + 1,
            item: "coordinate",
        })? {
            i += 1;
            let total = self.ctx.points.get() + 1;
            self.ctx.points.set(total);
            if total > self.ctx.limits.max_points {
                return Err(de::Error::custom(format!(
                    "too many points, more than the limit of {}",
                    self.ctx.limits.max_points
                )));
            }
            match p {
                Ok(x) if issue.is_none() => out.push(x),
                Ok(_) => {}
                Err((place, msg)) => {
                    if issue.is_none() {
                        out = Vec::new();
                    }
                    set_issue(&mut issue, (format!(", point {i}{place}"), msg));
                }
            }
        }
        Ok(match issue {
            Some(i) => Err(i),
            None => Ok(out),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<InputsOut, A::Error> {
        let a = AnyV {
            ctx: self.ctx,
            depth: self.depth,
        }
        .visit_map(map)?;
        self.scalar(a)
    }
}

/// One class object, before the lengths are checked against `Q`.
struct RawClass {
    label: String,
    name: Option<String>,
    target: Option<Vec<Rat>>,
    inputs: Vec<Vec<Rat>>,
}

struct ClassV<'c> {
    ctx: &'c Ctx,
    depth: usize,
    /// 1-based.
    index: usize,
}
seed_is_visitor!(ClassV);

impl ClassV<'_> {
    fn wrong_type<E: de::Error>(&self, kind: &str) -> E {
        E::custom(format!(
            "class {} must be a JSON object {{\"name\": …, \"target\": […], \"inputs\": [[…], …]}}, found {kind}",
            self.index
        ))
    }
    fn scalar<E: de::Error>(self, a: Any) -> Result<RawClass, E> {
        Err(self.wrong_type(&a.kind()))
    }
}

impl<'de> Visitor<'de> for ClassV<'_> {
    type Value = RawClass;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a class object")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<RawClass, A::Error> {
        Err(self.wrong_type("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClass, A::Error> {
        let ctx = self.ctx;
        let j = self.index;
        let first = first_key(&mut map)?;
        if first.as_deref() == Some(NUMBER_TOKEN) {
            return Err(self.wrong_type("a number"));
        }
        ctx.enter(self.depth)?;
        let mut issue: Option<Issue> = None;
        let mut name: Option<String> = None;
        let mut target: Option<Vec<Rat>> = None;
        let mut inputs: Option<Vec<Vec<Rat>>> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let place = format!("in class {j}");
        let mut next = first;
        while let Some(key) = next {
            if seen.contains(&key) {
                return Err(duplicate(&key, &place));
            }
            let sub = self.depth + 1;
            match key.as_str() {
                "name" => match map.next_value_seed(AnyV { ctx, depth: sub })? {
                    Any::Str(s) => name = Some(s),
                    other => set_issue(
                        &mut issue,
                        (
                            String::new(),
                            format!("\"name\" must be a string, found {}", other.kind()),
                        ),
                    ),
                },
                "target" => match map.next_value_seed(VecV {
                    ctx,
                    depth: sub,
                    item: "entry",
                })? {
                    Ok(t) => target = Some(t),
                    Err((p, m)) => set_issue(&mut issue, (format!(", target{p}"), m)),
                },
                "inputs" => match map.next_value_seed(InputsV { ctx, depth: sub })? {
                    Ok(x) => inputs = Some(x),
                    Err(i) => set_issue(&mut issue, i),
                },
                other => {
                    map.next_value_seed(AnyV { ctx, depth: sub })?;
                    set_issue(
                        &mut issue,
                        (
                            String::new(),
                            format!(
                                "unknown key {} (allowed keys: \"name\", \"target\", \"inputs\")",
                                quote(other)
                            ),
                        ),
                    );
                }
            }
            seen.insert(key);
            next = map.next_key::<String>()?;
        }
        if issue.is_none() {
            match &inputs {
                None if !seen.contains("inputs") => {
                    issue = Some((
                        String::new(),
                        "missing key \"inputs\" (the list of points of the class)".into(),
                    ))
                }
                Some(x) if x.is_empty() => {
                    issue = Some((
                        String::new(),
                        "\"inputs\" is empty: every class needs at least one point".into(),
                    ))
                }
                _ => {}
            }
        }
        let label = class_label(j, name.as_deref());
        if let Some((p, m)) = issue {
            return Err(ctx.fail(format!("{label}{p}: {m}")));
        }
        Ok(RawClass {
            label,
            name,
            target,
            inputs: inputs.unwrap_or_default(),
        })
    }
}

/// The `classes` array.
struct ClassesV<'c> {
    ctx: &'c Ctx,
    depth: usize,
}
seed_is_visitor!(ClassesV);

impl ClassesV<'_> {
    fn wrong_type<E: de::Error>(kind: &str) -> E {
        E::custom(format!(
            "\"classes\" must be an array of class objects, found {kind}"
        ))
    }
    fn scalar<E: de::Error>(self, a: Any) -> Result<Vec<RawClass>, E> {
        Err(Self::wrong_type(&a.kind()))
    }
}

impl<'de> Visitor<'de> for ClassesV<'_> {
    type Value = Vec<RawClass>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of classes")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<RawClass>, A::Error> {
        self.ctx.enter(self.depth)?;
        let max = self.ctx.limits.max_classes;
        let mut out = Vec::new();
        loop {
            if out.len() == max {
                if seq
                    .next_element_seed(AnyV {
                        ctx: self.ctx,
                        depth: self.depth + 1,
                    })?
                    .is_some()
                {
                    return Err(de::Error::custom(format!(
                        "too many classes, more than the limit of {max}"
                    )));
                }
                break;
            }
            match seq.next_element_seed(ClassV {
                ctx: self.ctx,
                depth: self.depth + 1,
                index: out.len() + 1,
            })? {
                Some(c) => out.push(c),
                None => break,
            }
        }
        Ok(out)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<RawClass>, A::Error> {
        let first = first_key(&mut map)?;
        let kind = if first.as_deref() == Some(NUMBER_TOKEN) {
            "a number"
        } else {
            "an object"
        };
        Err(Self::wrong_type(kind))
    }
}

/// The document.
struct TopV<'c> {
    ctx: &'c Ctx,
}
seed_is_visitor!(TopV);

impl TopV<'_> {
    fn wrong_type<E: de::Error>(kind: &str) -> E {
        E::custom(format!(
            "the document must be a JSON object {{\"format\": \"dlgeom-data/1\", \"classes\": [...]}}, found {kind}"
        ))
    }
    fn scalar<E: de::Error>(self, a: Any) -> Result<Vec<RawClass>, E> {
        Err(Self::wrong_type(&a.kind()))
    }
}

impl<'de> Visitor<'de> for TopV<'_> {
    type Value = Vec<RawClass>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a dlgeom-data/1 object")
    }
    scalar_visits!();
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<Vec<RawClass>, A::Error> {
        Err(Self::wrong_type("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<RawClass>, A::Error> {
        let ctx = self.ctx;
        let first = first_key(&mut map)?;
        if first.as_deref() == Some(NUMBER_TOKEN) {
            let text: String = map.next_value()?;
            return Err(Self::wrong_type(&Any::Num(text).kind()));
        }
        ctx.enter(1)?;
        let mut classes: Option<Vec<RawClass>> = None;
        let mut seen: HashSet<String> = HashSet::new();
        let mut next = first;
        while let Some(key) = next {
            if seen.contains(&key) {
                return Err(duplicate(&key, "at the top level"));
            }
            match key.as_str() {
                "format" => match map.next_value_seed(AnyV { ctx, depth: 2 })? {
                    Any::Str(s) if s == FORMAT_TAG => {}
                    other => {
                        return Err(de::Error::custom(format!(
                            "\"format\" must be \"{FORMAT_TAG}\" (the only format this reader understands), found {}",
                            other.kind()
                        )))
                    }
                },
                "classes" => classes = Some(map.next_value_seed(ClassesV { ctx, depth: 2 })?),
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown top-level key {} (allowed keys: \"format\", \"classes\")",
                        quote(other)
                    )))
                }
            }
            seen.insert(key);
            next = map.next_key::<String>()?;
        }
        match classes {
            None => Err(ctx.fail(
                "missing key \"classes\": a dlgeom-data/1 document is {\"format\": \"dlgeom-data/1\", \"classes\": [...]}".into(),
            )),
            Some(c) if c.is_empty() => Err(ctx.fail(
                "no classes: \"classes\" is empty, and a data set needs at least one class".into(),
            )),
            Some(c) => Ok(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> DataLimits {
        DataLimits::default()
    }

    fn err(text: &str) -> String {
        Dataset::from_json_bytes(text.as_bytes(), &lim())
            .unwrap_err()
            .message
    }

    #[test]
    fn duplicate_key_has_position() {
        let e = err("{\"classes\": [{\"inputs\": [[1]],\n  \"inputs\": [[2]]}]}");
        assert!(e.starts_with("line 2, column "), "{e}");
        assert!(e.contains("duplicate key \"inputs\" in class 1"), "{e}");
    }

    #[test]
    fn name_known_after_inputs() {
        let e = err(r#"{"classes": [{"inputs": [["x"]], "name": "late"}]}"#);
        assert!(
            e.starts_with("class 1 (\"late\"), point 1, coordinate 1:"),
            "{e}"
        );
    }

    #[test]
    fn lengths_checked_against_q() {
        let e = err(r#"{"classes": [{"inputs": [[1e-1]]}, {"inputs": [[0, 1]]}]}"#);
        assert_eq!(
            e,
            "class 1, point 1: expected 2 coordinates (Q = 2 classes), found 1"
        );
    }

    #[test]
    fn nested_ignored_object_checks_duplicates() {
        let e = err(r#"{"classes": [{"inputs": [[1]], "x": {"a": 1, "a": 2}}]}"#);
        assert!(e.contains("duplicate key \"a\" in an object"), "{e}");
    }

    #[test]
    fn stats_rational_fallback_matches_direct() {
        let mut inputs = Vec::new();
        let primes = [
            1_000_003i64,
            1_000_033,
            1_000_037,
            1_000_039,
            1_000_081,
            1_000_099,
        ];
        for k in 0..120i64 {
            let p = primes[(k % 6) as usize] + 2 * k;
            inputs.push(vec![
                Rat::from_frac(k - 7, p).unwrap(),
                Rat::from_frac(3 * k + 1, p + 1).unwrap(),
            ]);
        }
        let s = class_stats_one(&inputs, 2);
        let mut sum = [Rat::zero(), Rat::zero()];
        let mut o = Matrix::zeros(2, 2);
        for x in &inputs {
            for a in 0..2 {
                sum[a] += &x[a];
                for b in 0..2 {
                    o[(a, b)] += &x[a] * &x[b];
                }
            }
        }
        assert_eq!(s.sum, sum.to_vec());
        assert_eq!(s.outer, o);
    }
}
