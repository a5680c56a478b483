//! `summary.json` (format `dlgeom-summary/1`, written by `verify` beside its certificates)
//! checked against the certificates in the same folder, for [`super::check_path`].
//!
//! Nothing in a summary is taken on trust: its data binding (both SHA-256 hashes, `Q`, `N`)
//! is compared with the data; every configuration row that is not `infeasible` must have an
//! accepted certificate `<id>.json` beside it with the same id, family, verdict, exact cost
//! and hidden-layer count; an `infeasible` row must have none; every constructed certificate
//! of the same run (same `L`) must be listed; the C3 family counts, the distinctness of the
//! certified costs and the status of each claim C1–C4 are recomputed from the rows and the
//! certificates (the rule of `report::summarise`). The claims' free-text details are not
//! compared.

use crate::cert::Certificate;
use crate::data::Dataset;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The fields of one certificate that its summary row repeats.
pub(super) struct CertInfo {
    /// Whether the checker accepted the certificate.
    pub accepted: bool,
    id: String,
    family: String,
    verdict: String,
    cost: String,
    hidden_layers: usize,
    descent: bool,
    kernel_dim: Option<usize>,
}

impl CertInfo {
    /// What a summary row of `c` must say; `accepted` is the checker's verdict on it.
    pub fn of(c: &Certificate, accepted: bool) -> CertInfo {
        CertInfo {
            accepted,
            id: c.configuration.id.clone(),
            family: c.configuration.family.clone(),
            verdict: c.claims.verdict.clone(),
            cost: c.claims.cost.clone(),
            hidden_layers: c.network.hidden_layers,
            descent: c.claims.descent.is_some(),
            kernel_dim: (c.claims.degeneracy.as_ref()).and_then(|d| d.hessian_kernel_dim),
        }
    }
}

/// Exactly `keys`, no more, no fewer (`what` names the object in messages).
fn object<'a>(v: &'a Value, what: &str, keys: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("{what}: not a JSON object"))?;
    if let Some(k) = o.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(format!("{what}: unknown key {k:?}"));
    }
    if let Some(k) = keys.iter().find(|k| !o.contains_key(**k)) {
        return Err(format!("{what}: missing key {k:?}"));
    }
    Ok(o)
}

fn string<'a>(o: &'a Map<String, Value>, what: &str, k: &str) -> Result<&'a str, String> {
    o[k].as_str()
        .ok_or_else(|| format!("{what}.{k}: not a string"))
}

fn optional<'a>(o: &'a Map<String, Value>, what: &str, k: &str) -> Result<Option<&'a str>, String> {
    match &o[k] {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(format!("{what}.{k}: neither a string nor null")),
    }
}

fn count(o: &Map<String, Value>, what: &str, k: &str) -> Result<usize, String> {
    (o[k].as_u64())
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("{what}.{k}: not a count"))
}

fn same<T: PartialEq + std::fmt::Debug>(what: &str, claimed: T, actual: T) -> Result<(), String> {
    if claimed != actual {
        return Err(format!("{what}: summary says {claimed:?}, but {actual:?}"));
    }
    Ok(())
}

/// The configuration families, in the order `families_not_run` lists them.
const FAMILIES: [&str; 4] = ["shallow", "global", "partial", "grouped"];

/// The families a run left out (`families_not_run`: distinct, known, in [`FAMILIES`]
/// order, not all of them); empty when the key is absent.
fn families_not_run(o: &Map<String, Value>) -> Result<Vec<&'static str>, String> {
    let Some(v) = o.get("families_not_run") else {
        return Ok(Vec::new());
    };
    let a = v.as_array().ok_or("families_not_run: not an array")?;
    let mut out = Vec::new();
    let mut previous: Option<usize> = None;
    for (i, f) in a.iter().enumerate() {
        let f = f
            .as_str()
            .ok_or_else(|| format!("families_not_run[{i}]: not a string"))?;
        let k = FAMILIES
            .iter()
            .position(|x| *x == f)
            .ok_or_else(|| format!("families_not_run[{i}]: unknown family {f:?}"))?;
        if previous.is_some_and(|p| p >= k) {
            return Err(format!(
                "families_not_run: not distinct families in the order {FAMILIES:?}"
            ));
        }
        previous = Some(k);
        out.push(FAMILIES[k]);
    }
    if out.is_empty() || out.len() == FAMILIES.len() {
        return Err("families_not_run: present but empty, or every family".into());
    }
    Ok(out)
}

