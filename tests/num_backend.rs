//! The checker's second arithmetic (`num_rational::BigRational`, module
//! `dlgeom_cert::checker::num`) against the first (malachite, `dlgeom_cert::arith::Rat`):
//! the same accepted texts, values and rejections, the same results of every field
//! operation, and its own gcd (Euclid with Lehmer steps) against malachite's, on random big
//! values and edge cases. Also: a 99,990-digit weight is checked (and rejected) by the num
//! backend in about the time malachite takes, where num-rational's own reduction (binary
//! gcd) took over a minute; comparisons of close big values do not recurse; and the
//! messages about the number of layers do not overflow.

use dlgeom_cert::arith::Rat;
use dlgeom_cert::cert::Certificate;
use dlgeom_cert::checker::num::{gcd, BigQ, Num};
use dlgeom_cert::checker::{check, Backend, CertLimits, Checker};
use dlgeom_cert::construct::plans;
use dlgeom_cert::data::{DataLimits, Dataset};
use dlgeom_cert::netio::network_from_json;
use dlgeom_cert::network::Normalisation;
use dlgeom_cert::verify::{run_plan, Options, Outcome};
use malachite_base::num::arithmetic::traits::Gcd;
use malachite_nz::natural::Natural;
use num_bigint::BigUint;
use proptest::prelude::*;
use std::str::FromStr;

type Big = BigQ;

fn nat(s: &str) -> BigUint {
    BigUint::from_str(s).unwrap()
}

/// gcd by malachite, as decimal text.
fn gcd_malachite(a: &str, b: &str) -> String {
    Natural::from_str(a)
        .unwrap()
        .gcd(Natural::from_str(b).unwrap())
        .to_string()
}

/// Decimal digits, first one nonzero (or `"0"`).
fn digits(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        prop::collection::vec(0u8..10, 1..=max).prop_map(|d| {
            let mut s: String = d.iter().map(|x| char::from(b'0' + x)).collect();
            if s.starts_with('0') {
                s.replace_range(0..1, "7");
            }
            s
        }),
    ]
}

/// A random rational as malachite's value (any sign, sometimes an integer), reduced.
fn rational(max: usize) -> impl Strategy<Value = Rat> {
    (any::<bool>(), digits(max), digits(max), 0u8..4).prop_map(|(neg, n, d, kind)| {
        let d = if kind == 0 || d == "0" { "1".into() } else { d };
        // A shared factor, so that the value is reduced from a non-canonical fraction.
        let text = if kind == 3 {
            format!("{n}0/{d}0")
        } else {
            format!("{n}/{d}")
        };
        let r = Rat::parse(&text).unwrap();
        if neg {
            -&r
        } else {
            r
        }
    })
}

fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b'/')
}

fn big(r: &Rat) -> Big {
    <Big as Num>::parse(&r.canonical()).unwrap()
}

