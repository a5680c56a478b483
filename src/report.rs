//! The claim table C1–C4 of one `verify` run (MATH.md §5–§7c), as text and as the
//! `summary.json` document written beside the certificates.
//!
//! C1: the global minimizer for `L ≥ Q` (zero cost, zero gradient, positive margin).
//! C2: its degeneracy (Hessian kernel dimension `K − rank J`, explicit flat line).
//! C3: the candidate local minima: partial curation (§7a, the tool's reading of the paper's
//! `2^Q − 1` claim) and grouped curation (§7b), with counts and exact cost distinctness.
//! C4: the curation itself (every class collapsed to its apex at its layer).

use crate::arith::Rat;
use crate::certify::Verdict;
use crate::construct::Family;
use crate::data::Dataset;
use crate::verify::{Outcome, Run};
use serde::Serialize;

/// Status of one claim on this data.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ClaimRow {
    /// `C1` … `C4`.
    pub claim: String,
    /// `certified`, `not-certified`, `not-applicable` or `finding` (a count or a table).
    pub status: String,
    /// One line of explanation with the exact numbers.
    pub detail: String,
}

/// One configuration in the summary.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ConfigRow {
    /// Configuration id (also the certificate file stem).
    pub id: String,
    /// Family name.
    pub family: String,
    /// Verdict name, or `infeasible`.
    pub verdict: String,
    /// Exact cost (absent when infeasible).
    pub cost: Option<String>,
    /// Why infeasible.
    pub reason: Option<String>,
}

/// Counts of one C3 family.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FamilyRow {
    /// Family name.
    pub family: String,
    /// Configurations.
    pub total: usize,
    /// Certified minima.
    pub certified: usize,
    /// Refuted (nonzero exact gradient at positive margin).
    pub refuted: usize,
    /// Refuted with an explicit descent step.
    pub refuted_with_descent_step: usize,
    /// Not buildable.
    pub infeasible: usize,
    /// Neither certified nor refuted.
    pub undecided: usize,
}

/// `summary.json`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// `dlgeom-summary/1`.
    pub format: String,
    /// SHA-256 of the data file bytes.
    pub data_sha256_bytes: String,
    /// SHA-256 of the canonical data.
    pub data_sha256_canonical: String,
    /// `Q`.
    pub classes: usize,
    /// `N`.
    pub points: usize,
    /// `L`.
    pub hidden_layers: usize,
    /// The claim table.
    pub claims: Vec<ClaimRow>,
    /// C3 counts per family.
    pub c3_families: Vec<FamilyRow>,
    /// Whether the certified minima have pairwise distinct exact costs.
    pub certified_costs_distinct: bool,
    /// Every configuration.
    pub configurations: Vec<ConfigRow>,
    /// Families left out by `--families` (absent when every family ran); a claim that
    /// depends on one of them has status `not-run`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub families_not_run: Vec<String>,
}

