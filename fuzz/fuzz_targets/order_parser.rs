//! Fuzzes the order parser and the pricing behind it: any input must give a priced order or a
//! clean error, never a panic; and a priced order's totals must be the sums of its lines. The
//! checks are in `kassa_core::fuzzing::order_parser`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kassa_core::fuzzing::order_parser(data));
