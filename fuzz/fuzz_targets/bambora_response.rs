//! Fuzzes every parser of Bambora's answers: any answer must give a value or a clean error,
//! never a panic. The input layout and the checks are in
//! `kassa_core::fuzzing::bambora_response`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kassa_core::fuzzing::bambora_response(data));
