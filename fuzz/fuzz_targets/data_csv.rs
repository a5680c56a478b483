//! The CSV data reader on arbitrary bytes: never panics; an error is a non-empty message.
#![no_main]
use dlgeom_cert::data::{DataLimits, Dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(e) = Dataset::from_csv_bytes(bytes, &DataLimits::default()) {
        assert!(!e.to_string().is_empty());
    }
});
