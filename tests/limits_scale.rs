//! Scale limits (the soundness issue's items 5–7): `--max-layers` for `verify`, `certify` and
//! `plot`; configuration counts printed and bounded (`--families`, `--max-configurations`)
//! with plans enumerated lazily; `gen` obeying the reader's limits. Every refusal is exit 2
//! with the flag named, quickly, and writes nothing.

mod common;
use common::cli::{run, text, tmpdir};

use dlgeom_cert::arith::Rat;
use dlgeom_cert::construct::{plans, Family, Plan};
use dlgeom_cert::verify::{configuration_counts, plan_iter, Families};
use num_bigint::BigUint;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `gen`-style data with one point per class (`x = 10·e_j`), written to `dir/data.json`.
fn one_point_per_class(dir: &Path, q: usize) -> PathBuf {
    let d = dlgeom_cert::gen::generate(q, 1, &Rat::zero(), 1);
    let p = dir.join("data.json");
    std::fs::write(&p, d.to_json_pretty()).unwrap();
    p
}

#[test]
fn layers_above_the_maximum_are_refused_naming_the_flag() {
    let dir = tmpdir("layers");
    let out = dir.join("out");
    let t = Instant::now();
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--layers",
        "1001",
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("--max-layers") && e.contains("1001"), "{e}");
    assert!(!out.exists(), "nothing may be written");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "refused before any work"
    );
    // The documented escape: the flag raises the limit (here a small run just below it).
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--layers",
        "3",
        "--max-layers",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    // `plot` likewise.
    let svg = dir.join("p.svg");
    let o = run(&[
        "plot",
        "examples/two_classes.json",
        "--layers",
        "100000",
        "--out",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--max-layers"));
    assert!(!svg.exists());
    // `certify`: the network's L is checked against --max-layers after loading it.
    let o = run(&[
        "verify",
        "examples/two_classes.json",
        "--layers",
        "3",
        "--families",
        "global",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let net = out.join("global.json");
    let o = run(&[
        "certify",
        "--network",
        net.to_str().unwrap(),
        "examples/two_classes.json",
        "--max-layers",
        "2",
    ]);
    let e = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("L = 3") && e.contains("--max-layers"), "{e}");
    let o = run(&[
        "certify",
        "--network",
        net.to_str().unwrap(),
        "examples/two_classes.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

#[test]
fn forty_classes_are_refused_at_once_with_the_counts_and_the_flags() {
    let dir = tmpdir("q40");
    let data = one_point_per_class(&dir, 40);
    let out = dir.join("out");
    let t = Instant::now();
    let o = run(&[
        "verify",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    // 2^40 − 2 partial candidates, 2^40 − 41 merged subsets.
    assert!(e.contains("partial 1099511627774"), "{e}");
    assert!(e.contains("grouped 1099511627735"), "{e}");
    assert!(e.contains("total 2199023255511"), "{e}");
    assert!(
        e.contains("--families") && e.contains("--max-configurations"),
        "{e}"
    );
    assert!(!out.exists(), "nothing may be written");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "refused before any work"
    );
    // Q = 64, the documented maximum of classes: counts beyond u64 are exact too.
    let dir = tmpdir("q64");
    let data = one_point_per_class(&dir, 64);
    let o = run(&[
        "verify",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let e = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("partial 18446744073709551614"), "{e}");
    // Raising the bound is not enough when the families are still too many for it.
    let o = run(&[
        "verify",
        data.to_str().unwrap(),
        "--max-configurations",
        "1000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn chosen_families_run_and_the_others_are_reported_not_run() {
    // Q = 13: 8,190 partial candidates, over the default bound of 4,096; with
    // --families global,shallow only two configurations (global is infeasible at L = 1,
    // which keeps the test fast).
    let dir = tmpdir("families");
    let data = one_point_per_class(&dir, 13);
    let out = dir.join("out");
    let o = run(&[
        "verify",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("partial 8190"));
    let o = run(&[
        "verify",
        data.to_str().unwrap(),
        "--layers",
        "1",
        "--families",
        "global,shallow",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is JSON");
    assert_eq!(
        v["families_not_run"],
        serde_json::json!(["partial", "grouped"])
    );
    let ids: Vec<&str> = (v["configurations"].as_array().unwrap().iter())
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["shallow", "global"]);
    let status = |c: &str| {
        (v["claims"].as_array().unwrap().iter())
            .find(|r| r["claim"] == c)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(status("C3"), "not-run");
    // A claim whose family ran keeps its verdict; one that depends on a family left out is
    // "not-run", never "certified" or "not-certified".
    let out2 = dir.join("out2");
    let o = run(&[
        "verify",
        "examples/three_classes.json",
        "--families",
        "partial,grouped,shallow",
        "--out",
        out2.to_str().unwrap(),
    ]);
    let so = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{so}{}", text(&o.stderr));
    assert!(
        so.contains("C1  NOT-RUN") && so.contains("C4  NOT-RUN"),
        "{so}"
    );
    assert!(so.contains("Families not run (--families): global"), "{so}");
    assert!(!out2.join("global.json").exists());
    assert!(text(&o.stderr).contains("configurations: shallow 1, global 1 (not run)"));
    // Unknown family names are usage errors.
    let o = run(&[
        "verify",
        "examples/three_classes.json",
        "--families",
        "globl",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("globl"));
}

#[test]
fn gen_obeys_the_readers_limits() {
    for (args, needle) in [
        (
            vec!["--classes", "3", "--per-class", "18446744073709551615"],
            "--max-points",
        ),
        (
            vec!["--classes", "2", "--per-class", "1000000000000"],
            "--max-points",
        ),
        (
            vec!["--classes", "2", "--per-class", "100000000"],
            "--max-points",
        ),
        (vec!["--classes", "65", "--per-class", "1"], "--max-classes"),
        (vec!["--classes", "0", "--per-class", "1"], "--classes"),
        (vec!["--classes", "2", "--per-class", "0"], "--per-class"),
        (
            vec!["--classes", "2", "--per-class", "3", "--max-points", "5"],
            "--max-points",
        ),
        (
            vec!["--classes", "3", "--per-class", "2", "--max-classes", "2"],
            "--max-classes",
        ),
        (
            vec![
                "--classes",
                "2",
                "--per-class",
                "50",
                "--max-file-bytes",
                "1000",
            ],
            "--max-file-bytes",
        ),
    ] {
        let t = Instant::now();
        let mut a = vec!["gen"];
        a.extend(&args);
        let o = run(&a);
        let e = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
        assert!(e.contains(needle), "{args:?}: {e}");
        assert!(o.stdout.is_empty(), "{args:?}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{args:?}: refused before any work"
        );
    }
    // Within the limits, as before; a raised limit is honoured.
    let o = run(&[
        "gen",
        "--classes",
        "2",
        "--per-class",
        "3",
        "--max-points",
        "6",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("dlgeom-data/1"));
}

// ---- plan enumeration ---------------------------------------------------------------------

/// The enumeration before it was made lazy (materialised, masks of `u64`), kept as the
/// reference for the order: the certificates in `certificates/` depend on it.
fn reference_plans(q: usize, partition_limit: usize) -> Vec<Plan> {
    let subsets = |min: usize, upto: u64| {
        let mut s: Vec<Vec<usize>> = (1u64..upto)
            .map(|mask| (0..q).filter(|&c| mask >> c & 1 == 1).collect::<Vec<_>>())
            .filter(|s| s.len() >= min)
            .collect();
        s.sort_by(|a, b| a.len().cmp(&b.len()).then(a.cmp(b)));
        s
    };
    let mut v = vec![plans::shallow(q), plans::global(q)];
    for s in subsets(1, (1u64 << q) - 1) {
        v.push(Plan {
            family: Family::Partial,
            passing: (0..q).filter(|c| !s.contains(c)).collect(),
            units: s.into_iter().map(|c| vec![c]).collect(),
        });
    }
    if q <= partition_limit {
        let mut rgs = vec![0usize; q];
        'outer: loop {
            let blocks = rgs.iter().max().map_or(0, |m| m + 1);
            if blocks < q {
                v.push(Plan {
                    family: Family::Grouped,
                    units: (0..blocks)
                        .map(|b| (0..q).filter(|&c| rgs[c] == b).collect())
                        .collect(),
                    passing: vec![],
                });
            }
            let mut i = q;
            loop {
                if i <= 1 {
                    break 'outer;
                }
                i -= 1;
                let max_prefix = rgs[..i].iter().max().copied().unwrap_or(0);
                if rgs[i] <= max_prefix {
                    rgs[i] += 1;
                    for r in rgs.iter_mut().skip(i + 1) {
                        *r = 0;
                    }
                    break;
                }
            }
        }
    } else {
        for t in subsets(2, 1u64 << q) {
            let mut units = vec![t.clone()];
            units.extend((0..q).filter(|c| !t.contains(c)).map(|c| vec![c]));
            units.sort();
            v.push(Plan {
                family: Family::Grouped,
                units,
                passing: vec![],
            });
        }
    }
    v
}

/// Property: for every small `Q` and partition limit, the lazy enumeration yields the same
/// plans in the same order as the materialised one, and each family's length is exactly
/// its [`configuration_counts`] (counted without enumerating).
#[test]
fn lazy_plans_equal_the_reference_order_and_the_counts() {
    for q in 1..=9 {
        for limit in [0, 3, 5, 9] {
            let lazy: Vec<Plan> = plan_iter(q, limit, Families::ALL).collect();
            assert_eq!(
                lazy,
                reference_plans(q, limit),
                "Q = {q}, partition limit {limit}"
            );
            for (fam, n) in configuration_counts(q, limit) {
                let got = lazy.iter().filter(|p| p.family == fam).count();
                assert_eq!(BigUint::from(got), n, "Q = {q}, limit {limit}, {fam:?}");
            }
            // A family subset is the same plans, filtered.
            let f = Families::parse("partial,global").unwrap();
            let sub: Vec<Plan> = plan_iter(q, limit, f).collect();
            let want: Vec<Plan> = (lazy.iter())
                .filter(|p| matches!(p.family, Family::Partial | Family::Global))
                .cloned()
                .collect();
            assert_eq!(sub, want);
        }
    }
    // Bell numbers: B(10) = 115975, B(20) = 51724158235372; grouped = B(Q) − 1.
    let grouped = |q: usize| configuration_counts(q, q)[3].1.clone();
    assert_eq!(grouped(10), BigUint::from(115_974u64));
    assert_eq!(grouped(20), BigUint::from(51_724_158_235_371u64));
    // Q = 64: counted exactly, and the first plans come at once (nothing is materialised).
    let c = configuration_counts(64, 5);
    assert_eq!(c[2].1, BigUint::from(u64::MAX - 1));
    assert_eq!(c[3].1, (BigUint::from(1u8) << 64) - BigUint::from(65u8));
    let t = Instant::now();
    let first: Vec<Plan> = plan_iter(64, 5, Families::ALL).take(70).collect();
    assert_eq!(first[2].id(), "partial-S1");
    assert_eq!(first[65].id(), "partial-S64");
    assert_eq!(first[66].id(), "partial-S1,2");
    assert!(t.elapsed() < Duration::from_secs(2));
}

/// The output Jacobian rows computed with one forward pass equal the per-output gradients.
#[test]
fn output_gradients_equal_each_output_gradient() {
    use dlgeom_cert::data::{DataLimits, Dataset};
    let data = Dataset::load(
        Path::new("examples/three_classes.json"),
        &DataLimits::default(),
    )
    .unwrap();
    for plan in [plans::global(3), plans::shallow(3)] {
        let c = dlgeom_cert::construct::build(&data, 5, &plan).unwrap();
        for x in data.classes.iter().flat_map(|c| &c.inputs) {
            let all = c.network.output_gradients(x);
            for (o, row) in all.iter().enumerate() {
                assert_eq!(row, &c.network.output_gradient(x, o), "output {o}");
            }
        }
    }
}

/// `check` reads a certificate under the same `--max-layers` as `verify` and `certify`: a
/// network deeper than the limit is rejected before it is evaluated, naming the flag.
#[test]
fn check_refuses_a_network_deeper_than_max_layers() {
    let cert = "certificates/two_classes/global.json";
    let data = "examples/two_classes.json";
    let o = run(&["check", cert, "--data", data, "--max-layers", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stdout));
    let out = text(&o.stdout);
    assert!(
        out.contains("L = 2 exceeds the limit of 1 hidden layers") && out.contains("--max-layers"),
        "{out}"
    );
    let o = run(&["check", cert, "--data", data, "--max-layers", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}
