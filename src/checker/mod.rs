//! The independent checker: re-verifies a `dlgeom-cert/1` certificate from scratch against
//! the data (PRODUCT.md, "Certificates"; `dlgeom-cert check`).
//!
//! **Why it can be trusted.** It imports only the exact rational type and its parser
//! ([`crate::arith`]), the data parser ([`crate::data`]) and the serde structs of the format
//! ([`crate::cert`]); it shares no code with the constructions (its own forward pass,
//! backpropagation, least squares and rank). Every exact check runs generically over
//! [`num::Num`] with two big-number libraries ([`Backend`]), which must agree. It never
//! trusts a number it can recompute: every claimed value is recomputed and compared, and
//! every number string must be the canonical text of its value (`"p/q"`, lowest terms,
//! `q > 0`, integers without `/1`). Hostile input (garbage, wrong dimensions, huge indices,
//! missing blocks) is rejected with a message naming the field, never a panic.
//!
//! **What is shared between certificates.** A [`Checker`] converts the data once (points in
//! the backend's numbers, each class's moments `n, Σx̃x̃ᵀ, Σx̃yᵀ, Σ|y|², Σy`, inputs and
//! targets rounded to `f64`) and uses it for every certificate it checks; these depend on
//! the data file only. Nothing derived from a certificate is kept.
//!
//! **What it verifies** (field paths in messages are 0-based JSON indices; locations in the
//! certificate are 1-based):
//! 1. format tag, tool name, non-empty tool version, source text;
//! 2. data binding: both SHA-256 hashes, `Q`, `N`, every `N_j`, the normalisation
//!    (`"1/(2N)"`: `C = SSE/(2N)`, or `"1/N"`: `C = SSE/N`);
//! 3. network: `L ≥ 1` hidden layers and an output layer, all `Q×Q` / `Q`, canonical;
//! 4. exact evaluation (MATH §1): `h⁰ = x`, `z^ℓ = W_ℓ h^{ℓ−1} + b_ℓ`, `h^ℓ = max(z^ℓ, 0)`,
//!    `f = W_{L+1} h^L + b_{L+1}`: the cost, the margin `min |z^ℓ_m(x)|` with its first
//!    location in the order (class, point, layer, neuron), whether every output equals its
//!    target (`SSE = 0`: a sum of squares of rationals), the largest weight bit size;
//!    Two exact shortcuts of the same pass: while every earlier pre-activation is `> 0`,
//!    `z^ℓ = P_ℓ x + c_ℓ` with the prefix maps `P_ℓ = W_ℓ P_{ℓ−1}`, `c_ℓ = W_ℓ c_{ℓ−1} + b_ℓ`
//!    (small for constructed networks, whose `W_ℓ` are large), applied in integers as
//!    `(a d_m P_m · dx x + k) / E` (`d_m`, `dx`: lcms of the denominators of the row and of
//!    the input; `E = lcm(d_m dx, den c_m)`, `a = E/(d_m dx)`, `k = c_m E`; one reduction,
//!    the constants kept per value of `dx`); once `h^ℓ = 0` the rest of the pass is a
//!    constant, computed once per layer. At margin `> 0` the sum of squares is taken per
//!    pattern group from its moments (item 5): `Σ |F x̃ − y|² = Σ_m F_m · (E − Rᵀ)_m + T`
//!    (`= tr(F G Fᵀ) − 2 tr(F R) + T`); otherwise point by point;
//! 5. gradient (MATH §2), only at margin `> 0`: `δ^{L+1} = f − y`,
//!    `δ^ℓ = D_ℓ W_{ℓ+1}ᵀ δ^{ℓ+1}`, `∂W_ℓ = Σ δ^ℓ (h^{ℓ−1})ᵀ`, `∂b_ℓ = Σ δ^ℓ`, times `1/N`
//!    (or `2/N` for `"1/N"`); it is recorded iff it is not zero. The sums are taken per
//!    pattern group from the group's moments (item 6): there `h^ℓ = H_ℓ x̃`, `δ^ℓ = B_ℓ r`
//!    and `Σ r x̃ᵀ = F G − Rᵀ` (`f = F x̃`), so `Σ δ^ℓ (h^{ℓ−1})ᵀ = B_ℓ (F G − Rᵀ) H_{ℓ−1}ᵀ`;
//! 6. pattern-region bound (MATH §8), iff margin `> 0`: points grouped by their full pattern
//!    (`1` iff `z^ℓ_m > 0`, layer by layer), groups in lexicographic order; per group the
//!    normalised least-squares value: affine `T − tr(Rᵀ Z)` with `G = Σ x̃x̃ᵀ`,
//!    `R = Σ x̃yᵀ`, `x̃ = (x, 1)`, `T = Σ|y|²` and any solution of `G Z = R` (own exact
//!    elimination; the normal equations are consistent and every solution gives the same
//!    value); constant `T − |Σy|²/n` when some layer of the pattern is all `0`. Then
//!    `sum`, `gap = C − sum`, `certified ⇔ gap = 0`. A group made of all the points of some
//!    classes takes the sum of their class moments (every moment is a sum over points);
//!    any other group sums over its points;
//! 7. verdict: margin `0` → not-differentiable; gradient `≠ 0` → not-a-local-minimum;
//!    `C = 0` → global-minimum; gap `0` → local-minimum; else critical-point-not-certified;
//! 8. degeneracy (MATH §5), iff the verdict is a minimum: `K = (L+1)(Q²+Q)`, `L·Q`,
//!    `rank J` of the Jacobian of all outputs w.r.t. `θ` (rows `∂f_o(x)/∂θ` by
//!    backpropagating `e_o`). Inside one pattern group `∂f(x)/∂θ` is affine in `x` (the
//!    `δ^ℓ` depend only on the pattern and `θ`, and `h^{ℓ−1}` is affine in `x`), so the rows
//!    of a maximal affinely independent subset of each group's inputs (greedy, data order)
//!    span the group's rows (identical rows are inserted once: same rank); when a hidden
//!    layer of the pattern is all `≤ 0` the rows do not depend on `x` (`δ^ℓ = 0` up to that
//!    layer, every later `h` constant) and the first input stands for the group. The rank
//!    modulo `2⁶¹ − 1` is tried first: it is at most the rank, which is at most the number
//!    of rows, so when it equals the number of rows that is the rank; otherwise exact
//!    elimination decides. Kernel `K − rank J` iff `C = 0` (the Hessian is then `JᵀJ/N`).
//!    An output-layer flat line `θ + t d` (3 distinct nonzero samples recorded): only the
//!    output layer moves, so the hidden activations are fixed and every output moves by
//!    `t δf(x)`, `δf = ΔW_{L+1} h^L(x) + Δb_{L+1}`; `C(θ + t d) = C(θ) + 2t⟨r, δf⟩/… +
//!    t² Σ|δf|²/…` is constant iff `δf(x) = 0` on every point, which is checked;
//! 9. descent (MATH §7a): `d = −∇C` (`"gradient"`) or its first-layer bias block `−∂C/∂b_1`,
//!    zero elsewhere (`"first-layer-bias"`); `t > 0`, exact cost and margin of `θ + t d`,
//!    with `C(θ + t d) < C(θ)` and margin `> 0`. When `d` moves biases only (also the
//!    pass-through-shift samples of item 8), a point whose pattern stays has
//!    `z' = z + Δz` with `Δz` one vector per pattern group; every pattern stays iff per
//!    group, layer and neuron `min z + Δz > 0` (on) or `max z + Δz < 0` (off), and then
//!    the margin and `SSE' = SSE + Σ_g (2 Δf·Σ_g r + n_g |Δf|²)` follow from the groups
//!    (`Σ_g r` from item 5's `E`); otherwise the moved network is evaluated point by point;
//! 10. configuration (MATH §3–§5, claim C4): family rules, identifier, cones on layers
//!     `1..u` with cumulative `W^{(ℓ)} = 𝟙nᵀ + κI` (`κ > 0`, `κ + n·𝟙 ≠ 0`), `n·a = β`,
//!     `W^{(ℓ)}a + b^{(ℓ)} = 0`, the cone's classes strictly collapsed (`z^ℓ < 0`) and every
//!     other input strictly passing (`z^ℓ > 0`, actual pre-activations, so earlier apexes are
//!     covered); idle layers `W^{(ℓ)} = I`, `b^{(ℓ)} = s𝟙` with all `z^ℓ > 0`, and `s` the
//!     recipe value `⌊max |coordinate of an apex or passing input|⌋ + 1` (so it is pinned even
//!     without idle layers); every input of a cone's classes curated to its apex:
//!     `h^L(x) = W^{(L)} a + b^{(L)}`; the output layer is the basic least-squares fit on
//!     the curated points `τ` (apex or passing input): `Σ τ̃ (f − y)ᵀ = 0` (per pattern
//!     group from its `E`: `Eᵀ` for passing points, `ã (E e_{Q+1})ᵀ` for a cone's points;
//!     point by point if a group mixes them or the margin is `0`), and column `j`
//!     of `[A | c] = [W_{L+1}W^{(L)} | W_{L+1}b^{(L)} + b_{L+1}]` is zero for every non-pivot
//!     column `j` of `Σ τ̃τ̃ᵀ` — together they determine the output layer;
//! 11. float cross-check (MATH §9, non-normative): recomputed in `f64` in the producer's
//!     documented order and compared bit for bit (module `float`).
//!
//! **Limits** ([`CertLimits`]): before anything is parsed, every number string of a
//! certificate is bounded (at most `D` decimal digits, `D` from `--max-certificate-digits`,
//! by default `10 × --max-digits`), which bounds the work one number can demand. `verify` and `certify` apply the same bound to what they would write and refuse
//! (exit 2) before writing, so **what `verify` writes, `check` accepts under the same flags**.
//!
//! **Folders** ([`check_path`]): every certificate is checked, `summary.json` is checked
//! against the certificates beside it, a file that looks like a certificate but cannot be
//! read as one is a rejection, and any other file is listed as skipped.

