//! The integer common-denominator fast path (`dlgeom_cert::fastexact`) against the naive
//! rational reference `Network::evaluate::<Rat>` and `Moments::add_point` (MATH.md §1–§2, §8):
//! field-by-field equality on random small networks and data (including exact-zero
//! pre-activations, margin ties, big numbers that overflow the `i128` kernel, several chunks),
//! and on every network the pipeline builds for the bundled examples.
//!
//! `perf_global_minimizer_large` (ignored) times one exact evaluation on N = 10⁵ points.

use dlgeom_cert::arith::{Int, Rat};
use dlgeom_cert::data::{Class, DataLimits, Dataset};
use dlgeom_cert::fastexact::{
    cost_margin_exact, evaluate_exact, evaluate_scaled, group_moments, ExactData, ScaledData,
    ScaledNetwork,
};
use dlgeom_cert::lsq::Moments;
use dlgeom_cert::matrix::Matrix;
use dlgeom_cert::network::{Evaluation, F64Data, Layer, Network, Normalisation};
use dlgeom_cert::verify::{run, Options, Outcome};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

// ------------------------------------------------------------------------- reference

fn naive_groups<'a>(data: &Dataset, patterns: &'a [Vec<bool>]) -> BTreeMap<&'a [bool], Moments> {
    let q = data.q;
    let mut groups: BTreeMap<&[bool], Moments> = BTreeMap::new();
    let mut idx = 0;
    for c in &data.classes {
        for x in &c.inputs {
            groups
                .entry(&patterns[idx])
                .or_insert_with(|| Moments::empty(q, q))
                .add_point(x, &c.target);
            idx += 1;
        }
    }
    groups
}

/// Fast == naive, field by field, for both normalisations; group moments == naive moments.
fn check_same(net: &Network, data: &Dataset) -> Result<(), TestCaseError> {
    for norm in [Normalisation::HalfMean, Normalisation::Mean] {
        let fast: Evaluation<Rat> = evaluate_exact(net, data, norm);
        let naive: Evaluation<Rat> = net.evaluate(data, norm);
        prop_assert_eq!(&fast.outputs, &naive.outputs, "outputs");
        prop_assert_eq!(&fast.cost, &naive.cost, "cost");
        prop_assert_eq!(&fast.sse, &naive.sse, "sse");
        prop_assert_eq!(&fast.margin, &naive.margin, "margin and location");
        prop_assert_eq!(&fast.gradient, &naive.gradient, "gradient");
        prop_assert_eq!(&fast.patterns, &naive.patterns, "patterns");
        prop_assert_eq!(&network_method(net, data, norm).cost, &naive.cost);
        let light = cost_margin_exact(net, data, norm);
        prop_assert_eq!(&light.cost, &naive.cost, "light cost");
        prop_assert_eq!(&light.sse, &naive.sse, "light sse");
        prop_assert_eq!(&light.margin, &naive.margin, "light margin");
        // The outputs rounded without being reduced (shortcut or not): the naive roundings.
        let (ev, _, rounded) = ExactData::new(data).evaluate_rounded(net, norm);
        let naive_rounded: Vec<u64> = naive
            .outputs
            .iter()
            .flatten()
            .map(|x| x.to_f64().to_bits())
            .collect();
        prop_assert_eq!(
            rounded.iter().map(|x| x.to_bits()).collect::<Vec<u64>>(),
            naive_rounded
        );
        prop_assert!(ev.outputs.is_empty());
        prop_assert_eq!(&ev.patterns, &naive.patterns, "patterns (rounded run)");
        // The buffered f64 pass: bit for bit the generic one.
        let fl: Evaluation<f64> = net.evaluate(data, norm);
        let quick = net.evaluate_f64(&F64Data::new(data), norm);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>();
        prop_assert_eq!(quick.cost.to_bits(), fl.cost.to_bits(), "f64 cost");
        prop_assert_eq!(
            quick.margin.map(f64::to_bits),
            fl.margin.map(|m| m.0.to_bits())
        );
        prop_assert_eq!(
            quick.gradient.as_deref().map(bits),
            fl.gradient.as_deref().map(bits)
        );
        prop_assert_eq!(
            bits(&quick.outputs),
            bits(&fl.outputs.concat()),
            "f64 outputs"
        );
    }
    let naive: Evaluation<Rat> = net.evaluate(data, Normalisation::HalfMean);
    let fast_groups = group_moments(data, &naive.patterns);
    let slow_groups = naive_groups(data, &naive.patterns);
    prop_assert_eq!(fast_groups, slow_groups, "group moments");
    Ok(())
}

