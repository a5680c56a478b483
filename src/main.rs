//! The `dlgeom-cert` command line: parses arguments (clap) and prints what the commands in
//! `dlgeom_cert::cli` return. Exit codes: 0 ok, 1 a claim failed or a certificate was
//! rejected, 2 bad input or usage.

use clap::{Parser, Subcommand, ValueEnum};
use dlgeom_cert::arith::ParseLimits;
use dlgeom_cert::checker::{Backend, CertLimits};
use dlgeom_cert::cli::{self, Output, VerifyArgs, DEFAULT_MAX_CONFIGURATIONS, DEFAULT_MAX_LAYERS};
use dlgeom_cert::data::DataLimits;
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::Families;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "dlgeom-cert",
    version,
    about = "Exact, checkable certificates for the global and local minimizers of deep ReLU networks (Chen & Muñoz Ewald, arXiv:2309.10639)",
    after_help = "Examples:\n  dlgeom-cert verify examples/two_classes.json --out certs/\n  dlgeom-cert check certs/ --data examples/two_classes.json\n  dlgeom-cert gen --classes 3 --per-class 20 --spread 1 --seed 7 --out data.json\n\nExit codes: 0 ok; 1 a claim failed or a certificate was rejected; 2 bad input or usage."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Norm {
    /// C = (1/(2N)) Σ |f − y|² (default)
    Half,
    /// C = (1/N) Σ |f − y|²
    Mean,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    /// malachite rationals (default)
    Malachite,
    /// num-rational / num-bigint (a second, independent arithmetic)
    Num,
}

impl From<Norm> for Normalisation {
    fn from(n: Norm) -> Normalisation {
        match n {
            Norm::Half => Normalisation::HalfMean,
            Norm::Mean => Normalisation::Mean,
        }
    }
}

impl From<BackendArg> for Backend {
    fn from(b: BackendArg) -> Backend {
        match b {
            BackendArg::Malachite => Backend::Malachite,
            BackendArg::Num => Backend::Num,
        }
    }
}

#[derive(clap::Args, Clone)]
struct LimitArgs {
    /// Largest |exponent| accepted in numbers like 1e-3
    #[arg(long, default_value_t = 10_000)]
    max_exponent: u64,
    /// Largest number of digits accepted in one number (its text and its lowest-terms p/q)
    #[arg(long, default_value_t = 100_000)]
    max_digits: usize,
    /// Largest number of classes Q accepted
    #[arg(long, default_value_t = 64)]
    max_classes: usize,
    /// Largest number of points N accepted
    #[arg(long, default_value_t = 10_000_000)]
    max_points: usize,
    /// Largest data file accepted, in bytes
    #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
    max_file_bytes: u64,
    /// Deepest JSON nesting accepted
    #[arg(long, default_value_t = 8)]
    max_depth: usize,
    /// Largest number of digits in one number of a certificate [default: 10 × --max-digits;
    /// at least --max-digits]: check rejects a certificate beyond it, verify and certify
    /// refuse to write one
    #[arg(long)]
    max_certificate_digits: Option<usize>,
}