/// Pairs of naturals whose Euclid sequences take every branch of the gcd: equal sizes
/// (Lehmer steps), one much larger (a division), a large common factor, shared powers
/// of two, values of one or two words.
fn gcd_pair() -> impl Strategy<Value = (String, String)> {
    (digits(400), digits(400), digits(300), 0u8..6, 0u32..200).prop_map(|(a, b, g, kind, k)| {
        let (a, b, g) = (nat(&a), nat(&b), nat(&g));
        let (a, b) = match kind {
            0 => (a, b),
            1 => (&a * &g, &b * &g),
            2 => (&a << k, &b << (k / 2)),
            3 => (&a * &b + 1u32, b),
            4 => (&a % 1_000_000_007u64, b),
            _ => (&a * (BigUint::from(1u32) << k) + &b, a),
        };
        (a.to_string(), b.to_string())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// The Lehmer gcd equals malachite's on every kind of pair, in both orders.
    #[test]
    fn gcd_equals_malachite((a, b) in gcd_pair()) {
        let want = gcd_malachite(&a, &b);
        prop_assert_eq!(gcd(&nat(&a), &nat(&b)).to_string(), want.clone());
        prop_assert_eq!(gcd(&nat(&b), &nat(&a)).to_string(), want);
    }

    /// Both backends accept the same texts with the same values and canonical text, and
    /// reject a non-canonical spelling of a value with the same message.
    #[test]
    fn parse_and_text_agree(neg in any::<bool>(), n in "[0-9]{1,60}", d in "[0-9]{0,60}",
                            junk in prop::sample::select(vec!["", "-", "/", "+", "/1", "0"])) {
        let sign = if neg { "-" } else { "" };
        let texts = [
            format!("{sign}{n}"),
            format!("{sign}{n}/{d}"),
            format!("{n}/-{d}"),
            format!("{sign}{n}{junk}"),
            format!("{junk}{n}/{d}"),
            format!("{sign}0{n}"),
        ];
        for s in texts {
            let (m, b) = (<Rat as Num>::parse(&s), <Big as Num>::parse(&s));
            prop_assert_eq!(m.is_ok(), b.is_ok(), "{:?}: {:?} vs {:?}", s, m, b);
            match (m, b) {
                (Ok(m), Ok(b)) => {
                    prop_assert_eq!(m.text(), s.clone());
                    prop_assert_eq!(b.text(), s.clone());
                }
                // Texts of digits, '-' and '/' only: num's parser has other extensions
                // than malachite's, so other texts are rejected by a different message.
                (Err(em), Err(eb)) if plain(&s) && em.contains("canonical text") => {
                    prop_assert_eq!(em, eb)
                }
                _ => {}
            }
        }
    }

    /// Every field operation gives the same canonical text in both backends.
    #[test]
    fn arithmetic_agrees(x in rational(150), y in rational(150), z in rational(40)) {
        let (bx, by, bz) = (big(&x), big(&y), big(&z));
        prop_assert_eq!(Num::add(&bx, &by).text(), Num::add(&x, &y).text());
        prop_assert_eq!(Num::sub(&bx, &by).text(), Num::sub(&x, &y).text());
        prop_assert_eq!(Num::sub(&bx, &bx).text(), "0");
        prop_assert_eq!(Num::mul(&bx, &by).text(), Num::mul(&x, &y).text());
        prop_assert_eq!(Num::mul(&bx, &bz).text(), Num::mul(&x, &z).text());
        prop_assert_eq!(
            Num::div(&bx, &by).map(|v| v.text()),
            Num::div(&x, &y).map(|v| v.text())
        );
        prop_assert_eq!(Num::div(&bx, &bx).map(|v| v.text()), Num::div(&x, &x).map(|v| v.text()));
        // Equal denominators, and a sum that cancels to an integer or to zero.
        let w = Num::sub(&z, &x);
        prop_assert_eq!(Num::add(&bx, &big(&w)).text(), z.text());
        prop_assert_eq!(Num::add(&bx, &Num::neg(&bx)).text(), "0");
        let (a, b) = (vec![bx.clone(), by.clone(), bz.clone()], vec![bz.clone(), bx.clone(), by.clone()]);
        let (ma, mb) = (vec![x.clone(), y.clone(), z.clone()], vec![z.clone(), x.clone(), y.clone()]);
        prop_assert_eq!(Num::dot(&a, &b).text(), Num::dot(&ma, &mb).text());
        prop_assert_eq!(<Big as Num>::denom_lcm(&a).text(), <Rat as Num>::denom_lcm(&ma).text());
        prop_assert_eq!(bx.partial_cmp(&by), x.partial_cmp(&y));
        prop_assert_eq!(Num::bits(&bx), Num::bits(&x));
        prop_assert_eq!(Num::to_f64(&bx).to_bits(), Num::to_f64(&x).to_bits());
        prop_assert_eq!(Num::mod_prime(&bx, 1_000_000_007), Num::mod_prime(&x, 1_000_000_007));
    }
}

/// Fixed edge cases of the gcd: zero, one, equal operands, adjacent Fibonacci numbers (every
/// quotient 1: the most Euclid steps), a power of two against an odd number, and operands
/// just around one and two machine words.
#[test]
fn gcd_edge_cases() {
    let (mut f0, mut f1) = (BigUint::from(0u32), BigUint::from(1u32));
    for _ in 0..3000 {
        (f0, f1) = (f1.clone(), f0 + f1);
    }
    let two = BigUint::from(2u32);
    let cases = [
        ("0".to_string(), "0".to_string()),
        ("0".into(), "12345678901234567890123456789".into()),
        ("1".into(), (&two << 500u32).to_string()),
        (f1.to_string(), f1.to_string()),
        (f1.to_string(), f0.to_string()),
        ((&f1 * 6u32).to_string(), (&f0 * 10u32).to_string()),
        (
            (&two << 4000u32).to_string(),
            ((&two << 3999u32) - 1u32).to_string(),
        ),
        ((&two << 4000u32).to_string(), (&two << 3000u32).to_string()),
        (u64::MAX.to_string(), (u128::MAX - 4).to_string()),
        (
            (BigUint::from(u128::MAX) + 1u32).to_string(),
            u128::MAX.to_string(),
        ),
        (
            ((&two << 127u32) * 3u32).to_string(),
            (&two << 190u32).to_string(),
        ),
    ];
    for (a, b) in cases {
        let want = gcd_malachite(&a, &b);
        assert_eq!(gcd(&nat(&a), &nat(&b)).to_string(), want, "gcd({a}, {b})");
        assert_eq!(gcd(&nat(&b), &nat(&a)).to_string(), want, "gcd({b}, {a})");
    }
}

/// Spellings both backends must reject (and the canonical ones around them they accept).
#[test]
fn non_canonical_spellings_rejected_by_both() {
    for s in [
        "-0", "00", "01", "1/1", "2/4", "3/-4", "-3/-4", "0/5", "0/1", "1/0", "0/0", "", "-", "/",
        "/2", "1/", "1//2", "1/2/3", "+1", "1_0", " 1", "1.5", "1e3", "--1", "1-", "-1/01",
    ] {
        assert!(<Rat as Num>::parse(s).is_err(), "malachite accepted {s:?}");
        assert!(<Big as Num>::parse(s).is_err(), "num accepted {s:?}");
    }
    for s in [
        "0",
        "-1",
        "1/2",
        "-3/4",
        "10",
        "123456789012345678901234567891/1024",
    ] {
        assert_eq!(<Big as Num>::parse(s).unwrap().text(), s);
        assert_eq!(<Rat as Num>::parse(s).unwrap().text(), s);
    }
    let (m, b) = (<Rat as Num>::parse("6/4"), <Big as Num>::parse("6/4"));
    assert_eq!(m.unwrap_err(), b.unwrap_err());
}

/// Data like `examples/two_classes.json` (fewer points) and the certificate of its global
/// minimizer.
fn global_certificate() -> (Dataset, Certificate) {
    let data = Dataset::from_json_bytes(
        br#"{"classes": [
          {"inputs": [["10", "0"], ["21/2", "-1/4"], ["39/4", "1/4"]]},
          {"target": ["-1/2", "2"], "inputs": [["0", "10"], ["1/2", "19/2"], ["-1/4", "41/4"]]}]}"#,
        &DataLimits::default(),
    )
    .unwrap();
    let opts = Options {
        layers: 2,
        norm: Normalisation::HalfMean,
        partition_limit: 0,
    };
    let Outcome::Built(b) = run_plan(&data, &opts, &plans::global(2)) else {
        panic!("no global minimizer");
    };
    (data, b.certificate)
}