fn network_method(net: &Network, data: &Dataset, norm: Normalisation) -> Evaluation<Rat> {
    net.evaluate_exact(data, norm)
}

// ------------------------------------------------------------------------- strategies

/// Small rationals: zeros, integers, decimals, fractions with various denominators, and
/// when `big`, occasionally huge or tiny ones (so that the `i128` kernel overflows and falls
/// back to big integers).
fn arb_rat(big: bool) -> BoxedStrategy<Rat> {
    let small = prop_oneof![
        3 => Just(Rat::zero()),
        4 => (-4i64..=4).prop_map(Rat::from_i64),
        4 => (-2000i64..=2000, 0u32..=3).prop_map(|(n, e)| Rat::from_frac(n, 10i64.pow(e)).unwrap()),
        4 => (-30i64..=30, 1i64..=13).prop_map(|(n, d)| Rat::from_frac(n, d).unwrap()),
    ];
    if !big {
        return small.boxed();
    }
    prop_oneof![
        8 => small,
        1 => (-9i64..=9, 1i64..=9, 15u32..=40).prop_map(|(n, d, e)| {
            let big = Rat::parse(&format!("{n}e{e}")).unwrap();
            &big / &Rat::from_i64(d)
        }),
        1 => (-9i64..=9, 15u32..=40).prop_map(|(n, e)| Rat::parse(&format!("{n}e-{e}")).unwrap()),
    ]
    .boxed()
}

fn arb_vec(len: usize, big: bool) -> impl Strategy<Value = Vec<Rat>> {
    prop::collection::vec(arb_rat(big), len)
}

fn arb_data(q: usize, big: bool) -> impl Strategy<Value = Dataset> {
    let class = (1usize..=6, any::<bool>()).prop_flat_map(move |(n, one_hot)| {
        (
            prop::collection::vec(arb_vec(q, big), n),
            arb_vec(q, big),
            Just(one_hot),
            // duplicate some points (margin ties between points)
            prop::collection::vec(any::<prop::sample::Index>(), 0..3),
        )
    });
    prop::collection::vec(class, q).prop_map(move |classes| {
        let classes = classes
            .into_iter()
            .enumerate()
            .map(|(j, (mut inputs, target, one_hot, dups))| {
                for d in dups {
                    let x = d.get(&inputs).clone();
                    inputs.push(x);
                }
                let target = if one_hot {
                    (0..q)
                        .map(|m| if m == j { Rat::one() } else { Rat::zero() })
                        .collect()
                } else {
                    target
                };
                Class {
                    name: None,
                    target,
                    target_given: !one_hot,
                    inputs,
                }
            })
            .collect();
        Dataset::from_classes(classes).expect("valid shapes")
    })
}

fn arb_network(q: usize, hidden: usize, big: bool) -> impl Strategy<Value = Network> {
    prop::collection::vec((arb_vec(q * q, big), arb_vec(q, big)), hidden + 1).prop_map(move |ls| {
        Network {
            layers: ls
                .into_iter()
                .map(|(w, b)| Layer {
                    w: Matrix::from_vec(q, q, w),
                    b,
                })
                .collect(),
        }
    })
}

/// Shift `b_ℓ[m]` so that `z^ℓ_m(x) = 0` exactly for one data point `x` (layers after `ℓ`
/// are unaffected in form; only `z^ℓ_m` at that point is forced to zero).
fn force_zero(
    net: &mut Network,
    data: &Dataset,
    point: prop::sample::Index,
    layer: usize,
    neuron: usize,
) {
    let xs: Vec<&Vec<Rat>> = data.classes.iter().flat_map(|c| c.inputs.iter()).collect();
    let x = point.get(&xs);
    let (_, zs) = net.trace(x);
    let z = zs[layer][neuron].clone();
    net.layers[layer].b[neuron] -= &z;
}

