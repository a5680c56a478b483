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
use crate::verify::{configuration_counts, run, run_selected, Families, Options, Outcome};
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
    /// The families to run (`--families`).
    pub families: Families,
    /// Refuse when the chosen families have more configurations than this
    /// (`--max-configurations`).
    pub max_configurations: u64,
    /// Refuse a larger `--layers` (`--max-layers`).
    pub max_layers: usize,
    /// The limits every written certificate must obey, the ones `check` reads it under
    /// (derive them from the same flags: [`checker::CertLimits::new`]).
    pub cert_limits: checker::CertLimits,
}

pub use crate::checker::DEFAULT_MAX_LAYERS;

/// Default of `--max-configurations`: the largest number of configurations `verify` builds
/// without being asked (every one is built, analysed exactly, and kept as a certificate;
/// `Q = 12` has 4,094 partial candidates alone).
pub const DEFAULT_MAX_CONFIGURATIONS: u64 = 4096;

/// `--layers L` against `--max-layers`: the exit-2 output when `L` is 0 or too large.
pub fn check_layers(layers: usize, max_layers: usize, what: &str) -> Result<(), Output> {
    if layers == 0 {
        return Err(Output::bad_input(format!("{what} must be at least 1")));
    }
    if layers > max_layers {
        return Err(Output::bad_input(format!(
            "{what} = {layers} exceeds the limit of {max_layers} hidden layers; raise it with --max-layers (time and memory grow with L)"
        )));
    }
    Ok(())
}

/// The configuration counts of a `verify` run, one line: `shallow 1, global 1, partial
/// 65534, grouped 65519 (not run: …); total 131055`.
pub fn describe_counts(q: usize, partition_limit: usize, families: Families) -> (String, u128) {
    let counts = configuration_counts(q, partition_limit);
    let mut total = num_bigint::BigUint::default();
    let mut parts = Vec::new();
    for (f, n) in &counts {
        if families.contains(*f) {
            total += n;
            parts.push(format!("{} {n}", f.name()));
        } else {
            parts.push(format!("{} {n} (not run)", f.name()));
        }
    }
    let t = u128::try_from(&total).unwrap_or(u128::MAX);
    (format!("{}; total {total}", parts.join(", ")), t)
}

/// Load data or produce the exit-2 output.
pub fn load_data(path: &Path, limits: &DataLimits) -> Result<Dataset, Output> {
    Dataset::load(path, limits).map_err(|e| Output::bad_input(e.to_string()))
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename), so
/// an interrupted run never leaves a partial file. On error the temporary file is removed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_beside(path);
    let r = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if r.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    r
}

/// `.NAME.tmp-PID` in the folder of `path` (same file system, so a rename moves it).
fn temp_beside(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.tmp-{}", std::process::id()))
}

/// Create (truncate) `path`, write `bytes` and flush them to disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// The staging folder of `verify --out OUT`: `.NAME.staging-PID` beside `OUT` (same file
/// system), or `.dlgeom-staging-PID` inside `OUT` when `OUT` has no name of its own (`.`,
/// `/`, a path ending in `..`) or its parent folder is not writable. Created empty (with
/// its parent folders).
fn staging_folder(out: &Path) -> std::io::Result<PathBuf> {
    let abs = std::path::absolute(out)?;
    let tag = format!("staging-{}", std::process::id());
    let make = |stage: PathBuf| -> std::io::Result<PathBuf> {
        if let Some(parent) = stage.parent() {
            fs::create_dir_all(parent)?;
        }
        if stage.exists() {
            fs::remove_dir_all(&stage)?;
        }
        fs::create_dir(&stage)?;
        Ok(stage)
    };
    let inside = abs.join(format!(".dlgeom-{tag}"));
    match (abs.parent(), abs.file_name()) {
        (Some(parent), Some(name)) => {
            make(parent.join(format!(".{}.{tag}", name.to_string_lossy())))
                .or_else(|_| make(inside))
        }
        _ => make(inside),
    }
}

/// Move the staged `names` (in this order) from `stage` into `out`: the whole folder in one
/// rename when `out` does not exist yet, else file by file (each rename replaces the file
/// of that name), then the empty staging folder is removed.
fn move_into_place(stage: &Path, out: &Path, names: &[String]) -> std::io::Result<()> {
    if !out.exists() && fs::rename(stage, out).is_ok() {
        return Ok(());
    }
    fs::create_dir_all(out)?;
    for n in names {
        fs::rename(stage.join(n), out.join(n))?;
    }
    fs::remove_dir(stage)
}

