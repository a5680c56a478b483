//! `Rat::parse_with` on arbitrary text under limits taken from the input (any exponent
//! limit up to `u64::MAX`, small digit limits): never panics; an accepted number has exactly
//! the value that the independent reference reader of the test suite
//! (`tests/common/decimal.rs`, on num-bigint) gives, and its canonical text reads back to
//! the same value; a refused one is refused by the reference too.
#![no_main]
use dlgeom_cert::arith::{ParseLimits, Rat};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/decimal.rs"]
mod decimal;

fuzz_target!(|bytes: &[u8]| {
    if bytes.len() < 3 {
        return;
    }
    let max_exponent = match bytes[0] % 4 {
        0 => u64::MAX,
        1 => 10_000,
        2 => u64::from(bytes[1]),
        _ => u64::MAX - u64::from(bytes[1]),
    };
    let limits = ParseLimits {
        max_exponent,
        max_digits: 1 + usize::from(bytes[2]) * 8,
    };
    let Ok(s) = std::str::from_utf8(&bytes[3..]) else {
        return;
    };
    match (Rat::parse_with(s, &limits), decimal::reference(s, &limits)) {
        (Err(e), None) => assert!(!e.0.is_empty()),
        (Ok(x), Some(v)) => {
            assert_eq!(x.canonical(), decimal::canon(&v));
            assert_eq!(Rat::parse_with(&x.canonical(), &limits).as_ref(), Ok(&x));
        }
        (Ok(x), None) => panic!("{s:?} accepted as {x} under {limits:?}; the reference refuses it"),
        (Err(e), Some(v)) => panic!("{s:?} refused ({e}); the reference reads {}", decimal::canon(&v)),
    }
});