fn arb_case() -> impl Strategy<Value = (Network, Dataset)> {
    (1usize..=4, 0usize..=3, prop::bool::weighted(0.3))
        .prop_flat_map(|(q, hidden, big)| {
            (
                arb_network(q, hidden, big),
                arb_data(q, big),
                prop::option::weighted(0.3, (any::<prop::sample::Index>(), 0..hidden.max(1), 0..q)),
            )
        })
        .prop_map(|(mut net, data, zero)| {
            if let Some((p, l, m)) = zero {
                if net.hidden() > 0 {
                    force_zero(&mut net, &data, p, l, m);
                }
            }
            (net, data)
        })
}

/// An integer of up to `digits` decimal digits, either sign.
fn arb_int(digits: usize) -> impl Strategy<Value = Int> {
    (any::<bool>(), prop::collection::vec(0u8..10, 1..=digits)).prop_map(|(neg, ds)| {
        let text: String = ds.iter().map(|d| char::from(b'0' + d)).collect();
        let v = Rat::parse(&text).unwrap().numer();
        if neg {
            -v
        } else {
            v
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    /// `Int::ratio_to_f64` (one division, no gcd) == the reduced fraction's rounding, on
    /// random unreduced fractions, near-ties (`m·c / (2^j·c)` with a 54- or 55-bit `m`:
    /// exactly halfway or one unit away) and huge or tiny quotients (the fallback).
    #[test]
    fn ratio_to_f64_is_the_correct_rounding(
        n in arb_int(60),
        d in arb_int(60),
        c in 1i64..1000,
        m in (1u64 << 53)..(1u64 << 55),
        j in 0u32..60,
        off in -1i64..=1,
        big in 0u32..1200,
    ) {
        let check = |n: &Int, d: &Int| {
            let want = Rat::from_ints(n, d).unwrap().to_f64();
            let got = Int::ratio_to_f64(n, d);
            prop_assert_eq!(got.to_bits(), want.to_bits(), "{}/{}", n, d);
            Ok(())
        };
        let d = if d.signum() == 0 { Int::one() } else { d.abs() };
        check(&n, &d)?;
        let cc = Int::from_i64(c);
        let two_j = Rat::parse(&format!("{}", 1u128 << j.min(100))).unwrap().numer();
        let near = &Int::from_i128(m as i128 + off as i128) * &cc;
        check(&near, &(&two_j * &cc))?;
        check(&(-&near), &cc)?;
        let pow = Rat::parse(&format!("1e{big}")).unwrap().numer();
        check(&(&n * &pow), &d)?;
        check(&n, &(&d * &pow))?;
    }
}

/// Data whose classes are uniform in the first layer's signs, and networks that keep them
/// uniform for a while (so the class-by-class hidden pass of `fastexact::classwise` applies,
/// or declines part-way): class `j` has every coordinate of sign `s_j`, drawn from few values
/// (many ties in the margin, inside and across classes, and across several chunks); layer 1
/// is `diag(d)` with `d > 0` and no bias; later layers are near-diagonal with small biases
/// (some classes stay on, some switch off, some straddle and force the fallback).
fn arb_uniform_case() -> impl Strategy<Value = (Network, Dataset)> {
    (1usize..=3, 1usize..=3).prop_flat_map(|(q, hidden)| {
        let class = (any::<bool>(), 1usize..=300, any::<u64>());
        let layer = (
            prop::collection::vec(1i64..=3, q),
            prop::collection::vec(prop_oneof![4 => Just(0i64), 1 => -1i64..=1], q * q),
            prop::collection::vec(-6i64..=2, q),
        );
        (
            prop::collection::vec(class, q),
            prop::collection::vec(layer, hidden),
            arb_vec(q * q + q, false),
        )
            .prop_map(move |(classes, layers, out)| {
                let classes = (classes.into_iter().enumerate())
                    .map(|(j, (negative, n, seed))| {
                        let sign = if negative { -1 } else { 1 };
                        let inputs = (0..n as u64)
                            .map(|i| {
                                (0..q as u64)
                                    .map(|m| {
                                        let v = (seed ^ (i * 7 + m * 13)).wrapping_mul(2654435761);
                                        Rat::from_i64(sign * (1 + (v >> 7) as i64 % 4))
                                    })
                                    .collect()
                            })
                            .collect();
                        let target = (0..q).map(|m| Rat::from_i64((m == j) as i64)).collect();
                        Class {
                            name: None,
                            target,
                            target_given: false,
                            inputs,
                        }
                    })
                    .collect();
                let data = Dataset::from_classes(classes).expect("valid shapes");
                let mut net = Network {
                    layers: (layers.into_iter().enumerate())
                        .map(|(l, (d, off, b))| {
                            let w = (0..q * q)
                                .map(|i| match i / q == i % q {
                                    true => Rat::from_i64(d[i / q]),
                                    false if l > 0 => Rat::from_i64(off[i]),
                                    false => Rat::zero(),
                                })
                                .collect();
                            let b = match l {
                                0 => vec![Rat::zero(); q],
                                _ => b.into_iter().map(Rat::from_i64).collect(),
                            };
                            Layer {
                                w: Matrix::from_vec(q, q, w),
                                b,
                            }
                        })
                        .collect(),
                };
                net.layers.push(Layer {
                    w: Matrix::from_vec(q, q, out[..q * q].to_vec()),
                    b: out[q * q..].to_vec(),
                });
                (net, data)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// Random networks (Q = 1..4, L = 0..3) on random rational data: fast == naive.
    #[test]
    fn fast_equals_naive((net, data) in arb_case()) {
        check_same(&net, &data)?;
    }

    /// Class-uniform patterns (the class-by-class hidden pass) with many margin ties: fast
    /// == naive.
    #[test]
    fn class_uniform_fast_equals_naive((net, data) in arb_uniform_case()) {
        check_same(&net, &data)?;
    }
}

// ------------------------------------------------------------------------- fixed cases

fn r(s: &str) -> Rat {
    Rat::parse(s).unwrap()
}

/// More than one chunk (CHUNK = 256 points): the combination of partial sums and margin
/// ties across chunks (the same point repeated in every chunk, first occurrence wins), with
/// an `i128` overflow in a later chunk only.
#[test]
fn many_chunks_ties_and_overflow() {
    let mut inputs: Vec<Vec<Rat>> = (0..700)
        .map(|i| {
            vec![
                Rat::from_frac(i % 37 - 18, 8).unwrap(),
                Rat::from_frac(i % 11, 3).unwrap(),
            ]
        })
        .collect();
    // x̃ = 24·3e17 still fits an i64, but products with it overflow the i128 kernels
    // (evaluation and group moments) in chunk 3 only, which is redone in big integers.
    for x in &mut inputs[650..658] {
        *x = vec![r("3e17"), r("-3")];
    }
    let data = Dataset::from_classes(vec![
        Class {
            name: None,
            target: vec![r("1"), r("0")],
            target_given: false,
            inputs: inputs[..400].to_vec(),
        },
        Class {
            name: None,
            target: vec![r("0.25"), r("1/3")],
            target_given: true,
            inputs: inputs[400..].to_vec(),
        },
    ])
    .unwrap();
    let net = Network {
        layers: vec![
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("1/2"), r("0"), r("-1/5"), r("1")]),
                b: vec![r("1/7"), r("0.3")],
            },
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("2"), r("-1/3"), r("1"), r("1")]),
                b: vec![r("-1"), r("0")],
            },
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("3/11"), r("1"), r("0"), r("-2")]),
                b: vec![r("5"), r("1/9")],
            },
        ],
    };
    check_same(&net, &data).unwrap();
}