/// `dlgeom-cert verify`: build every configuration, write its certificate and `summary.json`
/// into `--out`. Unless `--no-self-check`, the files are written to a staging folder beside
/// `--out`, re-read from disk and checked there by the independent checker under
/// `cert_limits` (each certificate, and `summary.json` against them), and moved into
/// `--out` only when every one is accepted; on any rejection nothing is moved (the staging
/// folder is removed), the rejected files are named on standard error, and the exit code is
/// 1. A certificate beyond `cert_limits` is refused before anything is written (exit 2).
pub fn verify(args: &VerifyArgs) -> Output {
    verify_with(args, &|_| {})
}

/// [`verify`], calling `after_write` with the staging folder once every file is written
/// there and before any is re-read (tests use it to alter the bytes on disk, to see that the
/// self-check reads them and that nothing rejected reaches `--out`). Not called with
/// `--no-self-check`.
pub fn verify_with(args: &VerifyArgs, after_write: &dyn Fn(&Path)) -> Output {
    let data = match load_data(&args.data, &args.limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    let layers = args.layers.unwrap_or(data.q);
    if let Err(o) = check_layers(layers, args.max_layers, "--layers") {
        return o;
    }
    // How many configurations, before any is built.
    let (counts, total) = describe_counts(data.q, args.partition_limit, args.families);
    if total > u128::from(args.max_configurations) {
        return Output::bad_input(format!(
            "Q = {} classes give {counts} configurations, more than --max-configurations {}; choose families with --families (e.g. --families global,shallow) or raise --max-configurations (each configuration is built, analysed exactly and written as a certificate)",
            data.q, args.max_configurations
        ));
    }
    if !args.quiet && !args.json {
        eprintln!("configurations: {counts}");
    }
    // Before any work: certificates whose numbers would exceed the digit limit.
    if let Err(e) = crate::verify::check_data_size(&data, args.cert_limits.max_digits) {
        return Output::bad_input(format!("{}: {e}; nothing was written", args.data.display()));
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
        let r = run_selected(&data, &opts, args.families, &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        r
    } else {
        run_selected(&data, &opts, args.families, &|_, _| {})
    };
    let summary = summarise(&data, &result);

    // Every certificate within the limits the checker reads it under (before anything is
    // written): what `verify` writes, `check` accepts under the same flags.
    let mut files: Vec<(String, String)> = Vec::new();
    for e in &result.entries {
        if let Outcome::Built(b) = &e.outcome {
            if let Err(why) = checker::within_limits(&b.certificate, &args.cert_limits) {
                return Output::bad_input(format!(
                    "certificate {}: {why}; nothing was written",
                    e.plan.id()
                ));
            }
            files.push((format!("{}.json", e.plan.id()), b.certificate.to_json()));
        }
    }
    let mut summary_json = serde_json::to_string_pretty(&summary).expect("summary serializes");
    summary_json.push('\n');
    // summary.json last: moved into place after every certificate.
    files.push(("summary.json".to_string(), summary_json.clone()));
    let names: Vec<String> = files.iter().map(|f| f.0.clone()).collect();
    let certificates = files.len() - 1;

    // Refuse to overwrite unless --force.
    if args.out.exists() && !args.out.is_dir() {
        return Output::bad_input(format!("{} exists and is not a folder", args.out.display()));
    }
    if !args.force {
        if let Some(n) = names.iter().find(|n| args.out.join(n).exists()) {
            return Output::bad_input(format!(
                "{} exists; use --force to overwrite, or --out to choose another folder",
                args.out.join(n).display()
            ));
        }
    }

    // Without the self-check: written in place, each file atomically. With it: written to a
    // staging folder beside --out, re-read from disk and checked there by the independent
    // checker as `check STAGING --data DATA` would (each certificate, and summary.json
    // against them), under the same limits; moved into --out only when everything is
    // accepted. On a rejection nothing is moved and the staging folder is removed.
    let mut rejected = Vec::new();
    if args.no_self_check {
        if let Err(e) = fs::create_dir_all(&args.out) {
            return Output::bad_input(format!("cannot create {}: {e}", args.out.display()));
        }
        for (n, text) in &files {
            let p = args.out.join(n);
            if let Err(e) = write_atomic(&p, text.as_bytes()) {
                return Output::bad_input(format!("cannot write {}: {e}", p.display()));
            }
        }
    } else {
        let stage = match staging_folder(&args.out) {
            Ok(s) => s,
            Err(e) => {
                return Output::bad_input(format!(
                    "cannot create a staging folder beside {}: {e}",
                    args.out.display()
                ))
            }
        };
        let cleanup = |o: Output| {
            let _ = fs::remove_dir_all(&stage);
            o
        };
        for (n, text) in &files {
            if let Err(e) = write_synced(&stage.join(n), text.as_bytes()) {
                return cleanup(Output::bad_input(format!(
                    "cannot write {}: {e}",
                    stage.join(n).display()
                )));
            }
        }
        after_write(&stage);
        let results = checker::check_path_with(&stage, &data, Backend::Malachite, args.cert_limits);
        let seen: Vec<String> = (results.iter())
            .filter_map(|(p, _)| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        for (p, r) in &results {
            let n = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            match r {
                Ok(rep) if rep.accepted() => {}
                Ok(rep) => rejected.push(format!("{n}: {}", first_failure(rep))),
                Err(e) => rejected.push(format!("{n}: {e}")),
            }
        }
        for n in names.iter().filter(|n| !seen.contains(n)) {
            rejected.push(format!(
                "{n}: not found in the staging folder after writing"
            ));
        }
        if rejected.is_empty() {
            if let Err(e) = move_into_place(&stage, &args.out, &names) {
                return cleanup(Output::bad_input(format!(
                    "cannot move the checked files from {} into {}: {e}",
                    stage.display(),
                    args.out.display()
                )));
            }
        } else {
            let _ = fs::remove_dir_all(&stage);
        }
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
    let last = if !rejected.is_empty() {
        format!(
            "NOTHING WRITTEN to {}: the independent checker rejected {} of the {} files re-read from disk ({certificates} certificates and summary.json; listed on standard error), so the claims above are not certified",
            args.out.display(),
            rejected.len(),
            names.len()
        )
    } else if args.no_self_check {
        format!(
            "{certificates} certificates and summary.json written to {} (not re-checked: --no-self-check)",
            args.out.display()
        )
    } else {
        format!(
            "{certificates} certificates and summary.json written to {} (each re-read from disk and re-checked by the independent checker, summary.json against them)",
            args.out.display()
        )
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
        out.stdout.push_str(&format!("\n{last}\n"));
    }
    for r in &rejected {
        out.stderr.push_str(&format!("self-check REJECTED {r}\n"));
    }
    if !rejected.is_empty() {
        out.stderr.push_str(&format!("{last}\n"));
    }
    out
}

/// `dlgeom-cert check`: a certificate, or a folder ([`checker::check_path_with`]: every
/// certificate, `summary.json` against them, look-alikes rejected, other JSON files listed
/// as skipped), under `cert_limits` (derived from the same flags as `limits`). Exit 1 when
/// anything is rejected; `--quiet` prints only rejections; `--json` lists every file, a
/// skipped one as `{"file", "skipped": reason}`.
pub fn check(
    cert: &Path,
    data_path: &Path,
    backend: Backend,
    limits: &DataLimits,
    cert_limits: checker::CertLimits,
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
    let results = checker::check_path_with(cert, &data, backend, cert_limits);
    let mut out = Output::default();
    let mut all_ok = true;
    let mut any = false;
    let mut rows = Vec::new();
    for (path, res) in results {
        match res {
            Ok(rep) if rep.skipped.is_some() => {
                let why = rep.skipped.clone().unwrap_or_default();
                if !quiet {
                    out.stdout
                        .push_str(&format!("SKIPPED  {}: {why}\n", path.display()));
                }
                rows.push(serde_json::json!({"file": path.display().to_string(), "skipped": why}));
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
            "{}: no dlgeom-cert/1 certificate or summary found",
            cert.display()
        ));
    }
    if json {
        out.stdout = serde_json::to_string_pretty(&rows).expect("json") + "\n";
    }
    out.code = if all_ok { 0 } else { 1 };
    out
}

/// `dlgeom-cert gen`: the limits are the reader's ([`DataLimits`]: classes, points, file
/// bytes), checked before anything is allocated, so `gen` never writes a file that `verify`
/// would refuse.
pub fn gen(
    q: usize,
    per_class: usize,
    spread: &str,
    seed: u64,
    out: Option<&Path>,
    force: bool,
    limits: &DataLimits,
) -> Output {
    if let Err(msg) = gen_size_check(q, per_class, limits) {
        return Output::bad_input(msg);
    }
    let spread = match crate::arith::Rat::parse(spread) {
        Ok(s) => s,
        Err(e) => return Output::bad_input(format!("--spread: {e}")),
    };
    let data = crate::gen::generate(q, per_class, &spread, seed);
    let text = data.to_json_pretty();
    if text.len() as u64 > limits.max_file_bytes {
        return Output::bad_input(format!(
            "the generated data would be {} bytes, more than the reader's limit of {} bytes; raise it with --max-file-bytes or generate fewer points",
            text.len(),
            limits.max_file_bytes
        ));
    }
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

/// `gen`'s arguments against the reader's limits: `1 ≤ Q ≤ max_classes` and
/// `1 ≤ per_class` with `Q · per_class ≤ max_points` (checked multiplication).
pub fn gen_size_check(q: usize, per_class: usize, limits: &DataLimits) -> Result<(), String> {
    if q == 0 || q > limits.max_classes {
        return Err(format!(
            "--classes must be between 1 and {} (--max-classes), got {q}",
            limits.max_classes
        ));
    }
    if per_class == 0 {
        return Err("--per-class must be at least 1".to_string());
    }
    match q.checked_mul(per_class) {
        Some(n) if n <= limits.max_points => Ok(()),
        n => Err(format!(
            "--classes {q} × --per-class {per_class} = {} points, more than the limit of {} points; raise it with --max-points",
            n.map_or_else(|| "2^64 or more".to_string(), |n| n.to_string()),
            limits.max_points
        )),
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
    max_layers: usize,
) -> Output {
    let data = match load_data(data_path, limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    if let Err(o) = check_layers(layers.unwrap_or(data.q), max_layers, "--layers") {
        return o;
    }
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
/// user (exact JSON weights or `.safetensors` read at their exact binary values), refused
/// (exit 2) when it has more than `max_layers` hidden layers. Exit 0 when
/// the network is a certified local (or global) minimum, 1 otherwise (the report then shows
/// the exact gradient or the gap), 2 on bad input.
///
/// The certificate must obey `cert_limits` (the ones `check` reads it under with the same
/// flags; exit 2 before writing otherwise). Its JSON text is self-checked by the independent
/// checker: with `--out`, the bytes re-read from a temporary file beside `out`, which is
/// renamed into place only when accepted (a rejected certificate is never left at `out`).
#[allow(clippy::too_many_arguments)]
pub fn certify(
    net_path: &Path,
    data_path: &Path,
    out: Option<&Path>,
    force: bool,
    norm: Normalisation,
    json: bool,
    limits: &DataLimits,
    max_layers: usize,
    cert_limits: checker::CertLimits,
) -> Output {
    let data = match load_data(data_path, limits) {
        Ok(d) => d,
        Err(o) => return o,
    };
    // The network's numbers under the certificate limit of the same flags: `certify` reads
    // back every certificate `verify` wrote under them.
    let net_limits = crate::arith::ParseLimits {
        max_digits: cert_limits.max_digits,
        ..limits.number
    };
    // The loader's errors already start with the path. A number over the limit is over the
    // certificate limit here, whose flag is --max-certificate-digits.
    let net = match crate::netio::load_network_with(net_path, &net_limits) {
        Ok(n) => n,
        Err(e) => {
            return Output::bad_input(e.replace(
                "(raise it with --max-digits)",
                "(the certificate limit of these flags; raise it with --max-certificate-digits); nothing was written",
            ))
        }
    };
    if net.hidden() > max_layers {
        return Output::bad_input(format!(
            "{}: the network has L = {} hidden layers, more than the limit of {max_layers}; raise it with --max-layers (time and memory grow with L)",
            net_path.display(),
            net.hidden()
        ));
    }
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
    if let Err(why) = checker::within_limits(&cert, &cert_limits) {
        return Output::bad_input(format!("certificate: {why}; nothing was written"));
    }
    let text = cert.to_json();
    let checker = checker::Checker::with_limits(&data, Backend::Malachite, cert_limits);
    let checked = |text: &str| match checker.check_json(text) {
        Ok(rep) => rep,
        Err(detail) => checker::Report {
            checks: vec![checker::Check {
                name: "format".to_string(),
                passed: false,
                detail,
            }],
            skipped: None,
        },
    };
    let mut o = Output::default();
    // Self-check of the written bytes: a temporary file beside `out`, re-read and checked,
    // renamed into place only when accepted.
    let (rep, written) = match out {
        None => (checked(&text), false),
        Some(p) => {
            let tmp = temp_beside(p);
            let read = write_synced(&tmp, text.as_bytes()).and_then(|()| fs::read_to_string(&tmp));
            let read = match read {
                Ok(r) => r,
                Err(e) => {
                    let _ = fs::remove_file(&tmp);
                    return Output::bad_input(format!("cannot write {}: {e}", tmp.display()));
                }
            };
            let rep = checked(&read);
            if !rep.accepted() {
                let _ = fs::remove_file(&tmp);
                (rep, false)
            } else if let Err(e) = fs::rename(&tmp, p) {
                let _ = fs::remove_file(&tmp);
                return Output::bad_input(format!("cannot write {}: {e}", p.display()));
            } else {
                (rep, true)
            }
        }
    };
    let c = &cert.claims;
    if json {
        o.stdout = text;
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
        if let (Some(p), true) = (out, written) {
            o.stdout.push_str(&format!(
                "certificate written to {} (re-read and accepted by the independent checker)\n",
                p.display()
            ));
        }
    }
    if !rep.accepted() {
        o.stderr
            .push_str(&format!("self-check REJECTED: {}\n", first_failure(&rep)));
        if let Some(p) = out {
            o.stderr.push_str(&format!(
                "certificate NOT written to {}: the independent checker rejected it\n",
                p.display()
            ));
        }
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
