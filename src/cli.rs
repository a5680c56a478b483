//! The commands behind the `dlgeom-cert` binary. Each returns what to print and the exit
//! code; `main.rs` only parses arguments and prints.
//!
//! Exit codes (PRODUCT.md): `0` every claim made is certified / certificate accepted;
//! `1` a claim failed (e.g. C1 on data that is not sequentially cone-separable) or a
//! certificate was rejected; `2` bad input or usage (nothing is written).

use crate::checker::{self, Backend};
use crate::data::{DataLimits, Dataset};
use crate::network::Normalisation;
use crate::report::{render, summarise};
use crate::verify::{run, run_with_progress, Options, Outcome};
use std::fs;
use std::io::IsTerminal;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What a command prints and its exit code.
#[derive(Debug, Default)]
pub struct Output {
    /// Text for standard output.
    pub stdout: String,
    /// Text for standard error.
    pub stderr: String,
    /// Process exit code.
    pub code: i32,
}

impl Output {
    /// A bad-input / usage failure (exit 2).
    pub fn bad_input(msg: impl Into<String>) -> Output {
        Output {
            stderr: format!("error: {}\n", msg.into()),
            code: 2,
            ..Output::default()
        }
    }
}

/// Options of `verify`.
#[derive(Debug, Clone)]
pub struct VerifyArgs {
    /// Data file (JSON or CSV).
    pub data: PathBuf,
    /// Hidden layers (default `Q`).
    pub layers: Option<usize>,
    /// Output folder.
    pub out: PathBuf,
    /// Overwrite existing certificates.
    pub force: bool,
    /// Cost normalisation.
    pub norm: Normalisation,
    /// Enumerate all set partitions when `Q ≤` this.
    pub partition_limit: usize,
    /// Machine-readable summary on stdout.
    pub json: bool,
    /// Only the verdict lines.
    pub quiet: bool,
    /// Skip re-checking the written certificates with the independent checker.
    pub no_self_check: bool,
    /// Data limits.
    pub limits: DataLimits,
}

/// Load data or produce the exit-2 output.
pub fn load_data(path: &Path, limits: &DataLimits) -> Result<Dataset, Output> {
    Dataset::load(path, limits).map_err(|e| Output::bad_input(e.to_string()))
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename), so
/// an interrupted run never leaves a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// `dlgeom-cert verify`.
pub fn verify(args: &VerifyArgs) -> Output {
    let data = match load_data(&args.data, &args.limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let layers = args.layers.unwrap_or(data.q);
    if layers == 0 {
        return Output::bad_input("--layers must be at least 1");
    }
    // Before any work: certificates whose numbers would exceed the digit limit.
    if let Err(e) = crate::verify::check_data_size(&data, args.limits.number.max_digits) {
        return Output::bad_input(format!("{}: {e}", args.data.display()));
    }
    let opts = Options {
        layers,
        norm: args.norm,
        partition_limit: args.partition_limit,
    };
    let result = if !args.quiet && !args.json && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} configurations {wide_bar} {elapsed}",
            )
            .expect("valid template"),
        );
        let r = run_with_progress(&data, &opts, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        r
    } else {
        run(&data, &opts)
    };
    let summary = summarise(&data, &result);

    // Refuse to overwrite unless --force.
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for e in &result.entries {
        if let Outcome::Built(b) = &e.outcome {
            files.push((
                args.out.join(format!("{}.json", e.plan.id())),
                b.certificate.to_json(),
            ));
        }
    }
    let mut summary_json = serde_json::to_string_pretty(&summary).expect("summary serializes");
    summary_json.push('\n');
    files.push((args.out.join("summary.json"), summary_json.clone()));
    if !args.force {
        if let Some((p, _)) = files.iter().find(|(p, _)| p.exists()) {
            return Output::bad_input(format!(
                "{} exists; use --force to overwrite, or --out to choose another folder",
                p.display()
            ));
        }
    }
    if let Err(e) = fs::create_dir_all(&args.out) {
        return Output::bad_input(format!("cannot create {}: {e}", args.out.display()));
    }
    for (p, text) in &files {
        if let Err(e) = write_atomic(p, text.as_bytes()) {
            return Output::bad_input(format!("cannot write {}: {e}", p.display()));
        }
    }

    // Self-check: the independent checker re-verifies every certificate written.
    // In parallel over certificates; `collect` keeps the run order.
    let mut rejected = Vec::new();
    if !args.no_self_check {
        use rayon::prelude::*;
        let checker = checker::Checker::new(&data, Backend::Malachite);
        rejected = (result.entries.par_iter())
            .filter_map(|e| match &e.outcome {
                Outcome::Built(b) => {
                    let rep = checker.check(&b.certificate);
                    let why = || format!("{}: {}", e.plan.id(), first_failure(&rep));
                    (!rep.accepted()).then(why)
                }
                Outcome::Infeasible(_) => None,
            })
            .collect();
    }
    let c1_failed = summary
        .claims
        .iter()
        .any(|c| c.claim == "C1" && c.status == "not-certified");
    let code = if !rejected.is_empty() || c1_failed {
        1
    } else {
        0
    };

    let mut out = Output {
        code,
        ..Output::default()
    };
    if args.json {
        out.stdout = summary_json;
    } else if args.quiet {
        for c in &summary.claims {
            out.stdout.push_str(&format!("{} {}\n", c.claim, c.status));
        }
    } else {
        out.stdout
            .push_str(&format!("dlgeom-cert verify {}\n", args.data.display()));
        out.stdout.push_str(&render(&summary));
        out.stdout.push_str(&format!(
            "\n{} certificates and summary.json written to {}{}\n",
            files.len() - 1,
            args.out.display(),
            if args.no_self_check {
                ""
            } else {
                " (each re-checked by the independent checker)"
            }
        ));
    }
    for r in &rejected {
        out.stderr.push_str(&format!("self-check REJECTED {r}\n"));
    }
    out
}

