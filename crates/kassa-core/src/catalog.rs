//! The shop's small product list (SKU, name, price, VAT rate), so a barcode scan or a typed SKU
//! fills a cart line. Kept in `products.json` in the data directory, validated on load and on
//! every change, written atomically (temp file + rename).
//!
//! Prices are minor units of the shop's currency, in the shop's price convention
//! (`shop.prices_include_vat`), exactly like a cart line's unit price.

use crate::counter::CartLine;
use crate::money::Currency;
use crate::order::{Problem, VatRate};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The product list's file name in the data directory.
pub const FILE_NAME: &str = "products.json";

/// Longest SKU accepted (EAN-13/UPC codes are 12–14 digits; internal codes are short).
const MAX_SKU: usize = 64;

/// One product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: String,
    pub name: String,
    /// Minor units.
    pub unit_price: i64,
    /// Canonical percent string (`"25"`, `"11.11"`).
    pub vat_rate: String,
    /// A quick key on the counter (the first [`QUICK_KEYS`] favourites in list order).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub favourite: bool,
}

/// How many favourites the counter shows as quick keys (digit keys 1–9, then 0, …).
pub const QUICK_KEYS: usize = 12;

/// What a person typed into the product form (price in major units as typed).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductEntry {
    pub sku: String,
    pub name: String,
    pub unit_price: String,
    pub vat_rate: String,
    /// A quick key on the counter.
    #[serde(default)]
    pub favourite: bool,
}

/// The product list, in the order the shop entered it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Catalog {
    pub products: Vec<Product>,
}

/// A SKU as scanners and people type it: trimmed, no whitespace or control characters inside.
fn check_sku(sku: &str) -> Result<(), String> {
    if sku.is_empty() {
        return Err("a SKU is required".into());
    }
    if sku.len() > MAX_SKU {
        return Err(format!("a SKU has at most {MAX_SKU} characters"));
    }
    if sku.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{sku:?} contains a space or a control character"));
    }
    Ok(())
}

impl Catalog {
    /// Loads the list from `dir`; a missing file is an empty list.
    pub fn load(dir: &Path) -> Result<Catalog, String> {
        let path = dir.join(FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Catalog::default()),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let products: Vec<Product> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a valid product list: {e}", path.display()))?;
        let mut catalog = Catalog::default();
        for p in products {
            catalog
                .add(p)
                .map_err(|e| format!("{}: {}", path.display(), e[0]))?;
        }
        Ok(catalog)
    }