/// A common denominator beyond the bit limit: the fast path declines and falls back.
#[test]
fn huge_common_denominator_falls_back() {
    // 400 distinct primes above 10⁶ as denominators: lcm ≈ 8000 bits, far above 2048 bits
    // and above `MAX_SCALED_BLOWUP` times the mean coordinate size (about 12 bits)
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
    let inputs: Vec<Vec<Rat>> = (0..400)
        .map(|i| {
            vec![
                Rat::from_frac(1, primes[i]).unwrap(),
                Rat::from_frac(i as i64, 7).unwrap(),
            ]
        })
        .collect();
    let data = Dataset::from_classes(vec![
        Class {
            name: None,
            target: vec![r("1"), r("0")],
            target_given: false,
            inputs: inputs[..200].to_vec(),
        },
        Class {
            name: None,
            target: vec![r("0"), r("1")],
            target_given: false,
            inputs: inputs[200..].to_vec(),
        },
    ])
    .unwrap();
    assert!(ScaledData::new(&data).is_none());
    let net = Network {
        layers: vec![
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("1"), r("2"), r("-1"), r("1/3")]),
                b: vec![r("0"), r("1")],
            },
            Layer {
                w: Matrix::from_vec(2, 2, vec![r("1"), r("0"), r("0"), r("1")]),
                b: vec![r("0"), r("0")],
            },
        ],
    };
    check_same(&net, &data).unwrap();
}

