//! `dlgeom-bench`: times the library pieces behind `verify` and `check` on one data file and
//! prints one JSON line per measurement (driven by `scripts/bench/run.sh`, which writes
//! `BENCHMARKS.md`). Not a test: it asserts nothing about time.
//!
//! ```text
//! dlgeom-bench MODE DATA [--layers L] [--repeat K] [--budget SECONDS] [--network-out FILE]
//! ```
//!
//! Modes (each timed with `std::time::Instant`, median of up to `K` runs; repetitions stop
//! early once `--budget` seconds have been spent, but at least one run is always made):
//! - `eval`: exact evaluation (cost, gradient, margin, patterns) of the global-minimizer
//!   network, [`Network::evaluate_exact`](dlgeom_cert::network::Network::evaluate_exact); also the same evaluation in `f64`
//!   (`eval-f64` line). The network is built once, untimed; `--network-out` writes it as
//!   JSON ([`network_record`]) for the Python references in `scripts/bench/`.
//! - `global`: [`verify::run_plan`] of the global plan (build + analyse + certificate), with the
//!   split build / analyse / certificate of each run.
//! - `families`: [`run_plan_with`] (data scaled and the shared cones built once, as `verify`
//!   does) of every partial-curation and grouped plan (all plans of [`all_plans`] except
//!   shallow and global), in parallel as `verify` does.
//! - `verify`: [`verify::run`], all families (no files written, no self-check).
//! - `check`: [`checker::Checker::check`] (malachite backend) of every certificate of one
//!   [`verify::run`] (the run itself is untimed); `check-num`: the same with the num backend.
//!
//! Output line: `{"mode":..,"q":..,"n":..,"layers":..,"runs":..,"median_s":..,"min_s":..,
//! "times_s":[..], ...}` plus mode-specific fields.