/// `dlgeom-cert check`.
pub fn check(
    cert: &Path,
    data_path: &Path,
    backend: Backend,
    limits: &DataLimits,
    quiet: bool,
    json: bool,
) -> Output {
    let data = match load_data(data_path, limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    if !cert.exists() {
        return Output::bad_input(format!("{}: no such file or folder", cert.display()));
    }
    let results = checker::check_path(cert, &data, backend);
    let mut out = Output::default();
    let mut all_ok = true;
    let mut any = false;
    let mut rows = Vec::new();
    for (path, res) in results {
        match res {
            Ok(rep) if rep.skipped.is_some() => {
                if !quiet {
                    out.stdout.push_str(&format!(
                        "SKIPPED  {}: {}\n",
                        path.display(),
                        first_failure(&rep)
                    ));
                }
            }
            Ok(rep) => {
                any = true;
                let ok = rep.accepted();
                all_ok &= ok;
                let detail = if ok {
                    String::new()
                } else {
                    first_failure(&rep)
                };
                if !quiet || !ok {
                    out.stdout.push_str(&format!(
                        "{} {}{}\n",
                        if ok { "ACCEPTED" } else { "REJECTED" },
                        path.display(),
                        if ok {
                            String::new()
                        } else {
                            format!(": {detail}")
                        }
                    ));
                }
                rows.push(serde_json::json!({"file": path.display().to_string(), "accepted": ok, "detail": detail}));
            }
            Err(e) => {
                any = true;
                all_ok = false;
                out.stdout
                    .push_str(&format!("REJECTED {}: {e}\n", path.display()));
                rows.push(serde_json::json!({"file": path.display().to_string(), "accepted": false, "detail": e}));
            }
        }
    }
    if !any {
        return Output::bad_input(format!(
            "{}: no dlgeom-cert/1 certificate found",
            cert.display()
        ));
    }
    if json {
        out.stdout = serde_json::to_string_pretty(&rows).expect("json") + "\n";
    }
    out.code = if all_ok { 0 } else { 1 };
    out
}

/// `dlgeom-cert gen`.
pub fn gen(
    q: usize,
    per_class: usize,
    spread: &str,
    seed: u64,
    out: Option<&Path>,
    force: bool,
) -> Output {
    if q == 0 || q > 64 {
        return Output::bad_input(format!("--classes must be between 1 and 64, got {q}"));
    }
    if per_class == 0 {
        return Output::bad_input("--per-class must be at least 1");
    }
    let spread = match crate::arith::Rat::parse(spread) {
        Ok(s) => s,
        Err(e) => return Output::bad_input(format!("--spread: {e}")),
    };
    let data = crate::gen::generate(q, per_class, &spread, seed);
    let text = data.to_json_pretty();
    match out {
        None => Output {
            stdout: text,
            ..Output::default()
        },
        Some(p) => {
            if p.exists() && !force {
                return Output::bad_input(format!(
                    "{} exists; use --force to overwrite",
                    p.display()
                ));
            }
            match write_atomic(p, text.as_bytes()) {
                Ok(()) => Output {
                    stderr: format!(
                        "wrote {} ({} classes × {} points)\n",
                        p.display(),
                        q,
                        per_class
                    ),
                    ..Output::default()
                },
                Err(e) => Output::bad_input(format!("cannot write {}: {e}", p.display())),
            }
        }
    }
}

/// The first failed check of a report, as one line.
pub fn first_failure(rep: &checker::Report) -> String {
    if let Some(s) = &rep.skipped {
        return format!("skipped: {s}");
    }
    rep.failures()
        .next()
        .map(|c| format!("{}: {}", c.name, c.detail))
        .unwrap_or_else(|| "no checks were run".to_string())
}

/// `dlgeom-cert schema`: the JSON Schemas of the data and certificate formats.
pub fn schema() -> Output {
    let v = serde_json::json!({
        "data": crate::cert::data_schema(),
        "certificate": crate::cert::certificate_schema(),
    });
    Output {
        stdout: serde_json::to_string_pretty(&v).expect("json") + "\n",
        ..Output::default()
    }
}

/// The certificate files (name, bytes) of one `verify` run with `L = Q`, plus `summary.json`,
/// and the rendered claim table.
fn archive_files(data: &Dataset) -> (Vec<(String, String)>, String, Vec<crate::cert::Certificate>) {
    let opts = Options {
        layers: data.q,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
    };
    let result = run(data, &opts);
    let summary = summarise(data, &result);
    let mut files = Vec::new();
    let mut certs = Vec::new();
    for e in &result.entries {
        if let Outcome::Built(b) = &e.outcome {
            files.push((format!("{}.json", e.plan.id()), b.certificate.to_json()));
            certs.push(b.certificate.clone());
        }
    }
    files.push((
        "summary.json".to_string(),
        serde_json::to_string_pretty(&summary).expect("summary serializes") + "\n",
    ));
    files.sort();
    (files, render(&summary), certs)
}

/// `dlgeom-cert reproduce`: regenerate the certificates of every bundled data set
/// (`ROOT/examples/*.json`) into a temporary folder, compare them byte for byte with the
/// archive `ROOT/certificates/<example>/`, re-check every certificate with the independent
/// checker, and print the claim table of each data set. With `update`, rewrite the archive
/// instead of comparing (to be done on purpose, when a change of results is intended).
pub fn reproduce(root: &Path, update: bool, backend: Backend, quiet: bool) -> Output {
    let examples = root.join("examples");
    let archive = root.join("certificates");
    let mut names: Vec<PathBuf> = match fs::read_dir(&examples) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect(),
        Err(e) => {
            return Output::bad_input(format!(
                "{}: {e} (run from the repository root or pass --root)",
                examples.display()
            ))
        }
    };
    names.sort();
    if names.is_empty() {
        return Output::bad_input(format!("{}: no *.json data files", examples.display()));
    }
    let tmp = std::env::temp_dir().join(format!("dlgeom-reproduce-{}", std::process::id()));
    let mut out = Output::default();
    let mut problems = Vec::new();
    for path in &names {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let data = match load_data(path, &DataLimits::default()) {
            Ok(d) => d,
            Err(o) => return o,
        };
        let (files, table, certs) = archive_files(&data);
        let target = if update {
            archive.join(&stem)
        } else {
            tmp.join(&stem)
        };
        if update && target.exists() {
            if let Err(e) = fs::remove_dir_all(&target) {
                return Output::bad_input(format!("cannot clear {}: {e}", target.display()));
            }
        }
        if let Err(e) = fs::create_dir_all(&target) {
            return Output::bad_input(format!("cannot create {}: {e}", target.display()));
        }
        for (name, text) in &files {
            if let Err(e) = write_atomic(&target.join(name), text.as_bytes()) {
                return Output::bad_input(format!(
                    "cannot write {}: {e}",
                    target.join(name).display()
                ));
            }
        }
        // Byte-for-byte comparison with the archive.
        if !update {
            let dir = archive.join(&stem);
            let mut archived: Vec<String> = fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(|e| e.ok())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.ends_with(".json"))
                        .collect()
                })
                .unwrap_or_default();
            archived.sort();
            let produced: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
            if archived != produced {
                problems.push(format!(
                    "{stem}: archived files {:?} differ from regenerated {:?}",
                    archived, produced
                ));
            }
            for (name, text) in &files {
                match fs::read(dir.join(name)) {
                    Ok(bytes) if bytes == text.as_bytes() => {}
                    Ok(_) => problems.push(format!(
                        "{stem}/{name}: regenerated certificate differs from the archive (compare {} with {})",
                        tmp.join(&stem).join(name).display(),
                        dir.join(name).display()
                    )),
                    Err(_) => {}
                }
            }
        }
        // Independent re-check of every certificate.
        let mut accepted = 0;
        let reports: Vec<checker::Report> = {
            use rayon::prelude::*;
            let checker = checker::Checker::new(&data, backend);
            (certs.par_iter()).map(|c| checker.check(c)).collect()
        };
        for (c, rep) in certs.iter().zip(reports) {
            if rep.accepted() {
                accepted += 1;
            } else {
                problems.push(format!(
                    "{stem}/{}.json rejected: {}",
                    c.configuration.id,
                    first_failure(&rep)
                ));
            }
        }
        if !quiet {
            out.stdout.push_str(&format!(
                "== {} ({} certificates, {} accepted by the checker)\n",
                path.display(),
                certs.len(),
                accepted
            ));
            out.stdout.push_str(&table);
            out.stdout.push('\n');
        }
    }
    if problems.is_empty() {
        let _ = fs::remove_dir_all(&tmp);
        out.stdout.push_str(if update {
            "archive rewritten; every certificate accepted by the checker\n"
        } else {
            "reproduced: every certificate is byte-identical to the archive and accepted by the checker\n"
        });
        out.code = 0;
    } else {
        for p in &problems {
            out.stderr.push_str(&format!("{p}\n"));
        }
        out.stderr.push_str("(if the change of results is intended, regenerate the archive with `dlgeom-cert reproduce --update`)\n");
        out.code = 1;
    }
    out
}