mod exact;
mod float;
pub mod num;
mod summary;

use crate::arith::{ParseLimits, Rat};
use crate::cert::{Certificate, FORMAT};
use crate::data::Dataset;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Which big-number library runs the exact checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// malachite, through [`crate::arith::Rat`].
    Malachite,
    /// `num_rational::BigRational`.
    Num,
}

/// The default certificate limit is this many times `--max-digits` (so `1 000 000` digits at
/// the default `--max-digits 100000`): honest certificates hold costs, shifts and output
/// biases several times longer than any data coordinate (a cost sums squared residuals over
/// several denominators; a 100 000-digit coordinate gives a 500 007-character output bias).
pub const CERTIFICATE_DIGITS_PER_DATA_DIGIT: usize = 10;

/// The per-number limit of certificates, one policy for the producer and the checker.
///
/// **Rule.** `D = max(--max-certificate-digits, --max-digits)`, and without
/// `--max-certificate-digits`, `D = 10 × --max-digits` ([`CERTIFICATE_DIGITS_PER_DATA_DIGIT`]).
/// Every string of a certificate made only of digits, `-` and `/` (the characters of a
/// canonical number) may hold at most `D` decimal digits (the sign and `/` are not
/// counted); any other string is never a canonical number, and the checker's parser rejects
/// it before any arithmetic ([`num::plain`]). The checker tests this ([`within_limits`]) before it parses any number, so
/// the work a number can demand is bounded by `D`; `verify` and `certify` test the very same
/// function on every certificate before writing it and refuse (exit 2, naming
/// `--max-certificate-digits`, nothing written) when a number exceeds it. Hence **what
/// `verify` writes, `check` accepts under the same flags**. `D ≥ --max-digits` because the
/// checker converts the data (read under `--max-digits`) through the same parser, and
/// apexes and shifts repeat data values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertLimits {
    /// `D`: the largest number of decimal digits in one string of a certificate.
    pub max_digits: usize,
    /// The largest number of hidden layers `L` of a certificate's network (`--max-layers`,
    /// the same flag and default as `verify --layers` and `certify`).
    pub max_layers: usize,
}

