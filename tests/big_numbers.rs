//! Few points with large, unrelated denominators (every coordinate `p/q` with its own
//! `q` of hundreds of digits): the exact evaluation must stay on the integer
//! common-denominator path (no gcd per operation; the common denominator is only a small
//! multiple of one point's size), the naive fallback must still be taken when the common
//! denominator is far larger than the data (many points), and `verify` must produce
//! certificates the checker accepts on such data. The data is generated here
//! (deterministic pseudo-random digits); sizes are small enough for the test profile.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::checker::{Backend, Checker};
use dlgeom_cert::data::{Class, Dataset};
use dlgeom_cert::fastexact::{denominator_bit_limit, ExactData, MAX_SCALED_BLOWUP};
use dlgeom_cert::matrix::Matrix;
use dlgeom_cert::network::{Layer, Network, Normalisation};
use dlgeom_cert::verify::{run, Options, Outcome};

/// Deterministic pseudo-random decimal digits (a 64-bit LCG), first digit nonzero.
fn digits(n: usize, seed: &mut u64) -> String {
    (0..n)
        .map(|i| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let c = ((*seed >> 33) % 10) as u8;
            (b'0' + if i == 0 { 1 + c % 9 } else { c }) as char
        })
        .collect()
}

/// `base + r/q` with `q` a fresh `d`-digit number and `r` a `(d−1)`-digit one: every
/// coordinate has its own large denominator.
fn coord(base: i64, d: usize, seed: &mut u64) -> Rat {
    let frac = Rat::parse(&format!("{}/{}", digits(d - 1, seed), digits(d, seed))).unwrap();
    &Rat::from_i64(base) + &frac
}

/// `Q = 2`, 3 points per class near `(10, 0)` and `(0, 10)`: separable, 12 distinct
/// `d`-digit denominators.
fn data(d: usize) -> Dataset {
    let mut seed = d as u64;
    let class = |j: usize, seed: &mut u64| Class {
        name: None,
        target: (0..2).map(|k| Rat::from_i64((k == j) as i64)).collect(),
        target_given: false,
        inputs: (0..3)
            .map(|_| {
                (0..2)
                    .map(|k| coord(if k == j { 10 } else { 0 }, d, seed))
                    .collect()
            })
            .collect(),
    };
    let a = class(0, &mut seed);
    let b = class(1, &mut seed);
    Dataset::from_classes(vec![a, b]).unwrap()
}

fn data_bits(data: &Dataset) -> u64 {
    (data.classes.iter())
        .flat_map(|c| c.inputs.iter().flatten())
        .map(Rat::bit_size)
        .sum()
}

/// The old rule (a fixed 2048-bit cap on the common denominator) sent this data (12 unrelated
/// 300-digit denominators, lcm ≈ 12 000 bits) to the naive rational code, whose gcd at every
/// operation on numbers as large as the output layer's made `verify` super-linear in the
/// digit count. The integer path must be taken, with scaled inputs linear in the data's size,
/// and give exactly the naive results.
#[test]
fn few_points_with_large_unrelated_denominators_take_the_integer_path() {
    let data = data(300);
    let fx = ExactData::new(&data);
    let sd = fx.scaled().expect("integer path for 6 points");
    let coords = (data.n() * data.q) as u64;
    // The common denominator is the product of the 12 denominators: ≈ 12 · 997 bits.
    assert!(sd.denom.bit_size() > 2048);
    // Scaled inputs: N·Q numerators over D, at most MAX_SCALED_BLOWUP times the data's bits.
    let scaled_bits: u64 = sd.inputs.iter().map(|x| x.bit_size()).sum();
    assert!(scaled_bits <= MAX_SCALED_BLOWUP * data_bits(&data));
    assert!(coords * sd.denom.bit_size() <= MAX_SCALED_BLOWUP * data_bits(&data));
    assert!(denominator_bit_limit(&data) >= sd.denom.bit_size());
    // A network with a hidden layer that switches some neurons off and a large output layer.
    let r = |s: &str| Rat::parse(s).unwrap();
    let big = &r("1") / &(&data.classes[0].inputs[0][0] + &data.classes[1].inputs[2][1]);
    let net = Network {
        layers: vec![
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("1"), r("-1/3"), r("2/7"), r("1")]),
                b: vec![r("-5"), r("1/2")],
            },
            Layer {
                w: Matrix::from_vec(2, 2, vec![big.clone(), r("3"), r("0"), -&big]),
                b: vec![big.clone(), r("-1/9")],
            },
        ],
    };
    for norm in [Normalisation::HalfMean, Normalisation::Mean] {
        let fast = fx.evaluate(&net, norm);
        let naive = net.evaluate::<Rat>(&data, norm);
        assert_eq!(fast.cost, naive.cost);
        assert_eq!(fast.gradient, naive.gradient);
        assert_eq!(fast.margin, naive.margin);
        assert_eq!(fast.patterns, naive.patterns);
        assert_eq!(fast.outputs, naive.outputs);
    }
}