/// `dlgeom-cert plot`: the curation picture of [`crate::plot`] as an SVG file.
pub fn plot(
    data_path: &Path,
    layers: Option<usize>,
    out: &Path,
    force: bool,
    limits: &DataLimits,
) -> Output {
    let data = match load_data(data_path, limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    if out.exists() && !force {
        return Output::bad_input(format!(
            "{} exists; use --force to overwrite",
            out.display()
        ));
    }
    match crate::plot::plot_svg(&data, layers.unwrap_or(data.q)) {
        Ok(svg) => match write_atomic(out, svg.as_bytes()) {
            Ok(()) => Output {
                stderr: format!("wrote {}\n", out.display()),
                ..Output::default()
            },
            Err(e) => Output::bad_input(format!("cannot write {}: {e}", out.display())),
        },
        Err(e) => Output::bad_input(e),
    }
}

/// `dlgeom-cert certify --network NET DATA`: the §8 certificate for a network given by the
/// user (exact JSON weights or `.safetensors` read at their exact binary values). Exit 0 when
/// the network is a certified local (or global) minimum, 1 otherwise (the report then shows
/// the exact gradient or the gap), 2 on bad input.
pub fn certify(
    net_path: &Path,
    data_path: &Path,
    out: Option<&Path>,
    force: bool,
    norm: Normalisation,
    json: bool,
    limits: &DataLimits,
) -> Output {
    let data = match load_data(data_path, limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let net = match crate::netio::load_network(net_path) {
        Ok(n) => n,
        Err(e) => return Output::bad_input(format!("{}: {e}", net_path.display())),
    };
    if net.width() != data.q {
        return Output::bad_input(format!(
            "{}: the network has width {} but the data has Q = {} classes",
            net_path.display(),
            net.width(),
            data.q
        ));
    }
    if let Some(p) = out {
        if p.exists() && !force {
            return Output::bad_input(format!("{} exists; use --force to overwrite", p.display()));
        }
    }
    let analysis = crate::certify::analyse(&net, &data, norm);
    let cert = crate::verify::imported_certificate(&data, norm, &net, &analysis);
    let rep = checker::check(&cert, &data, Backend::Malachite);
    let mut o = Output::default();
    if let Some(p) = out {
        if let Err(e) = write_atomic(p, cert.to_json().as_bytes()) {
            return Output::bad_input(format!("cannot write {}: {e}", p.display()));
        }
    }
    let c = &cert.claims;
    if json {
        o.stdout = cert.to_json();
    } else {
        o.stdout.push_str(&format!("verdict: {}\n", c.verdict));
        o.stdout.push_str(&format!(
            "cost: {} (f64 {:e})\n",
            c.cost,
            cert.float_check.cost_f64.unwrap_or(f64::NAN)
        ));
        o.stdout.push_str(&format!(
            "margin: {} at class {}, point {}, layer {}, neuron {}\n",
            c.margin.value, c.margin.class, c.margin.point, c.margin.layer, c.margin.neuron
        ));
        match (&c.gradient, c.gradient_zero) {
            (_, true) => o.stdout.push_str("gradient: exactly zero\n"),
            (Some(g), false) => {
                let nz = g.iter().filter(|x| *x != "0").count();
                o.stdout.push_str(&format!(
                    "gradient: NOT zero ({nz} of {} entries nonzero; exact entries in the certificate; f64 max |entry| {:e})\n",
                    g.len(),
                    cert.float_check.max_abs_gradient_f64.unwrap_or(f64::NAN)
                ));
            }
            (None, false) => o
                .stdout
                .push_str("gradient: not defined (a pre-activation is exactly 0)\n"),
        }
        if let Some(r) = &c.pattern_region {
            o.stdout.push_str(&format!(
                "pattern groups: {}; sum of least-squares bounds {}; gap {} ({})\n",
                r.groups.len(),
                r.sum,
                r.gap,
                if r.certified {
                    "certified local minimum"
                } else {
                    "not certified"
                }
            ));
        }
        if let Some(d) = &c.descent {
            o.stdout.push_str(&format!(
                "descent step t = {} along {} lowers the cost to {}\n",
                d.step,
                if d.direction == "gradient" {
                    "−∇C"
                } else {
                    "−∂C/∂b_1"
                },
                crate::report::shorten(&d.cost_after)
            ));
        }
        if let Some(p) = out {
            o.stdout
                .push_str(&format!("certificate written to {}\n", p.display()));
        }
    }
    if !rep.accepted() {
        o.stderr
            .push_str(&format!("self-check REJECTED: {}\n", first_failure(&rep)));
        o.code = 1;
        return o;
    }
    o.code = if matches!(c.verdict.as_str(), "global-minimum" | "local-minimum") {
        0
    } else {
        1
    };
    o
}

/// `dlgeom-cert export CERT --out weights.safetensors`: f64 and f32 safetensors (and optional
/// `.npy`) named like a PyTorch `nn.Sequential` state dict.
pub fn export(input: &Path, out: &Path, npy: bool, force: bool) -> Output {
    match crate::netio::export(input, out, npy, force) {
        Ok(paths) => Output {
            stdout: paths
                .iter()
                .map(|p| format!("wrote {}\n", p.display()))
                .collect(),
            ..Output::default()
        },
        Err(e) => Output::bad_input(e),
    }
}