/// Check a `dlgeom-summary/1` document against the data and the certificates of its folder
/// (`certs`: file stem → fields). `Ok` says what matched; `Err` names the first mismatch.
pub(super) fn check(
    v: &Value,
    data: &Dataset,
    certs: &BTreeMap<String, CertInfo>,
) -> Result<String, String> {
    let top = [
        "format",
        "data_sha256_bytes",
        "data_sha256_canonical",
        "classes",
        "points",
        "hidden_layers",
        "claims",
        "c3_families",
        "certified_costs_distinct",
        "configurations",
    ];
    // `families_not_run` is present only when `--families` left a family out.
    let o = match v.get("families_not_run") {
        Some(_) => {
            let mut with = top.to_vec();
            with.push("families_not_run");
            object(v, "summary", &with)?
        }
        None => object(v, "summary", &top)?,
    };
    let not_run = families_not_run(o)?;
    same(
        "format",
        string(o, "summary", "format")?,
        "dlgeom-summary/1",
    )?;
    same(
        "data_sha256_bytes (the data's)",
        string(o, "summary", "data_sha256_bytes")?,
        &data.sha256_bytes,
    )?;
    same(
        "data_sha256_canonical (the data's)",
        string(o, "summary", "data_sha256_canonical")?,
        &data.sha256_canonical,
    )?;
    let q = count(o, "summary", "classes")?;
    same("classes (the data's Q)", q, data.q)?;
    same(
        "points (the data's N)",
        count(o, "summary", "points")?,
        data.n(),
    )?;
    let l = count(o, "summary", "hidden_layers")?;

    // The configuration rows against the certificates.
    let rows = o["configurations"]
        .as_array()
        .ok_or("configurations: not an array")?;
    let mut ids = BTreeSet::new();
    // (id, family, verdict, cost, descent) per row.
    let mut parsed: Vec<(String, String, String, Option<String>, bool)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let what = format!("configurations[{i}]");
        let r = object(r, &what, &["id", "family", "verdict", "cost", "reason"])?;
        let id = string(r, &what, "id")?;
        let what = format!("configurations[{i}] ({id})");
        if !ids.insert(id.to_string()) {
            return Err(format!("{what}: listed twice"));
        }
        let family = string(r, &what, "family")?;
        if !FAMILIES.contains(&family) {
            return Err(format!("{what}.family: unknown {family:?}"));
        }
        if not_run.contains(&family) {
            return Err(format!(
                "{what}: family {family} is listed in families_not_run"
            ));
        }
        let verdict = string(r, &what, "verdict")?;
        let (cost, reason) = (optional(r, &what, "cost")?, optional(r, &what, "reason")?);
        let beside = certs.get(id).filter(|c| c.hidden_layers == l);
        let mut descent = false;
        if verdict == "infeasible" {
            if cost.is_some() || reason.is_none() {
                return Err(format!(
                    "{what}: an infeasible row has a reason and no cost"
                ));
            }
            if beside.is_some() {
                return Err(format!(
                    "{what}: summary says infeasible, but {id}.json beside it is a certificate of L = {l} hidden layers"
                ));
            }
        } else {
            let (Some(cost), None) = (cost, reason) else {
                return Err(format!("{what}: a built row has a cost and no reason"));
            };
            let c = certs.get(id).ok_or_else(|| {
                format!("{what}: no certificate {id}.json beside it (or it cannot be read as one)")
            })?;
            if !c.accepted {
                return Err(format!("{what}: its certificate {id}.json is rejected"));
            }
            same(&format!("{what}.id ({id}.json)"), id, &c.id)?;
            same(&format!("{what}.family ({id}.json)"), family, &c.family)?;
            same(&format!("{what}.verdict ({id}.json)"), verdict, &c.verdict)?;
            same(&format!("{what}.cost ({id}.json)"), cost, &c.cost)?;
            same(&format!("hidden_layers ({id}.json)"), l, c.hidden_layers)?;
            descent = c.descent;
        }
        parsed.push((
            id.to_string(),
            family.to_string(),
            verdict.to_string(),
            cost.map(str::to_string),
            descent,
        ));
    }
    for (stem, c) in certs {
        if c.family != "imported" && c.hidden_layers == l && !ids.contains(&c.id) {
            return Err(format!(
                "{stem}.json (configuration {}, L = {l}) is not listed in configurations",
                c.id
            ));
        }
    }

    // C3 counts per family, recomputed from the rows (S = ∅, the shallow minimum, counts
    // as partial curation).
    let minimum = |v: &str| matches!(v, "global-minimum" | "local-minimum");
    let tally = |fams: &[&str]| {
        let mut t = [0usize; 6];
        for (_, f, v, _, descent) in parsed.iter().filter(|r| fams.contains(&r.1.as_str())) {
            let _ = f;
            t[0] += 1;
            match v.as_str() {
                "infeasible" => t[4] += 1,
                v if minimum(v) => t[1] += 1,
                "not-a-local-minimum" => {
                    t[2] += 1;
                    t[3] += usize::from(*descent);
                }
                _ => t[5] += 1,
            }
        }
        t
    };
    let keys = [
        "total",
        "certified",
        "refuted",
        "refuted_with_descent_step",
        "infeasible",
        "undecided",
    ];
    let fams = o["c3_families"]
        .as_array()
        .ok_or("c3_families: not an array")?;
    same("c3_families (number of rows)", fams.len(), 2)?;
    let mut partial_certified = 0;
    for (i, (name, members)) in [
        ("partial", &["partial", "shallow"][..]),
        ("grouped", &["grouped"][..]),
    ]
    .into_iter()
    .enumerate()
    {
        let what = format!("c3_families[{i}]");
        let mut all = vec!["family"];
        all.extend(keys);
        let r = object(&fams[i], &what, &all)?;
        same(&format!("{what}.family"), string(r, &what, "family")?, name)?;
        let t = tally(members);
        for (k, n) in keys.iter().zip(t) {
            same(
                &format!("{what}.{k} (recomputed from the configurations)"),
                count(r, &what, k)?,
                n,
            )?;
        }
        if name == "partial" {
            partial_certified = t[1];
        }
    }
    let mut costs: Vec<&str> = (parsed.iter())
        .filter(|r| minimum(&r.2))
        .filter_map(|r| r.3.as_deref())
        .collect();
    costs.sort_unstable();
    // Canonical texts (checked in each certificate) are equal iff the values are.
    let distinct = costs.windows(2).all(|w| w[0] != w[1]);
    same(
        "certified_costs_distinct (recomputed)",
        o["certified_costs_distinct"].as_bool(),
        Some(distinct),
    )?;

    // Claim statuses.
    let mut expected: Vec<(&str, &str)> = Vec::new();
    if not_run.contains(&"global") {
        expected.extend([("C1", "not-run"), ("C2", "not-run"), ("C4", "not-run")]);
    }
    if let Some(g) = parsed.iter().find(|r| r.0 == "global") {
        match g.2.as_str() {
            "global-minimum" => {
                let dim = certs.get("global").and_then(|c| c.kernel_dim).unwrap_or(0);
                expected.push(("C1", "certified"));
                expected.push((
                    "C2",
                    if dim > 0 {
                        "certified"
                    } else {
                        "not-certified"
                    },
                ));
                expected.push(("C4", "certified"));
            }
            "infeasible" => {
                expected.push((
                    "C1",
                    if l < q {
                        "not-applicable"
                    } else {
                        "not-certified"
                    },
                ));
                expected.push(("C2", "not-applicable"));
                expected.push(("C4", "not-applicable"));
            }
            _ => {
                expected.push(("C1", "not-certified"));
                expected.push(("C2", "not-applicable"));
                expected.push(("C4", "not-applicable"));
            }
        }
    }
    let target = (1u128 << q.min(127)) - 1;
    let c3 = partial_certified as u128 >= target && distinct;
    let c3_not_run = ["shallow", "partial", "grouped"]
        .iter()
        .any(|f| not_run.contains(f));
    expected.push((
        "C3",
        match () {
            _ if c3_not_run => "not-run",
            _ if c3 => "certified",
            _ => "not-certified",
        },
    ));
    expected.sort();
    let claims = o["claims"].as_array().ok_or("claims: not an array")?;
    same("claims (number of rows)", claims.len(), expected.len())?;
    for (i, (c, (name, status))) in claims.iter().zip(&expected).enumerate() {
        let what = format!("claims[{i}]");
        let c = object(c, &what, &["claim", "status", "detail"])?;
        string(c, &what, "detail")?;
        same(&format!("{what}.claim"), string(c, &what, "claim")?, name)?;
        same(
            &format!("{what}.status ({name}, recomputed)"),
            string(c, &what, "status")?,
            status,
        )?;
    }
    Ok(format!(
        "{} configurations, C3 counts, cost distinctness and claim statuses match the data and the certificates beside it",
        rows.len()
    ))
}