/// Build the summary of a run.
pub fn summarise(data: &Dataset, run: &Run) -> Summary {
    let q = run.q;
    let mut claims = Vec::new();

    // C1 and C2 and C4 from the global configuration.
    let global = run.get("global");
    let not_run = |fams: &[Family]| {
        let names: Vec<&str> = (fams.iter())
            .filter(|f| !run.families.contains(**f))
            .map(|f| f.name())
            .collect();
        (!names.is_empty()).then(|| {
            format!(
                "not run: the {} famil{} left out by --families",
                names.join(" and "),
                if names.len() == 1 {
                    "y was"
                } else {
                    "ies were"
                }
            )
        })
    };
    if let Some(why) = not_run(&[Family::Global]) {
        for c in ["C1", "C2", "C4"] {
            claims.push(row(c, "not-run", why.clone()));
        }
    }
    match global.map(|e| &e.outcome) {
        Some(Outcome::Built(b)) if b.analysis.verdict == Verdict::GlobalMinimum => {
            let m = b
                .analysis
                .exact
                .margin
                .as_ref()
                .map(|m| m.0.canonical())
                .unwrap_or_default();
            let f = &b.certificate.float_check;
            let fl = |x: Option<f64>| x.map_or("n/a".to_string(), |v| format!("{v:.1e}"));
            claims.push(row(
                "C1",
                "certified",
                format!(
                    "global minimizer for L = {} ≥ Q = {q}: every output equals its target, cost 0, gradient exactly 0, margin {m}; largest weight {} bits (f64 cross-check: cost {}, max |gradient| {})",
                    run.layers,
                    b.certificate.claims.max_weight_bits,
                    fl(f.cost_f64),
                    fl(f.max_abs_gradient_f64)
                ),
            ));
            let deg = b.certificate.claims.degeneracy.as_ref();
            match deg {
                Some(d) => {
                    let expected = d.parameters.saturating_sub(q * q);
                    let flat = if d.flat_direction.is_some() {
                        "an explicit flat line in the output layer verified"
                    } else {
                        "no explicit flat line found"
                    };
                    let dim = d.hessian_kernel_dim.unwrap_or(0);
                    claims.push(row(
                        "C2",
                        if dim > 0 { "certified" } else { "not-certified" },
                        format!(
                            "Hessian kernel dimension K − rank J = {} − {} = {dim} (MATH §5 expects K − Q² = {expected}; positive rescaling explains {}); {flat}",
                            d.parameters, d.jacobian_rank, d.rescaling_dims
                        ),
                    ));
                }
                None => claims.push(row("C2", "not-certified", "no degeneracy data".into())),
            }
            let order: Vec<String> = b
                .certificate
                .configuration
                .collapse_order
                .iter()
                .map(|u| {
                    u.iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect();
            claims.push(row(
                "C4",
                "certified",
                format!(
                    "hidden layer ℓ collapses class k_ℓ onto its apex and passes the rest unchanged; curation order {}",
                    order.join(", ")
                ),
            ));
        }
        Some(Outcome::Built(b)) => {
            claims.push(row(
                "C1",
                "not-certified",
                format!(
                    "the constructed global candidate has verdict {}",
                    b.analysis.verdict.name()
                ),
            ));
            claims.push(row(
                "C2",
                "not-applicable",
                "no certified global minimizer".into(),
            ));
            claims.push(row(
                "C4",
                "not-applicable",
                "no certified global minimizer".into(),
            ));
        }
        Some(Outcome::Infeasible(why)) => {
            let status = if run.layers < q {
                "not-applicable"
            } else {
                "not-certified"
            };
            claims.push(row("C1", status, why.clone()));
            claims.push(row(
                "C2",
                "not-applicable",
                "no global minimizer constructed".into(),
            ));
            claims.push(row(
                "C4",
                "not-applicable",
                "no global minimizer constructed".into(),
            ));
        }
        None => {}
    }

    let fam_row = |f: Family| {
        let c = run.count(f);
        FamilyRow {
            family: f.name().to_string(),
            total: c.total,
            certified: c.certified,
            refuted: c.refuted,
            refuted_with_descent_step: c.with_descent,
            infeasible: c.infeasible,
            undecided: c.undecided,
        }
    };
    // The 2^Q − 1 partial-curation candidates include S = ∅ (the shallow minimum).
    let mut partial = fam_row(Family::Partial);
    let shallow = fam_row(Family::Shallow);
    partial.total += shallow.total;
    partial.certified += shallow.certified;
    partial.refuted += shallow.refuted;
    partial.refuted_with_descent_step += shallow.refuted_with_descent_step;
    partial.infeasible += shallow.infeasible;
    partial.undecided += shallow.undecided;
    let grouped = fam_row(Family::Grouped);
    let (costs, distinct) = run.certified_costs();
    let target = (1u128 << q.min(127)) - 1;
    let partial_certified = partial.certified as u128;
    // C3 counts partial curation with S = ∅ (the shallow minimum) and compares the costs
    // of every certified minimum, grouped ones included.
    let c3_not_run = not_run(&[Family::Shallow, Family::Partial, Family::Grouped]);
    claims.push(row(
        "C3",
        if c3_not_run.is_some() {
            "not-run"
        } else if partial_certified >= target && distinct {
            "certified"
        } else {
            "not-certified"
        },
        format!(
            "partial curation S ⊊ {{1..{q}}} (the tool's reading of the 2^Q − 1 claim; S = ∅ is the shallow minimum): {} of {} certified local minima, {} refuted by an exact nonzero gradient, {} infeasible; grouped curation: {} of {} certified; {} certified minima in all, costs {}",
            partial.certified,
            partial.total,
            partial.refuted,
            partial.infeasible,
            grouped.certified,
            grouped.total,
            costs.len(),
            if distinct { "pairwise distinct" } else { "NOT pairwise distinct" }
        ) + &c3_not_run.map(|w| format!(" ({w})")).unwrap_or_default(),
    ));
    claims.sort_by(|a, b| a.claim.cmp(&b.claim));

    let configurations = run
        .entries
        .iter()
        .map(|e| match &e.outcome {
            Outcome::Built(b) => ConfigRow {
                id: e.plan.id(),
                family: e.plan.family.name().to_string(),
                verdict: b.analysis.verdict.name().to_string(),
                cost: Some(b.analysis.exact.cost.canonical()),
                reason: None,
            },
            Outcome::Infeasible(why) => ConfigRow {
                id: e.plan.id(),
                family: e.plan.family.name().to_string(),
                verdict: "infeasible".to_string(),
                cost: None,
                reason: Some(why.clone()),
            },
        })
        .collect();
    Summary {
        format: "dlgeom-summary/1".to_string(),
        data_sha256_bytes: data.sha256_bytes.clone(),
        data_sha256_canonical: data.sha256_canonical.clone(),
        classes: q,
        points: data.n(),
        hidden_layers: run.layers,
        claims,
        c3_families: vec![partial, grouped],
        certified_costs_distinct: distinct,
        configurations,
        families_not_run: (run.families.omitted().iter())
            .map(|f| f.name().to_string())
            .collect(),
    }
}

fn row(claim: &str, status: &str, detail: String) -> ClaimRow {
    ClaimRow {
        claim: claim.to_string(),
        status: status.to_string(),
        detail,
    }
}

/// Human-readable text of a summary, verdicts first.
pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Q = {}, N = {}, L = {} hidden layers; data sha256 {}\n\n",
        s.classes, s.points, s.hidden_layers, s.data_sha256_bytes
    ));
    for c in &s.claims {
        out.push_str(&format!(
            "{:<3} {:<15} {}\n",
            c.claim,
            c.status.to_uppercase(),
            shorten_numbers(&c.detail)
        ));
    }
    if !s.families_not_run.is_empty() {
        out.push_str(&format!(
            "\nFamilies not run (--families): {}\n",
            s.families_not_run.join(", ")
        ));
    }
    out.push_str("\nConfigurations (exact costs):\n");
    for c in &s.configurations {
        let extra = match (&c.cost, &c.reason) {
            (Some(cost), _) => format!("cost {}", shorten(cost)),
            (None, Some(r)) => r.clone(),
            _ => String::new(),
        };
        out.push_str(&format!("  {:<22} {:<29} {}\n", c.id, c.verdict, extra));
    }
    out
}

