//! Any bytes as a captured message: the validator must report findings, never panic or hang.
#![no_main]

use direct_conformance::validate::{ValidationOptions, validate_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ValidationOptions::default();
    let _ = validate_message("fuzz", data, &options);
});