/// Default of `--max-layers`: the largest `L` accepted by `verify`, `certify`, `plot` and
/// `check`. Time and memory grow linearly with `L` (certificates hold `L + 1` layers; at
/// `L = 1000` one `verify` of a 15-point, 3-class example takes a few seconds); raise it
/// with the flag.
pub const DEFAULT_MAX_LAYERS: usize = 1000;

impl CertLimits {
    /// `D` of the flags `--max-certificate-digits` (`None` when not given) and the data's
    /// `--max-digits` (see [`CertLimits`]).
    pub fn new(max_certificate_digits: Option<usize>, data: &ParseLimits) -> CertLimits {
        CertLimits {
            max_digits: match max_certificate_digits {
                Some(d) => d.max(data.max_digits),
                None => data
                    .max_digits
                    .saturating_mul(CERTIFICATE_DIGITS_PER_DATA_DIGIT),
            },
            max_layers: DEFAULT_MAX_LAYERS,
        }
    }

    /// The same limits with `--max-layers` = `max_layers`.
    pub fn with_max_layers(self, max_layers: usize) -> CertLimits {
        CertLimits { max_layers, ..self }
    }
}

impl Default for CertLimits {
    /// The limits of the default flags (`D = 1 000 000`).
    fn default() -> CertLimits {
        CertLimits::new(None, &ParseLimits::default())
    }
}