    /// Writes the list to `dir/products.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let path = dir.join(FILE_NAME);
        let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
        let text = serde_json::to_string_pretty(&self.products).expect("products serialize") + "\n";
        std::fs::create_dir_all(dir)
            .and_then(|_| std::fs::write(&tmp, text))
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    /// Adds a product, or replaces the one with the same SKU.
    pub fn add(&mut self, p: Product) -> Result<(), Vec<Problem>> {
        let mut problems = Vec::new();
        let mut bad = |path: &str, reason: String| {
            problems.push(Problem {
                path: path.into(),
                reason,
                ..Default::default()
            })
        };
        if let Err(r) = check_sku(&p.sku) {
            bad("sku", r);
        }
        if p.name.trim().is_empty() {
            bad("name", "a name is required".into());
        }
        if p.unit_price < 0 {
            bad("unit_price", "a price cannot be negative".into());
        }
        if VatRate::parse_percent(&p.vat_rate).is_err() {
            bad("vat_rate", format!("{:?} is not a VAT rate", p.vat_rate));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        match self.products.iter_mut().find(|q| q.sku == p.sku) {
            Some(q) => *q = p,
            None => self.products.push(p),
        }
        Ok(())
    }

    /// Removes the product with `sku`; false if there was none.
    pub fn remove(&mut self, sku: &str) -> bool {
        let before = self.products.len();
        self.products.retain(|p| p.sku != sku);
        self.products.len() != before
    }

    /// The product with exactly this SKU (surrounding whitespace ignored, as scanners add none
    /// but people do).
    pub fn find(&self, sku: &str) -> Option<&Product> {
        let sku = sku.trim();
        self.products.iter().find(|p| p.sku == sku)
    }

    /// The counter's quick keys: the favourites, in list order, at most [`QUICK_KEYS`].
    pub fn quick_keys(&self) -> impl Iterator<Item = &Product> {
        self.products
            .iter()
            .filter(|p| p.favourite)
            .take(QUICK_KEYS)
    }

    /// A cart line for a scanned or typed SKU, quantity 1.
    pub fn line_for(&self, sku: &str) -> Option<CartLine> {
        self.find(sku).map(|p| CartLine {
            sku: Some(p.sku.clone()),
            name: p.name.clone(),
            quantity: "1".into(),
            unit_price: p.unit_price,
            vat_rate: p.vat_rate.clone(),
            discount: 0,
        })
    }
}

/// What a price-change journal entry says (Kind::PriceChange): the product as it became, its
/// price before (`from`) and after (`to`; `None`: removed). The shop's hub folds these into its
/// shared product list, so this shape is read by other tills too: add fields, never rename.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceChange {
    pub sku: String,
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// A quick key on the counter (shared like the rest of the product; absent in entries
    /// written before quick keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub favourite: Option<bool>,
}

impl PriceChange {
    /// `product` added or changed; `before` is what the list held under its SKU.
    pub fn saved(before: Option<&Product>, product: &Product) -> PriceChange {
        PriceChange {
            sku: product.sku.clone(),
            name: Some(product.name.clone()),
            vat_rate: Some(product.vat_rate.clone()),
            from: before.map(|p| p.unit_price),
            to: Some(product.unit_price),
            favourite: Some(product.favourite),
        }
    }

    /// The product under `sku` removed (`before`: what it was).
    pub fn removed(sku: &str, before: Option<&Product>) -> PriceChange {
        PriceChange {
            sku: sku.to_string(),
            name: before.map(|p| p.name.clone()),
            vat_rate: None,
            from: before.map(|p| p.unit_price),
            to: None,
            favourite: None,
        }
    }

    /// The product it leaves in the list, if any.
    pub fn product(&self) -> Option<Product> {
        Some(Product {
            sku: self.sku.clone(),
            name: self.name.clone()?,
            unit_price: self.to?,
            vat_rate: self.vat_rate.clone()?,
            favourite: self.favourite.unwrap_or(false),
        })
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a price change serializes")
    }
}