/// Many points with unrelated denominators: the common denominator (≈ 8000 bits) is far more
/// than `MAX_SCALED_BLOWUP` times a coordinate (≈ 12 bits), so scaling every point to it
/// would multiply the data's size; the naive fallback is kept there.
#[test]
fn many_points_with_unrelated_denominators_keep_the_fallback() {
    let mut primes = Vec::new();
    let mut c = 1_000_003i64;
    while primes.len() < 400 {
        if (3..)
            .step_by(2)
            .take_while(|d| d * d <= c)
            .all(|d| c % d != 0)
        {
            primes.push(c);
        }
        c += 2;
    }
    let pts = |range: std::ops::Range<usize>| -> Vec<Vec<Rat>> {
        range
            .map(|i| {
                vec![
                    Rat::from_frac(1, primes[i]).unwrap(),
                    Rat::from_i64(i as i64),
                ]
            })
            .collect()
    };
    let class = |j: usize, inputs| Class {
        name: None,
        target: (0..2).map(|k| Rat::from_i64((k == j) as i64)).collect(),
        target_given: false,
        inputs,
    };
    let data = Dataset::from_classes(vec![class(0, pts(0..200)), class(1, pts(200..400))]).unwrap();
    assert_eq!(denominator_bit_limit(&data), 2048);
    assert!(ExactData::new(&data).scaled().is_none());
}

/// `verify` on 6 points with 120-digit unrelated denominators: every certificate it builds is
/// accepted by the independent checker (this exercises the integer path through every
/// construction, the pass-through shift of the shallow minimum and the descent steps).
#[test]
fn verify_on_large_unrelated_denominators_is_checked() {
    let data = data(120);
    let opts = Options {
        layers: 2,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
    };
    let res = run(&data, &opts);
    let checker = Checker::new(&data, Backend::Malachite);
    let mut built = 0;
    for e in &res.entries {
        if let Outcome::Built(b) = &e.outcome {
            built += 1;
            let rep = checker.check(&b.certificate);
            assert!(rep.accepted(), "{} rejected", e.plan.id());
        }
    }
    assert!(built >= 4, "only {built} configurations built");
}

/// The up-front size limit: 6 points with 1000-digit unrelated denominators (numerators of
/// ≈ 12 000 digits over the common denominator) would give certificates with numbers of
/// ≈ 140 000 digits, beyond a 100 000-digit certificate limit, and 8000-digit ones beyond
/// the default limit of 1 000 000: refused before any work, with exit code 2, a message
/// naming the flag, and nothing written; 300-digit denominators pass.
#[test]
fn data_too_large_for_checkable_certificates_is_refused_up_front() {
    use dlgeom_cert::verify::{check_data_size, scaled_data_digits};
    let small = data(300);
    let s = scaled_data_digits(&small, usize::MAX).unwrap();
    assert!((12 * 299..=12 * 300 + 2).contains(&s), "{s}");
    assert!(check_data_size(&small, 100_000).is_ok());
    let large = data(1000);
    assert!(scaled_data_digits(&large, 11_000).is_none());
    let e = check_data_size(&large, 100_000).unwrap_err();
    assert!(e.contains("--max-certificate-digits"), "{e}");
    assert!(check_data_size(&large, 1_000_000).is_ok());
    let large = data(8000);

    let dir = std::env::temp_dir().join(format!("dlgeom-big-numbers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("large.json");
    std::fs::write(&file, large.to_json_pretty()).unwrap();
    let out = dir.join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_dlgeom-cert"))
        .args([
            "verify",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--max-certificate-digits") && err.contains("large.json"),
        "{err}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