/// Whether every number string of `cert` obeys `limits` ([`CertLimits`]); the error names
/// the field (JSON path), its size and the flag that raises the limit.
pub fn within_limits(cert: &Certificate, limits: &CertLimits) -> Result<(), String> {
    fn walk(v: &serde_json::Value, d: usize) -> Result<(), (String, usize, usize)> {
        use serde_json::Value;
        match v {
            Value::String(s) if num::plain(s) => {
                let digits = s.bytes().filter(u8::is_ascii_digit).count();
                if digits > d {
                    return Err((String::new(), digits, s.len()));
                }
                Ok(())
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .try_for_each(|(i, x)| walk(x, d).map_err(|(p, n, l)| (format!("[{i}]{p}"), n, l))),
            Value::Object(o) => o
                .iter()
                .try_for_each(|(k, x)| walk(x, d).map_err(|(p, n, l)| (format!(".{k}{p}"), n, l))),
            _ => Ok(()),
        }
    }
    let l = cert.network.hidden_layers;
    if l > limits.max_layers {
        return Err(format!(
            "network.hidden_layers: L = {l} exceeds the limit of {} hidden layers (raise it with --max-layers)",
            limits.max_layers
        ));
    }
    let v = serde_json::to_value(cert).map_err(|e| format!("certificate: {e}"))?;
    walk(&v, limits.max_digits).map_err(|(p, digits, len)| {
        format!(
            "{}: text of {digits} digits ({len} characters) exceeds the certificate limit of {} digits (raise it with --max-certificate-digits)",
            p.trim_start_matches('.'),
            limits.max_digits
        )
    })
}

/// One verified item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// What was checked: `limits`, `format`, `data`, `network`, `claims.evaluation`, `claims.gradient`,
    /// `claims.pattern_region`, `claims.verdict`, `claims.degeneracy`, `claims.descent`,
    /// `configuration` or `float_check`.
    pub name: String,
    /// Whether it holds.
    pub passed: bool,
    /// The recomputed value, or exactly what differs (field path, claimed vs recomputed).
    pub detail: String,
}

