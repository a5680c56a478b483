//! The JSON data reader on arbitrary bytes: never panics; an error is a non-empty message;
//! accepted data's canonical form reads back to the same data.
#![no_main]
use dlgeom_cert::data::{DataLimits, Dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let limits = DataLimits::default();
    match Dataset::from_json_bytes(bytes, &limits) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(d) => {
            let back = Dataset::from_json_bytes(d.canonical_json().as_bytes(), &limits)
                .expect("the canonical form of accepted data reads back");
            assert_eq!(back.sha256_canonical, d.sha256_canonical);
        }
    }
});
