//! The CSV data reader on arbitrary bytes: never panics; an error is a non-empty message;
//! an accepted file holds one point per non-comment row, except a first row dropped as a
//! header by the explicit rule (`dlgeom_cert::data::is_header_name` for every coordinate
//! field): no row ever disappears because its numbers failed to parse.
#![no_main]
use dlgeom_cert::data::{is_header_name, DataLimits, Dataset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    match Dataset::from_csv_bytes(bytes, &DataLimits::default()) {
        Err(e) => assert!(!e.to_string().is_empty()),
        Ok(d) => {
            let text = std::str::from_utf8(bytes).expect("accepted text is UTF-8");
            let text = text.strip_prefix('\u{feff}').unwrap_or(text);
            let rows: Vec<&str> = text
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
                .collect();
            // As the reader: surrounding spaces, then one pair of double quotes, removed.
            let unquote = |f: &str| {
                let t = f.trim();
                if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
                    t[1..t.len() - 1].trim().to_string()
                } else {
                    t.to_string()
                }
            };
            let header = rows[0].split(',').skip(1).all(|f| is_header_name(&unquote(f)));
            assert_eq!(d.n(), rows.len() - usize::from(header));
        }
    }
});