/// The outcome of checking one certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks in order. A failed structural check (unknown normalisation, malformed data or
    /// network) ends the list, since nothing after it can be computed.
    pub checks: Vec<Check>,
    /// Set by [`check_path`] for a JSON file in a folder that is neither a certificate, nor a
    /// summary, nor looks like one (it is listed, not checked; such a report is neither
    /// accepted nor a rejection).
    pub skipped: Option<String>,
}

impl Report {
    /// `true` iff this was checked and every check passed.
    pub fn accepted(&self) -> bool {
        self.skipped.is_none() && !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }
    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }
    fn add(&mut self, name: &str, r: Result<String, String>) {
        let passed = r.is_ok();
        let detail = r.unwrap_or_else(|e| e);
        self.checks.push(Check {
            name: name.to_string(),
            passed,
            detail,
        });
    }
    fn failed(mut self, name: &str, e: String) -> Report {
        self.add(name, Err(e));
        self
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.skipped {
            return writeln!(f, "skipped: {s}");
        }
        for c in &self.checks {
            writeln!(
                f,
                "{} {}: {}",
                if c.passed { "ok  " } else { "FAIL" },
                c.name,
                c.detail
            )?;
        }
        writeln!(
            f,
            "{}",
            if self.accepted() {
                "ACCEPTED"
            } else {
                "REJECTED"
            }
        )
    }
}

/// A checker bound to one data set and one exact backend. The data is converted to the
/// checker's own form (points in the backend's numbers, per-class moments, `f64` copies)
/// once, on first use, and shared by every certificate checked through it (from any thread).
/// Nothing computed from a certificate is kept between certificates.
///
/// ```
/// use dlgeom_cert::checker::{Backend, Checker};
/// use dlgeom_cert::data::{DataLimits, Dataset};
/// use std::path::Path;
/// let data = Dataset::load(Path::new("examples/two_classes.json"), &DataLimits::default())
///     .unwrap();
/// let checker = Checker::new(&data, Backend::Malachite);
/// for name in ["global", "partial-S1", "grouped-1+2"] {
///     let path = format!("certificates/two_classes/{name}.json");
///     assert!(checker.check_file(Path::new(&path)).unwrap().accepted());
/// }
/// ```
pub struct Checker<'a> {
    data: &'a Dataset,
    backend: Backend,
    limits: CertLimits,
    malachite: OnceLock<exact::Prepared<Rat>>,
    num: OnceLock<exact::Prepared<num::BigQ>>,
}

