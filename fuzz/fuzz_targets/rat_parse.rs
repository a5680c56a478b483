//! `Rat::parse` on arbitrary text: never panics; an accepted number's canonical text reads
//! back (under the same default limits) to the same value.
#![no_main]
use dlgeom_cert::arith::Rat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(s) = std::str::from_utf8(bytes) else {
        return;
    };
    match Rat::parse(s) {
        Err(e) => assert!(!e.0.is_empty()),
        Ok(x) => assert_eq!(Rat::parse(&x.canonical()).as_ref(), Ok(&x)),
    }
});