use dlgeom_cert::checker::{self, Backend};
use dlgeom_cert::construct::{build, plans, shared_cones, Family};
use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::fastexact::ExactData;
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::{
    self, all_plans, certificate, network_record, run_plan_with, Options, Outcome,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: dlgeom-bench eval|global|families|verify|check|check-num DATA [--layers L] [--repeat K] [--budget SECONDS] [--network-out FILE]";

struct Args {
    mode: String,
    data: PathBuf,
    layers: Option<usize>,
    repeat: usize,
    budget: f64,
    network_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or(USAGE)?;
    let data = PathBuf::from(it.next().ok_or(USAGE)?);
    let mut a = Args {
        mode,
        data,
        layers: None,
        repeat: 3,
        budget: f64::INFINITY,
        network_out: None,
    };
    while let Some(flag) = it.next() {
        let v = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {v}: {e}");
        match flag.as_str() {
            "--layers" => a.layers = Some(v.parse().map_err(|e| bad(&e))?),
            "--repeat" => a.repeat = v.parse::<usize>().map_err(|e| bad(&e))?.max(1),
            "--budget" => a.budget = v.parse().map_err(|e| bad(&e))?,
            "--network-out" => a.network_out = Some(PathBuf::from(v)),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(a)
}

/// Seconds of every run of `f` (at least one, at most `repeat`, stopping once `budget`
/// seconds are spent); `f` returns a value kept alive until the clock stops.
fn time_runs<T>(repeat: usize, budget: f64, mut f: impl FnMut() -> T) -> Vec<f64> {
    let mut times = Vec::new();
    let mut spent = 0.0;
    while times.len() < repeat && (times.is_empty() || spent < budget) {
        let t0 = Instant::now();
        let out = f();
        let dt = t0.elapsed().as_secs_f64();
        drop(out);
        times.push(dt);
        spent += dt;
    }
    times
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

/// The common fields of one measurement line.
fn line(mode: &str, data: &Dataset, layers: usize, times: &[f64]) -> Value {
    json!({
        "mode": mode,
        "q": data.q,
        "n": data.n(),
        "layers": layers,
        "runs": times.len(),
        "median_s": median(times),
        "min_s": times.iter().copied().fold(f64::INFINITY, f64::min),
        "times_s": times,
    })
}

fn emit(mut v: Value, extra: Value) {
    if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
        m.extend(e);
    }
    // A closed pipe (e.g. `| head -1`) ends the run quietly instead of panicking.
    use std::io::Write;
    if writeln!(std::io::stdout().lock(), "{v}").is_err() {
        std::process::exit(0);
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dlgeom-bench: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main() -> Result<(), String> {
    let a = parse_args()?;
    let data = Dataset::load(&a.data, &DataLimits::default()).map_err(|e| e.to_string())?;
    let q = data.q;
    let layers = a.layers.unwrap_or(q);
    let opts = Options {
        layers,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
    };
    let (k, budget) = (a.repeat, a.budget);
    match a.mode.as_str() {
        "eval" => {
            let c = build(&data, layers, &plans::global(q))
                .map_err(|e| format!("global plan not buildable: {e:?}"))?;
            let net = &c.network;
            if let Some(p) = &a.network_out {
                let text = serde_json::to_string_pretty(&network_record(net))
                    .map_err(|e| e.to_string())?;
                std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            let mut last = None;
            let times = time_runs(k, budget, || {
                last = Some(net.evaluate_exact(&data, opts.norm));
            });
            let e = last.expect("at least one run");
            let grad = e.gradient.as_ref();
            emit(
                line("eval", &data, layers, &times),
                json!({
                    "cost": e.cost.canonical(),
                    "margin": e.margin.as_ref().map(|m| m.0.canonical()),
                    "gradient_zero": grad.map(|g| g.iter().all(|x| x.is_zero())),
                    "max_abs_gradient": grad.map(|g| g.iter().map(|x| x.abs().to_f64()).fold(0.0, f64::max)),
                    "parameters": net.param_count(),
                    "max_weight_bits": net.max_bits(),
                }),
            );
            let mut lastf = None;
            let times = time_runs(k, budget, || {
                lastf = Some(net.evaluate::<f64>(&data, opts.norm));
            });
            let f = lastf.expect("at least one run");
            emit(
                line("eval-f64", &data, layers, &times),
                json!({ "cost": f.cost, "margin": f.margin.map(|m| m.0) }),
            );
        }
        "global" => {
            let plan = plans::global(q);
            let (mut tb, mut ta, mut tc) = (Vec::new(), Vec::new(), Vec::new());
            let mut verdict = String::new();
            let times = time_runs(k, budget, || {
                let t0 = Instant::now();
                let c = build(&data, layers, &plan);
                tb.push(t0.elapsed().as_secs_f64());
                let Ok(c) = c else {
                    verdict = "infeasible".into();
                    return;
                };
                let t1 = Instant::now();
                let an = dlgeom_cert::certify::analyse(&c.network, &data, opts.norm);
                ta.push(t1.elapsed().as_secs_f64());
                let t2 = Instant::now();
                let cert = certificate(&data, &opts, &c, &an);
                tc.push(t2.elapsed().as_secs_f64());
                verdict = cert.claims.verdict.clone();
            });
            let med = |v: &[f64]| (!v.is_empty()).then(|| median(v));
            emit(
                line("global", &data, layers, &times),
                json!({
                    "verdict": verdict,
                    "build_median_s": med(&tb),
                    "analyse_median_s": med(&ta),
                    "certificate_median_s": med(&tc),
                }),
            );
        }
        "families" => {
            use rayon::prelude::*;
            let fam: Vec<_> = all_plans(q, opts.partition_limit)
                .into_iter()
                .filter(|p| matches!(p.family, Family::Partial | Family::Grouped))
                .collect();
            let mut built = 0;
            let times = time_runs(k, budget, || {
                let fx = ExactData::new(&data);
                let fixed = shared_cones(&data, fx.class_stats());
                let out: Vec<Outcome> = fam
                    .par_iter()
                    .map(|p| run_plan_with(&fx, fixed.as_deref(), &opts, p))
                    .collect();
                built = out
                    .iter()
                    .filter(|o| matches!(o, Outcome::Built(_)))
                    .count();
                out
            });
            emit(
                line("families", &data, layers, &times),
                json!({ "configurations": fam.len(), "built": built }),
            );
        }
        "verify" => {
            let mut n = (0, 0);
            let times = time_runs(k, budget, || {
                let r = verify::run(&data, &opts);
                n = (
                    r.entries.len(),
                    r.entries
                        .iter()
                        .filter(|e| matches!(e.outcome, Outcome::Built(_)))
                        .count(),
                );
                r
            });
            emit(
                line("verify", &data, layers, &times),
                json!({ "configurations": n.0, "built": n.1 }),
            );
        }
        mode @ ("check" | "check-num") => {
            let backend = if mode == "check" {
                Backend::Malachite
            } else {
                Backend::Num
            };
            let r = verify::run(&data, &opts);
            let certs: Vec<_> = r
                .entries
                .iter()
                .filter_map(|e| match &e.outcome {
                    Outcome::Built(b) => Some(&b.certificate),
                    Outcome::Infeasible(_) => None,
                })
                .collect();
            let mut accepted = 0;
            let times = time_runs(k, budget, || {
                let checker = checker::Checker::new(&data, backend);
                accepted = certs.iter().filter(|c| checker.check(c).accepted()).count();
            });
            emit(
                line(mode, &data, layers, &times),
                json!({ "certificates": certs.len(), "accepted": accepted }),
            );
        }
        other => return Err(format!("unknown mode {other}\n{USAGE}")),
    }
    Ok(())
}