/// Every network the pipeline builds on every bundled example: fast == naive.
#[test]
fn bundled_examples_pipeline_networks() {
    let mut checked = 0;
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let data = Dataset::load(Path::new(&path), &DataLimits::default()).unwrap();
        for (plan, net) in pipeline_networks(&data) {
            check_same(&net, &data)
                .unwrap_or_else(|err| panic!("{}: {plan:?}: {err}", path.display()));
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} networks checked");
}

/// Every network `verify` builds for `data` (`L = Q`), with its plan.
fn pipeline_networks(data: &Dataset) -> Vec<(dlgeom_cert::construct::Plan, Network)> {
    let opts = Options {
        layers: data.q,
        norm: Normalisation::HalfMean,
        partition_limit: 5,
    };
    (run(data, &opts).entries.into_iter())
        .filter_map(|e| match e.outcome {
            Outcome::Built(b) => Some((e.plan, b.construction.network)),
            Outcome::Infeasible(_) => None,
        })
        .collect()
}

/// The shortcut evaluation with hidden layers in `i128` and the output layer in big integers
/// (taken when the output layer alone does not fit `i128`): the pipeline networks of the
/// bundled examples with their output layer scaled by a number far beyond `i128`, and with
/// its bias moved by a tiny fraction, against the naive pass.
#[test]
fn output_layer_beyond_i128_with_small_hidden_layers() {
    let pow = |b: i64, e: usize| (0..e).fold(Rat::one(), |acc, _| acc * Rat::from_i64(b));
    let big = pow(2, 200) / pow(3, 60);
    let tiny = pow(7, 50).recip().unwrap();
    let mut checked = 0;
    for name in ["three_classes", "four_classes"] {
        let path = format!("examples/{name}.json");
        let data = Dataset::load(Path::new(&path), &DataLimits::default()).unwrap();
        for (plan, mut net) in pipeline_networks(&data) {
            let out = net.layers.last_mut().unwrap();
            out.w = out.w.scale(&big);
            out.b = out.b.iter().map(|x| x * &big + &tiny).collect();
            check_same(&net, &data).unwrap_or_else(|err| panic!("{name}: {plan:?}: {err}"));
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} networks checked");
}

/// `Spread::shifted` (first-layer bias moves from the shortcut evaluation's extremes) against
/// a full exact evaluation of the moved network, on every pipeline network of every bundled
/// example: small moves (patterns kept, `Some`) and large ones (some pattern changes).
#[test]
fn bias_shift_from_the_spread_equals_evaluation() {
    let (mut kept, mut declined) = (0, 0);
    for entry in std::fs::read_dir("examples").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let data = Dataset::load(Path::new(&path), &DataLimits::default()).unwrap();
        let fx = ExactData::new(&data);
        for (plan, net) in pipeline_networks(&data) {
            let net = &net;
            for norm in [Normalisation::HalfMean, Normalisation::Mean] {
                let (ev, spread) = fx.evaluate_spread(net, norm);
                let Some(spread) = spread else { continue };
                let q = data.q;
                for (i, t) in ["1/1000", "-1/10", "3", "-250"].iter().enumerate() {
                    let db: Vec<Rat> = (0..q)
                        .map(|m| {
                            if (m + i) % 3 == 0 {
                                r(t)
                            } else {
                                r(t) * r("-1/2")
                            }
                        })
                        .collect();
                    let mut moved = net.clone();
                    moved.layers[0].b = (moved.layers[0].b.iter().zip(&db))
                        .map(|(a, d)| a + d)
                        .collect();
                    let full = fx.cost_margin(&moved, norm);
                    match spread.shifted(net, &db, &ev.sse, norm, data.n()) {
                        Some((cost, margin)) => {
                            kept += 1;
                            assert_eq!(cost, full.cost, "{}: {:?}", path.display(), plan);
                            assert_eq!(Some(margin), full.margin.map(|m| m.0));
                            let after = fx.evaluate(&moved, norm);
                            assert_eq!(after.patterns, ev.patterns, "patterns kept");
                        }
                        None => declined += 1,
                    }
                }
            }
        }
    }
    assert!(
        kept > 50 && declined > 20,
        "{kept} kept, {declined} declined"
    );
}

