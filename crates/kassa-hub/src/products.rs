//! The shared product list: the hub's, folded from the price changes every till journals
//! (`receive.rs`); each till pulls it into its `products.json`, the cache it sells from, also
//! when the hub is out of reach.

use crate::{Hub, HubError};
use kassa_core::catalog::{Catalog, Product};
use std::path::Path;

/// Replaces the cache in `dir` with the hub's list; the number of products.
pub fn pull_products(hub: &Hub, dir: &Path) -> Result<usize, HubError> {
    Ok(pull_products_if_changed(hub, dir)?
        .unwrap_or_else(|| Catalog::load(dir).map_or(0, |c| c.products.len())))
}

/// As [`pull_products`], but writes the cache only when the hub's list differs from it: the
/// number of products then, `None` when the cache already was the hub's list (the background
/// sender asks every round; a till reloads its list only when it changed).
pub fn pull_products_if_changed(hub: &Hub, dir: &Path) -> Result<Option<usize>, HubError> {
    let mut conn = hub.connection()?;
    let rows = conn
        .query(
            "SELECT sku, name, unit_price, vat_rate FROM products WHERE NOT removed ORDER BY sku",
            &[],
        )
        .map_err(|e| hub.named(e.into()))?;
    // Quick keys are this till's own choice: a pulled product keeps the mark it had here.
    let local = Catalog::load(dir).unwrap_or_default();
    let mut catalog = Catalog::default();
    for r in rows {
        let sku: String = r.get(0);
        let favourite = local.find(&sku).is_some_and(|p| p.favourite);
        let p = Product {
            sku,
            name: r.get(1),
            unit_price: r.get(2),
            vat_rate: r.get(3),
            favourite,
        };
        // A product another till journaled passed the same validation there.
        catalog.add(p).map_err(|problems| {
            HubError::Products(format!(
                "the hub's product list has a bad entry: {problems:?}"
            ))
        })?;
    }
    if catalog == local {
        return Ok(None);
    }
    catalog.save(dir).map_err(HubError::Products)?;
    Ok(Some(catalog.products.len()))
}