/// The limits under which the report reads back numbers the tool itself computed (canonical
/// `p/q`, no exponent): no digit limit, since a cost or margin may be longer than any data
/// number and is already in memory.
const CANONICAL: crate::arith::ParseLimits = crate::arith::ParseLimits {
    max_exponent: 0,
    max_digits: usize::MAX,
};

/// Long exact numbers are shown with their size; certificates hold them in full.
pub fn shorten(s: &str) -> String {
    if s.len() <= 40 {
        s.to_string()
    } else {
        let approx = Rat::parse_with(s, &CANONICAL)
            .map_or_else(|_| format!("{:.6e}", f64::NAN), |r| sci(&r));
        format!(
            "≈ {approx} ({} characters exact, in the certificate)",
            s.len()
        )
    }
}

/// Every exact number of more than 40 characters in a line of text (a maximal run of
/// digits, `-` and `/` that is a number), [`shorten`]ed; the rest is kept as it is.
pub fn shorten_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit() || c == '-' || c == '/') {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run
            .find(|c: char| !(c.is_ascii_digit() || c == '-' || c == '/'))
            .unwrap_or(run.len());
        let token = &run[..len];
        if len > 40 && Rat::parse_with(token, &CANONICAL).is_ok() {
            out.push_str(&shorten(token));
        } else {
            out.push_str(token);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    out
}

/// `r` in scientific notation with 7 significant digits, like `format!("{:.6e}", x)` of a
/// float (`-3.700000e-8000`), computed from the exact value: no underflow to `0` or
/// overflow to `inf` whatever the exponent. The decimal exponent `e = ⌊log₁₀ |p/q|⌋` is
/// `d(p) − d(q)` or one less (`d`: number of digits), decided by one comparison; the
/// mantissa `|p/q|·10^{6−e}` is rounded to the nearest integer, ties to even.
pub fn sci(r: &Rat) -> String {
    use malachite_base::num::arithmetic::traits::{DivRem, Parity, Pow};
    use malachite_nz::natural::Natural;
    use std::str::FromStr;
    let text = r.canonical();
    let (sign, mag) = match text.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", text.as_str()),
    };
    let (p, q) = mag.split_once('/').unwrap_or((mag, "1"));
    // Canonical text: the number of digits of each is the length of its text.
    let mut e = p.len() as i64 - q.len() as i64;
    let (Ok(p), Ok(q)) = (Natural::from_str(p), Natural::from_str(q)) else {
        return format!("{:.6e}", f64::NAN);
    };
    if p == 0u32 {
        return "0.000000e0".to_string();
    }
    let ten = |k: i64| Natural::from(10u32).pow(k.unsigned_abs());
    // |p/q|·10^k as a fraction n/d.
    let scaled = |k: i64| {
        if k >= 0 {
            (&p * ten(k), q.clone())
        } else {
            (p.clone(), &q * ten(k))
        }
    };
    let (n, d) = scaled(-e);
    if n < d {
        e -= 1;
    }
    let (n, d) = scaled(6 - e);
    let (mut m, rem) = n.div_rem(&d);
    let twice = rem << 1u32;
    if twice > d || (twice == d && m.odd()) {
        m += Natural::from(1u32);
    }
    if m == ten(7) {
        m = ten(6);
        e += 1;
    }
    let m = m.to_string();
    format!("{sign}{}.{}e{e}", &m[..1], &m[1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact notation equals the float one wherever the float is exact enough (a
    /// normal `f64` far from a rounding boundary).
    #[test]
    fn sci_matches_float_formatting_in_range() {
        for s in [
            "1",
            "-1",
            "7",
            "10",
            "999999",
            "1234567",
            "-1234567/1000",
            "1/3",
            "-2/3",
            "123456789012345678901234567890",
            "1/1024",
            "5/7",
            "31415926535/10000000000",
            "-99999994/10",
        ] {
            let r = Rat::parse(s).unwrap();
            assert_eq!(sci(&r), format!("{:.6e}", r.to_f64()), "{s}");
        }
        assert_eq!(sci(&Rat::zero()), format!("{:.6e}", 0.0));
    }

    /// Rounding at the seventh digit: ties to even, and a carry into a new exponent.
    #[test]
    fn sci_rounds_exactly() {
        let r = |s: &str| sci(&Rat::parse(s).unwrap());
        assert_eq!(r("12345665/10"), "1.234566e6"); // tie, 6 is even
        assert_eq!(r("12345675/10"), "1.234568e6"); // tie, 7 is odd
        assert_eq!(r("123456650001/100000"), "1.234567e6");
        assert_eq!(r("99999995"), "1.000000e8");
        assert_eq!(r("-99999995/1000"), "-1.000000e5");
        assert_eq!(r("9999999"), "9.999999e6");
    }

    /// A tiny positive cost, far below the smallest `f64`, gets its true exponent (it was
    /// shown as `≈ 0.000000e0`), and a huge one is not `inf`.
    #[test]
    fn shorten_tiny_and_huge_values_exactly() {
        let tiny = format!("37/1{}", "0".repeat(8001)); // 3.7·10⁻⁸⁰⁰⁰
        assert_eq!(
            shorten(&tiny),
            format!(
                "≈ 3.700000e-8000 ({} characters exact, in the certificate)",
                tiny.len()
            )
        );
        let third = format!("1/3{}", "0".repeat(799)); // 10⁻⁸⁰⁰/3
        assert!(
            shorten(&third).starts_with("≈ 3.333333e-800 ("),
            "{}",
            shorten(&third)
        );
        let huge = format!("-2{}", "0".repeat(400)); // −2·10⁴⁰⁰
        assert!(
            shorten(&huge).starts_with("≈ -2.000000e400 ("),
            "{}",
            shorten(&huge)
        );
        assert_eq!(shorten("1/3"), "1/3");
    }

    /// Long numbers inside a claim's line are shortened in the rendered table, the rest of
    /// the line kept; short numbers stay exact.
    #[test]
    fn long_numbers_in_a_detail_are_shortened() {
        let margin = format!("1/7{}", "0".repeat(20_000));
        let detail = format!("cost 0, gradient exactly 0, margin {margin}; largest weight 12 bits (f64 cross-check: cost 3.5e-33)");
        let out = shorten_numbers(&detail);
        assert_eq!(
            out,
            format!("cost 0, gradient exactly 0, margin ≈ 1.428571e-20001 ({} characters exact, in the certificate); largest weight 12 bits (f64 cross-check: cost 3.5e-33)", margin.len())
        );
        let summary = Summary {
            format: "dlgeom-summary/1".into(),
            data_sha256_bytes: "00".into(),
            data_sha256_canonical: "00".into(),
            classes: 2,
            points: 4,
            hidden_layers: 2,
            claims: vec![row("C1", "certified", detail)],
            c3_families: vec![],
            certified_costs_distinct: true,
            configurations: vec![],
            families_not_run: vec![],
        };
        let text = render(&summary);
        assert!(text.len() < 1000, "{}", text.len());
        let want = format!(
            "margin ≈ 1.428571e-20001 ({} characters exact",
            margin.len()
        );
        assert!(text.contains(&want), "{text}");
        // A run of digits that is not one number is left alone.
        let odd = format!("ids {}-{}", "1".repeat(30), "2".repeat(30));
        assert_eq!(shorten_numbers(&odd), odd);
    }
}