/// Turns a typed product into a product, or says which field is wrong.
pub fn entry_to_product(entry: &ProductEntry, currency: Currency) -> Result<Product, Vec<Problem>> {
    let mut problems = Vec::new();
    let price = currency.parse_major(&entry.unit_price).map_err(|r| {
        problems.push(Problem {
            path: "unit_price".into(),
            reason: r,
            ..Default::default()
        })
    });
    let vat = VatRate::parse_percent(entry.vat_rate.trim()).map_err(|r| {
        problems.push(Problem {
            path: "vat_rate".into(),
            reason: r,
            ..Default::default()
        })
    });
    let product = Product {
        sku: entry.sku.trim().to_string(),
        name: entry.name.trim().to_string(),
        unit_price: *price.as_ref().unwrap_or(&0),
        vat_rate: vat
            .as_ref()
            .map(|v| v.to_percent_string())
            .unwrap_or_default(),
        favourite: entry.favourite,
    };
    let mut check = Catalog::default();
    if let Err(more) = check.add(product.clone()) {
        problems.extend(more.into_iter().filter(|p| {
            // Price and rate problems are already reported from the typed text.
            p.path != "unit_price" && p.path != "vat_rate"
        }));
    }
    if problems.is_empty() {
        Ok(product)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sku: &str, name: &str, price: &str, vat: &str) -> ProductEntry {
        ProductEntry {
            sku: sku.into(),
            name: name.into(),
            unit_price: price.into(),
            vat_rate: vat.into(),
            favourite: false,
        }
    }

    #[test]
    fn typed_products_become_minor_units_and_lines() {
        let nok = Currency::from_code("NOK").unwrap();
        let p =
            entry_to_product(&entry(" 7038010009457 ", "Melk 1 l", "23,90", "15"), nok).unwrap();
        assert_eq!(p.sku, "7038010009457");
        assert_eq!(p.unit_price, 2390);
        let mut c = Catalog::default();
        c.add(p).unwrap();
        let line = c.line_for("7038010009457").unwrap();
        assert_eq!(line.unit_price, 2390);
        assert_eq!(line.vat_rate, "15");
        assert_eq!(line.quantity, "1");
        assert!(c.line_for("703801000945").is_none(), "exact SKU only");
    }

    #[test]
    fn bad_products_name_each_field() {
        let nok = Currency::from_code("NOK").unwrap();
        let e = entry_to_product(&entry("a b", "", "x", "200"), nok).unwrap_err();
        let paths: Vec<&str> = e.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["unit_price", "vat_rate", "sku", "name"], "{e:?}");
    }

    #[test]
    fn same_sku_replaces_and_the_file_round_trips() {
        let dir = std::env::temp_dir().join(format!("kassa-catalog-{}", std::process::id()));
        let mut c = Catalog::default();
        let p = |price| Product {
            sku: "A1".into(),
            name: "Kaffe".into(),
            unit_price: price,
            vat_rate: "15".into(),
            favourite: false,
        };
        c.add(p(100)).unwrap();
        c.add(p(200)).unwrap();
        assert_eq!(c.products, vec![p(200)]);
        c.save(&dir).unwrap();
        assert_eq!(Catalog::load(&dir).unwrap(), c);
        assert!(c.remove("A1") && !c.remove("A1"));
        std::fs::write(
            dir.join(FILE_NAME),
            "[{\"sku\":\"\",\"name\":\"x\",\"unit_price\":1,\"vat_rate\":\"25\"}]",
        )
        .unwrap();
        assert!(Catalog::load(&dir).unwrap_err().contains("SKU is required"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn favourites_are_the_quick_keys_in_list_order_and_old_files_have_none() {
        let nok = Currency::from_code("NOK").unwrap();
        let mut c = Catalog::default();
        for i in 0..15 {
            let mut e = entry(&format!("S{i}"), &format!("Vare {i}"), "10", "25");
            e.favourite = i != 3;
            c.add(entry_to_product(&e, nok).unwrap()).unwrap();
        }
        let keys: Vec<&str> = c.quick_keys().map(|p| p.sku.as_str()).collect();
        assert_eq!(keys.len(), QUICK_KEYS);
        assert_eq!(&keys[..4], ["S0", "S1", "S2", "S4"]);
        // A list written before quick keys (no `favourite`) loads with none; a favourite is
        // written, a plain product is written as before.
        let dir = std::env::temp_dir().join(format!("kassa-catalog-fav-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join(FILE_NAME),
            "[{\"sku\":\"A\",\"name\":\"x\",\"unit_price\":1,\"vat_rate\":\"25\"}]",
        )
        .unwrap();
        let mut old = Catalog::load(&dir).unwrap();
        assert_eq!(old.quick_keys().count(), 0);
        old.products[0].favourite = true;
        old.add(Product {
            sku: "B".into(),
            name: "y".into(),
            unit_price: 2,
            vat_rate: "15".into(),
            favourite: false,
        })
        .unwrap();
        old.save(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join(FILE_NAME)).unwrap();
        assert_eq!(text.matches("favourite").count(), 1, "{text}");
        assert_eq!(Catalog::load(&dir).unwrap(), old);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