/// The global certificate with one weight replaced by a 99,990-digit integer: both
/// backends reject it with the same message (the recomputed cost). Before the num backend
/// reduced with its own Lehmer gcd, every operation on that weight ran num-bigint's binary
/// gcd against a small operand, one bit at a time over the whole number: over a minute;
/// now both take well under a second (a bounded-size regression test: not timed, but it
/// would not finish within CI's budget with the old reduction).
#[test]
fn huge_weight_checked_by_num_as_by_malachite() {
    let (data, mut cert) = global_certificate();
    let weight: String = std::iter::once('3')
        .chain((1..99_990).map(|i| char::from(b'0' + (i * 7 % 10) as u8)))
        .collect();
    cert.network.layers[0].w[0][1] = weight;
    let (m, b) = (
        check(&cert, &data, Backend::Malachite),
        check(&cert, &data, Backend::Num),
    );
    assert!(!m.accepted() && !b.accepted());
    assert_eq!(format!("{m:?}"), format!("{b:?}"));
}

/// `L + 1` for `L = usize::MAX` is said as 18446744073709551616 (it wrapped to `0` in the
/// network reader's message, and saturated to `usize::MAX` in the checker's).
#[test]
fn layer_count_messages_do_not_overflow() {
    let net = r#"{"hidden_layers": 18446744073709551615, "width": 2, "layers": [
        {"w": [["1", "0"], ["0", "1"]], "b": ["0", "0"]},
        {"w": [["1", "0"], ["0", "1"]], "b": ["0", "0"]},
        {"w": [["1", "0"], ["0", "1"]], "b": ["0", "0"]}]}"#;
    let e = network_from_json(net.as_bytes()).unwrap_err();
    assert!(
        e.ends_with("\"layers\" has 3 entries (expected L + 1 = 18446744073709551616)"),
        "{e}"
    );
    let (data, mut cert) = global_certificate();
    cert.network.hidden_layers = usize::MAX;
    for backend in [Backend::Malachite, Backend::Num] {
        // Under the default --max-layers the claimed depth is refused before anything else.
        let r = check(&cert, &data, backend);
        let f = r.failures().next().expect("rejected");
        assert_eq!(
            f.detail,
            "network.hidden_layers: L = 18446744073709551615 exceeds the limit of 1000 hidden layers (raise it with --max-layers)"
        );
        // With the limit raised as far as it goes, the layer count itself is compared.
        let limits = CertLimits::default().with_max_layers(usize::MAX);
        let r = Checker::with_limits(&data, backend, limits).check(&cert);
        let f = r.failures().next().expect("rejected");
        assert_eq!(
            f.detail,
            "network.layers (length): claimed 3, recomputed 18446744073709551616"
        );
    }
    cert.network.hidden_layers = 2;
    cert.network.layers.clear();
    let r = check(&cert, &data, Backend::Num);
    let f = r.failures().next().expect("rejected");
    assert_eq!(f.detail, "network.layers (length): claimed 0, recomputed 3");
}

