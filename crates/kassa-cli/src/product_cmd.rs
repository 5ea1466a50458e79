//! `kassa-cli product add|list|remove`: the product list (`products.json`), each change
//! journaled as a price change, which is also how it reaches the shop's hub and other tills.

use crate::station::{store_failure, Station};
use crate::Failure;
use kassa_core::catalog::{self, Catalog, PriceChange, ProductEntry};
use kassa_core::journal::Kind;
use kassa_core::store::NewEvent;
use std::path::Path;

#[derive(clap::Args)]
pub struct AddArgs {
    #[arg(long)]
    pub sku: String,
    #[arg(long)]
    pub name: String,
    /// In major units as typed (`34,50` or `34.50`), in the shop's price convention.
    #[arg(long)]
    pub price: String,
    /// Percent (`15`).
    #[arg(long)]
    pub vat: String,
    /// A quick key on this till's counter.
    #[arg(long)]
    pub quick_key: bool,
}

/// The operator is checked before the list changes; the entry is written after it did.
fn journaled(
    dir: &Path,
    change: impl FnOnce() -> Result<PriceChange, Failure>,
) -> Result<(), Failure> {
    let mut station = Station::open_without_reconciling(dir)?;
    let by = station.operator()?;
    let change = change()?;
    station
        .log
        .journal_event(&NewEvent {
            kind: Kind::PriceChange,
            operator_id: Some(by.id()),
            session_id: None,
            ref_seq: None,
            body: change.to_json(),
            at: kassa_core::time::now_millis(),
        })
        .map_err(store_failure)?;
    Ok(())
}

fn load(dir: &Path) -> Result<Catalog, Failure> {
    Catalog::load(dir).map_err(Failure::System)
}

pub fn add(dir: &Path, a: &AddArgs) -> Result<(), Failure> {
    let settings =
        kassa_core::settings::Settings::load(dir).map_err(crate::config_cmd::settings_failure)?;
    let code = settings
        .get("shop.currency")
        .ok()
        .flatten()
        .unwrap_or_default();
    let currency = kassa_core::money::Currency::from_code(&code)
        .ok_or_else(|| Failure::Invalid(format!("shop.currency {code:?} is not known")))?;
    let entry = ProductEntry {
        sku: a.sku.clone(),
        name: a.name.clone(),
        unit_price: a.price.clone(),
        vat_rate: a.vat.clone(),
        favourite: a.quick_key,
    };
    let product = catalog::entry_to_product(&entry, currency).map_err(|problems| {
        Failure::Invalid(
            problems
                .iter()
                .map(|p| {
                    format!(
                        "--{}: {}",
                        p.path
                            .replace("unit_price", "price")
                            .replace("vat_rate", "vat"),
                        p.reason
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    journaled(dir, || {
        let mut list = load(dir)?;
        let before = list.find(&product.sku).cloned();
        list.add(product.clone())
            .map_err(|p| Failure::Invalid(format!("{p:?}")))?;
        list.save(dir).map_err(Failure::System)?;
        Ok(PriceChange::saved(before.as_ref(), &product))
    })?;
    println!("saved {} ({})", product.sku, product.name);
    Ok(())
}

pub fn remove(dir: &Path, sku: &str) -> Result<(), Failure> {
    journaled(dir, || {
        let mut list = load(dir)?;
        let before = list.find(sku).cloned();
        if !list.remove(sku) {
            return Err(Failure::Invalid(format!("no product {sku:?}")));
        }
        list.save(dir).map_err(Failure::System)?;
        Ok(PriceChange::removed(sku, before.as_ref()))
    })?;
    println!("removed {sku}");
    Ok(())
}

pub fn list(dir: &Path, json: bool) -> Result<(), Failure> {
    let list = load(dir)?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&list.products).expect("serializes")
        );
        return Ok(());
    }
    for p in &list.products {
        println!(
            "{:<20} {:>10} {:>6}%  {}",
            p.sku, p.unit_price, p.vat_rate, p.name
        );
    }
    Ok(())
}
