//! The exact-JSON and safetensors network readers (`certify --network`) on arbitrary bytes:
//! never panic; an error is a non-empty message.
#![no_main]
use dlgeom_cert::netio::{network_from_json, network_from_safetensors};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(e) = network_from_json(bytes) {
        assert!(!e.is_empty());
    }
    if let Err(e) = network_from_safetensors(bytes) {
        assert!(!e.is_empty());
    }
});