/// Adjacent Fibonacci ratios `F(n+1)/F(n)` and `F(n+2)/F(n+1)` (n = 100,000: 20,899 digits)
/// share `n` continued-fraction terms. num-rational's comparison recursed once per shared
/// term and overflowed the stack (an abort of the whole checker, not a rejection); the num
/// backend's comparison is one cross-multiplication, here in a thread with the default
/// 2 MiB stack. Equal values compare equal, and both backends agree.
#[test]
fn comparing_close_big_values_does_not_recurse() {
    let (mut f0, mut f1) = (BigUint::from(0u32), BigUint::from(1u32));
    for _ in 0..100_000 {
        (f0, f1) = (f1.clone(), f0 + f1);
    }
    let f2 = &f0 + &f1;
    let (s, t) = (format!("{f1}/{f0}"), format!("{f2}/{f1}"));
    let (ms, mt) = (Rat::parse(&s).unwrap(), Rat::parse(&t).unwrap());
    let want = (ms.partial_cmp(&mt), ms == mt);
    let got = std::thread::spawn(move || {
        let (a, b) = (
            <Big as Num>::parse(&s).unwrap(),
            <Big as Num>::parse(&t).unwrap(),
        );
        assert!(a == a.clone() && a <= a.clone());
        assert_eq!(a.partial_cmp(&b), b.partial_cmp(&a).map(|o| o.reverse()));
        (a.partial_cmp(&b), a == b)
    })
    .join()
    .expect("no stack overflow");
    assert_eq!(got, want);
    assert_eq!(want, (Some(std::cmp::Ordering::Greater), false));
}

/// Both backends round a computed value longer than any data number (here 150,000-digit
/// numerator and denominator) to the same `f64`: the num backend once read it back under
/// the data's default 100,000-digit limit and got NaN, so its float cross-check rejected a
/// certificate that malachite accepted (6 points with 4,000-digit denominators, `shallow`).
#[test]
fn long_values_round_to_the_same_f64_in_both_backends() {
    let q = format!("2{}", "0".repeat(149_999));
    let p = format!("2{}1", "0".repeat(149_998));
    let text = format!("{p}/{q}");
    let m = <Rat as Num>::parse(&text).unwrap();
    let b = <BigQ as Num>::parse(&text).unwrap();
    assert_eq!(Num::to_f64(&m), 1.0);
    assert_eq!(Num::to_f64(&b).to_bits(), Num::to_f64(&m).to_bits());
}
