//! `kassa-cli saft --from YYYY-MM-DD --to YYYY-MM-DD --out FILE|DIR`: the register's journal
//! for those local dates as a SAF-T Cash Register file (`kassa_core::saft`), streamed; a
//! directory gets the conventional name `SAF-T Cash Register_<org number>_<yyyymmddhhmmss>_<n>.xml`.
//! The export is journaled (event 13020).

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::catalog::Catalog;
use kassa_core::receipt::Seller;
use kassa_core::saft::{self, ExportRequest, SaftError};
use std::path::Path;

pub fn run(dir: &Path, from: &str, to: &str, out: &Path) -> Result<(), Failure> {
    let mut station = Station::open_without_reconciling(dir)?;
    let who = station.operator()?;
    let seller = Seller::from_settings(&station.settings);
    let catalog = Catalog::load(dir).map_err(Failure::System)?;
    let done = saft::export(
        &mut station.log,
        &ExportRequest {
            from,
            to,
            out,
            seller: &seller,
            catalog: &catalog,
            by: &who,
            now: kassa_core::time::now_millis(),
        },
    )
    .map_err(|e| match e {
        SaftError::Invalid(m) => Failure::Invalid(m),
        SaftError::Store(s) => store_failure(s),
        other => Failure::System(other.to_string()),
    })?;
    println!("{}", done.path.display());
    eprintln!(
        "{} events, {} cash transactions, {} bytes; the export is journal entry {}",
        done.events, done.transactions, done.bytes, done.entry_seq
    );
    Ok(())
}
