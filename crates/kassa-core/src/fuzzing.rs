//! Entry points for the fuzz targets in `fuzz/` and for the corpus replay test
//! (`tests/fuzz_corpus.rs`): the order parser's here, each provider's beside its client
//! (`provider/<name>/fuzz.rs`, input layout in `provider/fuzz.rs`). Each feeds arbitrary bytes
//! to every function that turns outside input into Kassa's types and checks what can be
//! checked about the result: any input must give a value or a clean error, never a panic.
//!
//! Not an API: hidden from the docs, compiled only for tests and the `fuzzing` feature, called
//! by nothing in Kassa, and free to change with the parsers it reaches.

pub use crate::provider::bambora::fuzz::response as bambora_response;
pub use crate::provider::commercelayer::fuzz::response as commercelayer_response;
pub use crate::provider::dintero::fuzz::response as dintero_response;
pub use crate::provider::klarna::fuzz::response as klarna_response;
pub use crate::provider::opencharge::fuzz::response as opencharge_response;

/// The order parser and the pricing behind it: any text gives a priced order or a clean error,
/// and a priced order's totals are the sums of its lines.
pub fn order_parser(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(q) = crate::quote::quote_document(text, "FUZZ-1") {
        let gross: i64 = q.lines.iter().map(|l| l.gross).sum();
        let vat: i64 = q.lines.iter().map(|l| l.vat).sum();
        assert_eq!(q.total.gross, gross);
        assert_eq!(q.total.vat, vat);
        assert!(q.lines.iter().all(|l| l.net + l.vat == l.gross));
    }
}