/// Timing of one exact evaluation (cost, gradient, margin) of the global minimizer on
/// `gen --classes 8 --per-class 12500 --spread 1 --seed 1` (N = 10⁵, Q = L = 8). Run with
/// `cargo test --release --test fastexact -- --ignored --nocapture perf`; prints timings,
/// asserts only equality with the naive path when `FASTEXACT_NAIVE=1`.
#[test]
#[ignore]
fn perf_global_minimizer_large() {
    use dlgeom_cert::construct::{build, plans};
    use std::time::Instant;
    let path = std::env::var("FASTEXACT_DATA").unwrap_or_else(|_| "/tmp/fx/g8.json".to_string());
    let data = Dataset::load(Path::new(&path), &DataLimits::default()).unwrap();
    let t = Instant::now();
    let c = build(&data, data.q, &plans::global(data.q)).expect("global minimizer builds");
    println!(
        "build: {:.2?}, max weight bits {}",
        t.elapsed(),
        c.network.max_bits()
    );
    let t = Instant::now();
    let sd = ScaledData::new(&data).expect("small denominators");
    println!(
        "scale data: {:.2?} (D has {} bits)",
        t.elapsed(),
        sd.denom.bit_size()
    );
    let t = Instant::now();
    let fast = evaluate_exact(&c.network, &data, Normalisation::HalfMean);
    println!(
        "fast exact evaluation: {:.2?} (cost {}, margin {:?})",
        t.elapsed(),
        fast.cost,
        fast.margin.as_ref().map(|m| m.0.to_f64())
    );
    let t = Instant::now();
    let again = evaluate_scaled(
        &ScaledNetwork::new(&c.network),
        &sd,
        Normalisation::HalfMean,
    );
    println!("  of which on pre-scaled data: {:.2?}", t.elapsed());
    assert_eq!(again.gradient, fast.gradient);
    let t = Instant::now();
    let light = ExactData::new(&data).cost_margin(&c.network, Normalisation::HalfMean);
    println!(
        "cost and margin only (scaling included): {:.2?}",
        t.elapsed()
    );
    assert_eq!(light.margin, fast.margin);
    let t = Instant::now();
    let g = group_moments(&data, &fast.patterns);
    println!("group moments: {:.2?} ({} groups)", t.elapsed(), g.len());
    if std::env::var("FASTEXACT_NAIVE").is_ok() {
        let t = Instant::now();
        let naive: Evaluation<Rat> = c.network.evaluate(&data, Normalisation::HalfMean);
        println!("naive exact evaluation: {:.2?}", t.elapsed());
        assert_eq!(fast.outputs, naive.outputs);
        assert_eq!(fast.cost, naive.cost);
        assert_eq!(fast.margin, naive.margin);
        assert_eq!(fast.gradient, naive.gradient);
        assert_eq!(fast.patterns, naive.patterns);
        let t = Instant::now();
        let slow = naive_groups(&data, &naive.patterns);
        println!("naive group moments: {:.2?}", t.elapsed());
        assert_eq!(g, slow);
    }
}