impl<'a> Checker<'a> {
    /// A checker for certificates bound to `data`, using `backend`, under the default
    /// [`CertLimits`].
    pub fn new(data: &'a Dataset, backend: Backend) -> Checker<'a> {
        Checker::with_limits(data, backend, CertLimits::default())
    }
    /// A checker under `limits` (derive them from the flags the data was read with:
    /// [`CertLimits::new`]).
    pub fn with_limits(data: &'a Dataset, backend: Backend, limits: CertLimits) -> Checker<'a> {
        Checker {
            data,
            backend,
            limits,
            malachite: OnceLock::new(),
            num: OnceLock::new(),
        }
    }
    /// Check one certificate ([`check`]). A string beyond the [`CertLimits`] is a failed
    /// `limits` check, and then nothing else is computed.
    pub fn check(&self, cert: &Certificate) -> Report {
        if let Err(e) = within_limits(cert, &self.limits) {
            return Report::default().failed("limits", e);
        }
        let d = self.data;
        match self.backend {
            Backend::Malachite => exact::run(
                cert,
                d,
                self.malachite.get_or_init(|| exact::Prepared::new(d)),
            ),
            Backend::Num => exact::run(cert, d, self.num.get_or_init(|| exact::Prepared::new(d))),
        }
    }
    /// Parse certificate JSON strictly ([`parse_certificate`]) and check it.
    pub fn check_json(&self, text: &str) -> Result<Report, String> {
        Ok(self.check(&parse_certificate(text)?))
    }
    /// Read a certificate file and check it.
    pub fn check_file(&self, cert_path: &Path) -> Result<Report, String> {
        let text = std::fs::read_to_string(cert_path)
            .map_err(|e| format!("cannot read {}: {e}", cert_path.display()))?;
        self.check_json(&text)
            .map_err(|e| format!("{}: {e}", cert_path.display()))
    }
}

/// Check a certificate against the data with one exact backend (a one-use [`Checker`]).
pub fn check(cert: &Certificate, data: &Dataset, backend: Backend) -> Report {
    Checker::new(data, backend).check(cert)
}

/// Parse certificate JSON strictly (unknown keys, duplicate keys at any level, wrong types
/// and trailing garbage are errors) and check it.
pub fn check_json(text: &str, data: &Dataset, backend: Backend) -> Result<Report, String> {
    Checker::new(data, backend).check_json(text)
}

/// Read a certificate file and check it ([`check_json`]).
pub fn check_file(cert_path: &Path, data: &Dataset, backend: Backend) -> Result<Report, String> {
    Checker::new(data, backend).check_file(cert_path)
}

/// Check a file, or every `*.json` file of a folder, under the default [`CertLimits`]
/// ([`check_path_with`]).
pub fn check_path(
    path: &Path,
    data: &Dataset,
    backend: Backend,
) -> Vec<(PathBuf, Result<Report, String>)> {
    check_path_with(path, data, backend, CertLimits::default())
}

/// The top-level keys of a certificate.
const CERT_KEYS: [&str; 8] = [
    "format",
    "tool",
    "source",
    "data",
    "configuration",
    "network",
    "claims",
    "float_check",
];

/// What one JSON file of a folder is, from its top-level object.
enum Kind {
    /// `format` starts with `dlgeom-cert`: checked as a certificate.
    Certificate,
    /// `format` is `dlgeom-summary/1`: checked against the certificates beside it.
    Summary,
    /// Not ours: listed with the reason.
    Other(String),
    /// Looks like a certificate or a summary but is neither: a rejection.
    Lookalike(String),
}

fn kind(v: &serde_json::Value) -> Kind {
    let Some(o) = v.as_object() else {
        return Kind::Other("not a JSON object".into());
    };
    let format = o.get("format");
    if let Some(f) = format.and_then(|f| f.as_str()) {
        if f.starts_with("dlgeom-cert") {
            return Kind::Certificate;
        }
        if f == "dlgeom-summary/1" {
            return Kind::Summary;
        }
        if f == crate::data::FORMAT_TAG {
            return Kind::Other(format!("a {f} data file"));
        }
        let plain: String = (f.chars())
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if plain.contains("dlgeom") {
            return Kind::Lookalike(format!(
                "format {f:?} resembles a dlgeom-cert format tag but is not {FORMAT} (nor dlgeom-summary/1): it cannot be verified"
            ));
        }
    }
    let keys: Vec<&str> = (CERT_KEYS.iter().skip(1))
        .filter(|k| o.contains_key(**k))
        .copied()
        .collect();
    if keys.len() >= 2 {
        return Kind::Lookalike(format!(
            "has the certificate keys {keys:?} but format {}: it cannot be verified as a {FORMAT} certificate",
            format.map_or("missing".to_string(), |f| f.to_string())
        ));
    }
    Kind::Other(format!(
        "not a {FORMAT} certificate (format {})",
        format.map_or("missing".to_string(), |f| f.to_string())
    ))
}

/// Check a file, or every `*.json` file of a folder (sorted by name; other files are not
/// looked at), under `limits`. In a folder:
/// - a file whose top-level `format` starts with `dlgeom-cert` is checked as a certificate;
/// - `summary.json`-like files (`format` `dlgeom-summary/1`) are checked against the data
///   and the certificates beside them (module `summary`: data binding, every configuration
///   row's certificate with its id, family, verdict and exact cost, the C3 counts, the cost
///   distinctness and the claim statuses) and yield one `summary` check;
/// - a file that looks like a certificate but cannot be verified as one (a `format` that
///   resembles a dlgeom tag, e.g. `"Dlgeom-cert/1"`, or two or more of a certificate's
///   top-level keys with another or no `format`), and a file that is not JSON, are errors
///   (rejections);
/// - any other JSON file (a data file, a network block, anything else) is listed with a
///   [`Report::skipped`] reason.
pub fn check_path_with(
    path: &Path,
    data: &Dataset,
    backend: Backend,
    limits: CertLimits,
) -> Vec<(PathBuf, Result<Report, String>)> {
    let checker = Checker::with_limits(data, backend, limits);
    if !path.is_dir() {
        return vec![(path.to_path_buf(), checker.check_file(path))];
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "json"))
            .collect(),
        Err(e) => {
            return vec![(
                path.to_path_buf(),
                Err(format!("cannot read {}: {e}", path.display())),
            )]
        }
    };
    files.sort();
    enum Found {
        Cert(Report, Option<summary::CertInfo>),
        Summary(serde_json::Value),
        Done(Result<Report, String>),
    }
    // One file per task (rayon); `collect` keeps the sorted order, so the output does not
    // depend on the thread count.
    use rayon::prelude::*;
    let mut found: Vec<(PathBuf, Found)> = files
        .into_par_iter()
        .map(|p| {
            let at = |e: String| format!("{}: {e}", p.display());
            let text = match std::fs::read_to_string(&p) {
                Ok(t) => t,
                Err(e) => return (p.clone(), Found::Done(Err(at(format!("cannot read: {e}"))))),
            };
            let v: serde_json::Value = match serde_json::from_str(&text) {
                Ok(v) => v,
                Err(e) => return (p.clone(), Found::Done(Err(at(e.to_string())))),
            };
            let f = match kind(&v) {
                Kind::Certificate => match parse_certificate(&text) {
                    Ok(c) => {
                        drop(v);
                        let rep = checker.check(&c);
                        let info = summary::CertInfo::of(&c, rep.accepted());
                        Found::Cert(rep, Some(info))
                    }
                    Err(e) => Found::Done(Err(at(e))),
                },
                Kind::Summary => Found::Summary(v),
                Kind::Other(why) => Found::Done(Ok(Report {
                    checks: vec![],
                    skipped: Some(why),
                })),
                Kind::Lookalike(why) => Found::Done(Err(at(why))),
            };
            (p, f)
        })
        .collect();
    // The certificates' summary fields, by file stem, for the summaries.
    let mut infos = std::collections::BTreeMap::new();
    for (p, f) in &mut found {
        if let (Found::Cert(_, info), Some(stem)) = (f, p.file_stem()) {
            if let Some(i) = info.take() {
                infos.insert(stem.to_string_lossy().into_owned(), i);
            }
        }
    }
    found
        .into_iter()
        .map(|(p, f)| {
            let r = match f {
                Found::Cert(rep, _) => Ok(rep),
                Found::Done(r) => r,
                Found::Summary(v) => {
                    let mut rep = Report::default();
                    rep.add("summary", summary::check(&v, data, &infos));
                    Ok(rep)
                }
            };
            (p, r)
        })
        .collect()
}

/// Strict parse. The first pass reads the `deny_unknown_fields` structs of [`crate::cert`]
/// directly, so that serde's derived code rejects a repeated key in any object (every
/// object of the format is a struct); a `Value` would silently keep the last one. The second
/// pass goes through [`serde_json::Value`], which keeps every number's literal text (feature
/// `arbitrary_precision`) and converts floats with the correctly rounded `str::parse::<f64>`
/// (serde_json's direct float parser may be one unit in the last place off), so the float
/// block is read exactly as written.
pub fn parse_certificate(text: &str) -> Result<Certificate, String> {
    let bad = |e: serde_json::Error| format!("not a {FORMAT} certificate: {e}");
    serde_json::from_str::<Certificate>(text).map_err(bad)?;
    serde_json::from_value(serde_json::from_str(text).map_err(bad)?).map_err(bad)
}
