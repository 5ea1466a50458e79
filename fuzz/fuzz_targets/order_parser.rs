//! Fuzzes the order parser and the pricing behind it: any input must give a priced order or a
//! clean error, never a panic; and a priced order's totals must be the sums of its lines.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = kassa_core::quote_document(text, "FUZZ-1") {
        let gross: i64 = q.lines.iter().map(|l| l.gross).sum();
        let vat: i64 = q.lines.iter().map(|l| l.vat).sum();
        assert_eq!(q.total.gross, gross);
        assert_eq!(q.total.vat, vat);
        assert!(q.lines.iter().all(|l| l.net + l.vat == l.gross));
    }
});
