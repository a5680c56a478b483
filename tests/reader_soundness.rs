//! The shared input reader reads every accepted text exactly as written (soundness issue,
//! items 1, 2 and 8):
//! - the number parser's value equals an independent, slow reference reader (written here
//!   with `num-bigint`, the exponent as a big integer) for every text it accepts, under any
//!   limits — including `--max-exponent 18446744073709551615`, where a fixed-width exponent
//!   used to wrap (`1e18446744073709551615` was read as `1/10`);
//! - a number whose value cannot be held is refused before anything is allocated;
//! - a CSV row is never dropped because its numbers fail to parse: the points read are
//!   exactly the rows of the file, a header is recognised only by its explicit rule, and a
//!   number that does not parse is an error naming its line and column.

mod common;
use common::decimal::{canon, reference};
use dlgeom_cert::arith::{ParseLimits, Rat};
use dlgeom_cert::data::{is_header_name, DataLimits, Dataset};
use proptest::prelude::*;
use std::process::Command;

fn check_against_reference(text: &str, limits: &ParseLimits) -> Result<(), TestCaseError> {
    let got = Rat::parse_with(text, limits);
    match (got, reference(text, limits)) {
        (Ok(x), Some(v)) => prop_assert_eq!(x.canonical(), canon(&v), "text {:?}", text),
        (Err(_), None) => {}
        (Ok(x), None) => {
            return Err(TestCaseError::fail(format!(
                "{text:?} accepted as {} under {limits:?}; the reference refuses it",
                x.canonical()
            )))
        }
        (Err(e), Some(v)) => {
            return Err(TestCaseError::fail(format!(
                "{text:?} refused under {limits:?} ({e}); the reference reads {}",
                canon(&v)
            )))
        }
    }
    Ok(())
}

/// Exponent texts of every length around the 64-bit boundary, and limits from tiny to the
/// largest value a flag takes.
fn limits() -> impl Strategy<Value = ParseLimits> {
    (
        prop_oneof![
            Just(0u64),
            0u64..40,
            Just(10_000u64),
            Just(i64::MAX as u64),
            Just(u64::MAX - 1),
            Just(u64::MAX),
            any::<u64>(),
        ],
        prop_oneof![1usize..40, 40usize..3_000],
    )
        .prop_map(|(max_exponent, max_digits)| ParseLimits {
            max_exponent,
            max_digits,
        })
}