impl LimitArgs {
    /// The certificate limits of these flags (`max(--max-certificate-digits, --max-digits)`).
    fn cert_limits(&self) -> CertLimits {
        CertLimits::new(self.max_certificate_digits, &self.limits().number)
    }
    fn limits(&self) -> DataLimits {
        DataLimits {
            max_classes: self.max_classes,
            max_points: self.max_points,
            max_file_bytes: self.max_file_bytes,
            max_depth: self.max_depth,
            number: ParseLimits {
                max_exponent: self.max_exponent,
                max_digits: self.max_digits,
            },
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Build and certify the global minimizer, the shallow minimum, the 2^Q − 1
    /// partial-curation candidates and the grouped-curation minima; write certificates.
    #[command(
        after_help = "Example:\n  dlgeom-cert verify examples/two_classes.json --layers 4 --out certs/"
    )]
    Verify {
        /// Training data (dlgeom-data/1 JSON, or CSV rows class,x_1,…,x_Q)
        data: PathBuf,
        /// Hidden layers L (default: Q; the global minimizer needs L ≥ Q)
        #[arg(long)]
        layers: Option<usize>,
        /// Folder for the certificates and summary.json
        #[arg(long, default_value = "certificates-out")]
        out: PathBuf,
        /// Overwrite existing certificates in the output folder
        #[arg(long)]
        force: bool,
        /// Cost normalisation
        #[arg(long, value_enum, default_value = "half")]
        normalisation: Norm,
        /// Enumerate all set partitions for grouped curation when Q ≤ this
        #[arg(long, default_value_t = 5)]
        partition_limit: usize,
        /// Print the summary as JSON
        #[arg(long)]
        json: bool,
        /// Print only the claim verdicts
        #[arg(long)]
        quiet: bool,
        /// Do not re-check the written certificates with the independent checker
        #[arg(long)]
        no_self_check: bool,
        /// Families to build: a comma-separated list of global, shallow, partial, grouped
        /// (default: all). Claims depending on a family left out are reported as not run
        #[arg(long, default_value = "all", value_parser = Families::parse)]
        families: Families,
        /// Refuse (exit 2) when the chosen families have more configurations than this
        /// (partial curation alone has 2^Q − 2; the counts are printed before work starts)
        #[arg(long, default_value_t = DEFAULT_MAX_CONFIGURATIONS)]
        max_configurations: u64,
        /// Largest --layers accepted
        #[arg(long, default_value_t = DEFAULT_MAX_LAYERS)]
        max_layers: usize,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Independently re-verify a certificate (or every certificate in a folder) against the data.
    #[command(
        after_help = "Example:\n  dlgeom-cert check certs/global.json --data examples/two_classes.json --backend num"
    )]
    Check {
        /// Certificate file or folder
        cert: PathBuf,
        /// The data the certificate is bound to
        #[arg(long)]
        data: PathBuf,
        /// Exact arithmetic backend
        #[arg(long, value_enum, default_value = "malachite")]
        backend: BackendArg,
        /// Print only rejections
        #[arg(long)]
        quiet: bool,
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
        /// Largest number of hidden layers accepted in a certificate's network
        #[arg(long, default_value_t = DEFAULT_MAX_LAYERS)]
        max_layers: usize,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Regenerate the archived certificates in certificates/ for the bundled examples, compare
    /// them byte for byte, re-check them, and print the claim table (C1–C4) for each.
    #[command(after_help = "Example (from the repository root):\n  dlgeom-cert reproduce")]
    Reproduce {
        /// Repository root holding examples/ and certificates/
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Rewrite the archive instead of comparing (when a change of results is intended)
        #[arg(long)]
        update: bool,
        /// Exact arithmetic backend of the re-check
        #[arg(long, value_enum, default_value = "malachite")]
        backend: BackendArg,
        /// Print only problems and the final line
        #[arg(long)]
        quiet: bool,
    },
    /// Draw the classes, each layer's cones and apexes and the curated points (Q = 2; a
    /// projection for Q = 3) as SVG.
    #[command(
        after_help = "Example:\n  dlgeom-cert plot examples/two_classes.json --out curation.svg"
    )]
    Plot {
        /// Training data
        data: PathBuf,
        /// Output SVG file
        #[arg(long)]
        out: PathBuf,
        /// Hidden layers L (default Q)
        #[arg(long)]
        layers: Option<usize>,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
        /// Largest --layers accepted
        #[arg(long, default_value_t = DEFAULT_MAX_LAYERS)]
        max_layers: usize,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Certify a network given by the user (exact JSON weights, a certificate, or
    /// .safetensors read at their exact binary values) on the data: pattern-region bound,
    /// exact gradient, margin, verdict (exit 0 only for a certified minimum).
    #[command(
        after_help = "Example:\n  dlgeom-cert certify --network weights.safetensors examples/two_classes.json --out cert.json"
    )]
    Certify {
        /// The network: .safetensors (PyTorch nn.Sequential names 0.weight, 0.bias, 2.weight, …) or JSON
        #[arg(long)]
        network: PathBuf,
        /// Training data
        data: PathBuf,
        /// Write the certificate here
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite an existing certificate
        #[arg(long)]
        force: bool,
        /// Cost normalisation
        #[arg(long, value_enum, default_value = "half")]
        normalisation: Norm,
        /// Print the certificate as JSON
        #[arg(long)]
        json: bool,
        /// Largest number of hidden layers accepted in the network
        #[arg(long, default_value_t = DEFAULT_MAX_LAYERS)]
        max_layers: usize,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Export a certificate's network as safetensors (f64 and an f32 copy) named like a
    /// PyTorch nn.Sequential state dict.
    #[command(
        after_help = "Example:\n  dlgeom-cert export certs/global.json --out weights.safetensors --npy\n  python3 scripts/check_export.py certs/global.json examples/two_classes.json weights.safetensors"
    )]
    Export {
        /// Certificate (or network JSON)
        cert: PathBuf,
        /// Output .safetensors file (f64); the f32 copy is written beside it
        #[arg(long)]
        out: PathBuf,
        /// Also write one .npy file per tensor
        #[arg(long)]
        npy: bool,
        /// Overwrite existing files
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schemas of the data format and the certificate format.
    Schema,
    /// Write clustered data with exact decimal coordinates (class j centred at 10·e_j).
    #[command(
        after_help = "Example:\n  dlgeom-cert gen --classes 4 --per-class 100 --spread 1 --seed 1 --out data.json"
    )]
    Gen {
        /// Number of classes Q
        #[arg(long)]
        classes: usize,
        /// Points per class
        #[arg(long)]
        per_class: usize,
        /// Cluster spread (exact number, e.g. 1 or 0.5)
        #[arg(long, default_value = "1")]
        spread: String,
        /// Random seed
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file (default: standard output)
        #[arg(long)]
        out: Option<PathBuf>,
        /// Overwrite an existing output file
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let out: Output = match cli.command {
        Command::Verify {
            data,
            layers,
            out,
            force,
            normalisation,
            partition_limit,
            json,
            quiet,
            no_self_check,
            families,
            max_configurations,
            max_layers,
            limits,
        } => cli::verify(&VerifyArgs {
            data,
            layers,
            out,
            force,
            norm: normalisation.into(),
            partition_limit,
            json,
            quiet,
            no_self_check,
            limits: limits.limits(),
            families,
            max_configurations,
            max_layers,
            cert_limits: limits.cert_limits().with_max_layers(max_layers),
        }),
        Command::Check {
            cert,
            data,
            backend,
            quiet,
            json,
            max_layers,
            limits,
        } => cli::check(
            &cert,
            &data,
            backend.into(),
            &limits.limits(),
            limits.cert_limits().with_max_layers(max_layers),
            quiet,
            json,
        ),
        Command::Reproduce {
            root,
            update,
            backend,
            quiet,
        } => cli::reproduce(&root, update, backend.into(), quiet),
        Command::Schema => cli::schema(),
        Command::Certify {
            network,
            data,
            out,
            force,
            normalisation,
            json,
            max_layers,
            limits,
        } => cli::certify(
            &network,
            &data,
            out.as_deref(),
            force,
            normalisation.into(),
            json,
            &limits.limits(),
            max_layers,
            limits.cert_limits().with_max_layers(max_layers),
        ),
        Command::Export {
            cert,
            out,
            npy,
            force,
        } => cli::export(&cert, &out, npy, force),
        Command::Plot {
            data,
            out,
            layers,
            force,
            max_layers,
            limits,
        } => cli::plot(&data, layers, &out, force, &limits.limits(), max_layers),
        Command::Gen {
            classes,
            per_class,
            spread,
            seed,
            out,
            force,
            limits,
        } => cli::gen(
            classes,
            per_class,
            &spread,
            seed,
            out.as_deref(),
            force,
            &limits.limits(),
        ),
    };
    print!("{}", out.stdout);
    eprint!("{}", out.stderr);
    std::process::exit(out.code);
}