fn number_text() -> impl Strategy<Value = String> {
    let exponent = prop_oneof![
        "[0-9]{1,3}",
        "0{0,30}[0-9]{1,3}",
        "[0-9]{17,25}",
        Just("18446744073709551615".to_string()),
        Just("18446744073709551616".to_string()),
        Just("9223372036854775807".to_string()),
        Just("9223372036854775808".to_string()),
    ];
    (
        "[-+]?",
        prop_oneof![
            "[0-9]{1,6}",
            "0{1,4}",
            "[0-9]{0,4}\\.[0-9]{1,6}",
            "[0-9]{1,3}\\."
        ],
        prop::option::of(("[eE]", "[-+]?", exponent)),
    )
        .prop_map(|(sign, mant, exp)| match exp {
            None => format!("{sign}{mant}"),
            Some((e, es, d)) => format!("{sign}{mant}{e}{es}{d}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Every accepted text has the reference's value; every refused text is refused by the
    /// reference, whatever the limits.
    #[test]
    fn parser_equals_reference_under_any_limits(text in number_text(), limits in limits()) {
        check_against_reference(&text, &limits)?;
    }
}

#[test]
fn exponents_beyond_64_bits_never_wrap() {
    let wide = ParseLimits {
        max_exponent: u64::MAX,
        max_digits: 100_000,
    };
    for text in [
        "1e18446744073709551615",
        "2.5e-99999999999999999999",
        "1e18446744073709551616",
        "7e-18446744073709551615",
        "1e9223372036854775808",
    ] {
        let got = Rat::parse_with(text, &wide);
        assert!(got.is_err(), "{text} read as {}", got.unwrap().canonical());
    }
    // A zero mantissa is zero whatever the exponent, and allocates nothing.
    assert_eq!(
        Rat::parse_with("0e18446744073709551615", &wide)
            .unwrap()
            .canonical(),
        "0"
    );
    // At the default limits the old messages stay.
    let e = Rat::parse("1e18446744073709551615").unwrap_err();
    assert!(
        e.0.contains("exponent magnitude exceeds the limit of 10000"),
        "{e}"
    );
}

#[test]
fn raised_limits_refuse_what_memory_cannot_hold_before_allocating() {
    let huge = ParseLimits {
        max_exponent: u64::MAX,
        max_digits: usize::MAX,
    };
    let e = Rat::parse_with("1e999999999999999999", &huge).unwrap_err();
    assert!(e.0.contains("more than this tool can hold"), "{e}");
    let e = Rat::parse_with("3e-999999999999999999", &huge).unwrap_err();
    assert!(e.0.contains("more than this tool can hold"), "{e}");
    // Within the digit limit the size is judged before the power of ten is formed.
    let lim = ParseLimits {
        max_exponent: u64::MAX,
        max_digits: 100_000,
    };
    let e = Rat::parse_with("1e999999999999999999", &lim).unwrap_err();
    assert!(e.0.contains("digits in lowest terms"), "{e}");
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dlgeom-cert"))
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dlgeom-reader-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn verify_refuses_a_huge_exponent_with_raised_limits_cleanly() {
    let dir = tmp("huge");
    let data = dir.join("d.json");
    std::fs::write(
        &data,
        r#"{"classes":[{"inputs":[["1e999999999999999999","0"]]},{"inputs":[["0","1"]]}]}"#,
    )
    .unwrap();
    let out = bin()
        .args(["verify", data.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .args(["--max-exponent", "18446744073709551615"])
        .args(["--max-digits", "18446744073709551615"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("class 1") && err.contains("point 1") && err.contains("coordinate 1"),
        "{err}"
    );
    assert!(!dir.join("out").exists());
}

// ---------------------------------------------------------------------------------------
// CSV: the rows read are the rows written
// ---------------------------------------------------------------------------------------

fn csv(text: &str, limits: &DataLimits) -> Result<Dataset, String> {
    Dataset::from_csv_bytes(text.as_bytes(), limits).map_err(|e| e.message)
}

#[test]
fn a_first_row_whose_numbers_fail_is_an_error_not_a_header() {
    // As the review built it: the first row is the same input as the second, in another
    // class (`1e10001 = 10e10000`). Dropping it left data that certifies at cost 0.
    let text = "b,1e10001,1e10001\na,10e10000,10e10000\nb,0,0\n";
    let e = csv(text, &DataLimits::default()).unwrap_err();
    assert!(
        e.starts_with("line 1, column 2 (class \"b\", coordinate 1)")
            && e.contains("exponent magnitude exceeds the limit"),
        "{e}"
    );
    // Raising the limit reads all three rows: the data as written.
    let mut raised = DataLimits::default();
    raised.number.max_exponent = 10_001;
    let d = csv(text, &raised).unwrap();
    assert_eq!(d.counts(), vec![2, 1]);
    assert_eq!(d.classes[0].inputs[0], d.classes[1].inputs[0]);

    for first in ["a,NaN,inf", "a,inf,1", "a,-x,y", "a,x,1"] {
        let e = csv(&format!("{first}\na,0,0\nb,1,1\n"), &DataLimits::default()).unwrap_err();
        assert!(e.starts_with("line 1, column"), "{first}: {e}");
    }
}

#[test]
fn a_header_naming_a_class_is_refused() {
    let e = csv("a,x,y\na,0,0\nb,1,1\n", &DataLimits::default()).unwrap_err();
    assert!(e.starts_with("line 1: this row is read as a header"), "{e}");
    let d = csv("label,x,y\na,0,0\nb,1,1\n", &DataLimits::default()).unwrap();
    assert_eq!(d.counts(), vec![1, 1]);
}

#[test]
fn verify_of_the_review_csv_exits_2_and_writes_nothing() {
    let dir = tmp("csv");
    let data = dir.join("d.csv");
    std::fs::write(&data, "b,1e10001,1e10001\na,10e10000,10e10000\nb,0,0\n").unwrap();
    let out = bin()
        .args(["verify", data.to_str().unwrap(), "--out"])
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1, column 2"), "{err}");
    assert!(!dir.join("out").exists());
}

/// A CSV field: numbers, number-like garbage, names.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{1,3}(\\.[0-9]{1,2})?",
        "[0-9]{1,2}/[1-9]",
        Just("1e10001".to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("-inf".to_string()),
        Just("1/0".to_string()),
        "[a-z_][a-z0-9]{0,3}",
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Whatever the rows, a loaded data set holds exactly the file's rows, except a first
    /// row dropped as a header by the explicit rule; every other row is a point with the
    /// exact values written.
    #[test]
    fn csv_points_are_exactly_the_rows(
        rows in prop::collection::vec(
            ("[ab]", prop::collection::vec(field(), 2)), 1..6
        )
    ) {
        let text: String = rows
            .iter()
            .map(|(l, fs)| format!("{l},{}\n", fs.join(",")))
            .collect();
        let limits = DataLimits::default();
        if let Ok(d) = csv(&text, &limits) {
            let header = rows[0].1.iter().all(|f| is_header_name(f));
            let data_rows = if header { &rows[1..] } else { &rows[..] };
            prop_assert_eq!(d.n(), data_rows.len(), "{}", text);
            let mut seen = [0usize; 2];
            for (label, fs) in data_rows {
                let j = d.classes.iter().position(|c| c.name.as_deref() == Some(label.as_str()));
                let j = j.expect("every data row's label is a class");
                let got = &d.classes[j].inputs[seen[j]];
                for (g, f) in got.iter().zip(fs) {
                    let want = reference(f, &limits.number).expect("a read coordinate parses");
                    prop_assert_eq!(g.canonical(), canon(&want));
                }
                seen[j] += 1;
            }
        }
    }
}
