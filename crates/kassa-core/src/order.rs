//! The order document: what a cashier rang up, as JSON, read strictly.
//!
//! ```json
//! { "reference": "A-1001", "currency": "NOK", "prices_include_vat": true, "discount": 0,
//!   "lines": [ { "sku": "chair-1", "name": "Stablestol", "quantity": "1", "unit": "pcs",
//!                "unit_price": 29990, "vat_rate": "25", "discount": 0 } ] }
//! ```
//!
//! The parser reports **every** problem at once, each with its JSON path
//! (`lines[2].vat_rate: 125 is above 100`). Unknown fields are refused, so a typo such as
//! `"discont"` cannot silently drop a discount. Numbers are read from their JSON text, never
//! through a float: `"0.350"` and `0.350` are both exactly 350 thousandths.
//!
//! This module only reads and validates; the arithmetic lives in [`crate::quote`].

use crate::money::{Currency, Decimal, MAX_AMOUNT};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::fmt;

/// Most lines one order may have.
pub const MAX_LINES: usize = 500;
/// Largest quantity on one line (in units, not thousandths).
pub const MAX_QUANTITY: i64 = 1_000_000;

/// A validated order, ready to be priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// The merchant reference, if the document had one (else one is generated when pricing).
    pub reference: Option<String>,
    pub currency: Currency,
    pub prices_include_vat: bool,
    /// Order discount in minor units, spread over the lines by [`crate::quote`].
    pub discount: i64,
    pub lines: Vec<OrderLine>,
}

/// One validated line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub sku: Option<String>,
    pub name: String,
    pub quantity: Quantity,
    pub unit: Option<String>,
    /// Minor units per whole unit of `quantity`, VAT included or not as the order says.
    pub unit_price: i64,
    pub vat_rate: VatRate,
    /// The line's own discount, minor units.
    pub discount: i64,
}

/// A positive quantity in thousandths (`"0.350"` kg → 350).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(i64);

impl Quantity {
    pub const SCALE: u32 = 3;

    /// From thousandths; `None` unless positive and at most [`MAX_QUANTITY`].
    pub fn from_milli(milli: i64) -> Option<Quantity> {
        (milli > 0 && milli <= MAX_QUANTITY * 1000).then_some(Quantity(milli))
    }
    pub fn milli(self) -> i64 {
        self.0
    }
    /// True when the quantity is a whole number of units.
    pub fn is_whole(self) -> bool {
        self.0 % 1000 == 0
    }
    /// Parses a positive decimal with at most 3 fraction digits (`"0.350"`, `2`), exactly.
    /// The one quantity rule, for order files and the counter's line form alike.
    pub fn parse(text: &str) -> Result<Quantity, String> {
        let dec = Decimal::parse(text)
            .ok_or_else(|| format!("{text:?} is not a decimal number (use a dot: \"0.350\")"))?;
        let milli = dec
            .scaled_to(Quantity::SCALE)
            .ok_or_else(|| format!("{text} has more than 3 decimals"))?;
        if milli <= 0 {
            return Err(format!("{text} is not positive"));
        }
        i64::try_from(milli)
            .ok()
            .and_then(Quantity::from_milli)
            .ok_or_else(|| format!("{text} is above the maximum quantity {MAX_QUANTITY}"))
    }

    /// Canonical decimal string without trailing zeros: `"1"`, `"0.35"`.
    pub fn to_canonical(self) -> String {
        crate::money::canonical_decimal(i128::from(self.0), Self::SCALE)
    }
}

/// A VAT rate in basis points (25 % → 2500), 0 to 10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VatRate(u32);

impl VatRate {
    pub fn from_basis_points(bp: u32) -> Option<VatRate> {
        (bp <= 10_000).then_some(VatRate(bp))
    }
    pub fn basis_points(self) -> u32 {
        self.0
    }
    /// The canonical percent string without trailing zeros: `"25"`, `"11.11"`, `"0"`.
    pub fn to_percent_string(self) -> String {
        crate::money::canonical_decimal(i128::from(self.0), 2)
    }
    /// Parses a percent such as `"25"`, `"11.11"`, `12` (at most two decimals).
    pub fn parse_percent(text: &str) -> Result<VatRate, String> {
        parse_vat_rate_text(text)
    }
}

/// One thing wrong with a document: where (a JSON path) and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub path: String,
    /// The English text (the CLI's, and the UI's when there is no `code`).
    pub reason: String,
    /// What the UI translates, for a field's own validation (`why.<code>` in `ui/i18n.js`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<crate::field_code::FieldCode>,
    /// The values the translated text names (`{max}`, `{allowed}`).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub vars: std::collections::BTreeMap<String, String>,
}

impl Problem {
    /// A field's problem with the code the UI translates.
    pub fn coded(path: &str, reason: crate::field_code::Reason) -> Problem {
        Problem {
            path: path.to_string(),
            reason: reason.text,
            code: Some(reason.code),
            vars: reason.vars,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Why an order was refused. Its `Display` is one line per problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("$: malformed JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}", display_problems(.0))]
    Invalid(Vec<Problem>),
}

fn display_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl OrderError {
    /// The problems as a list (a JSON syntax error is one problem at `$`).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            OrderError::Invalid(p) => p.clone(),
            OrderError::Json { .. } => {
                let text = self.to_string();
                vec![Problem {
                    path: "$".into(),
                    reason: text.trim_start_matches("$: ").into(),
                    ..Default::default()
                }]
            }
        }
    }
}

/// Parses and validates an order document.
pub fn parse_order(text: &str) -> Result<Order, OrderError> {
    let root: &RawValue = serde_json::from_str(text).map_err(|e| OrderError::Json {
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })?;
    let mut problems = Problems::default();
    let order = read_order(root, &mut problems);
    match order {
        Some(order) if problems.0.is_empty() => Ok(order),
        _ => Err(OrderError::Invalid(problems.0)),
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            reason: reason.into(),
            ..Default::default()
        });
    }
}

/// A JSON value as written, with numbers kept as their source text.
enum Json<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(String),
    Array(Vec<&'a RawValue>),
    Object(Fields<'a>),
}

impl Json<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

fn classify(raw: &RawValue) -> Json<'_> {
    let text = raw.get().trim();
    // `raw` came out of serde_json, so it is well-formed; the parses below cannot fail, but we
    // still never unwrap on input-derived data.
    match text.as_bytes().first() {
        Some(b'n') => Json::Null,
        Some(b't') => Json::Bool(true),
        Some(b'f') => Json::Bool(false),
        Some(b'"') => Json::String(serde_json::from_str(text).unwrap_or_default()),
        Some(b'[') => Json::Array(serde_json::from_str(text).unwrap_or_default()),
        Some(b'{') => serde_json::from_str(text)
            .map(Json::Object)
            .unwrap_or(Json::Null),
        _ => Json::Number(text),
    }
}

/// An object's members in document order, duplicates kept (so they can be refused).
struct Fields<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Looks up the allowed fields of an object, reporting unknown and duplicate ones.
fn fields<'a>(
    obj: &Fields<'a>,
    path: &str,
    allowed: &[&str],
    problems: &mut Problems,
) -> Vec<Option<Json<'a>>> {
    let mut found: Vec<Option<Json<'a>>> = allowed.iter().map(|_| None).collect();
    for (key, raw) in &obj.0 {
        let child = join(path, key);
        match allowed.iter().position(|a| a == key) {
            Some(i) if found[i].is_some() => problems.add(child, "appears more than once"),
            Some(i) => found[i] = Some(classify(raw)),
            None => problems.add(
                child,
                format!("unknown field (expected one of: {})", allowed.join(", ")),
            ),
        }
    }
    // An explicit null is the same as leaving an optional field out.
    found
        .into_iter()
        .map(|v| v.filter(|v| !matches!(v, Json::Null)))
        .collect()
}

fn join(path: &str, key: &str) -> String {
    if path == "$" {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

const ORDER_FIELDS: &[&str] = &[
    "reference",
    "currency",
    "prices_include_vat",
    "discount",
    "lines",
];
const LINE_FIELDS: &[&str] = &[
    "sku",
    "name",
    "quantity",
    "unit",
    "unit_price",
    "vat_rate",
    "discount",
];

fn read_order(root: &RawValue, p: &mut Problems) -> Option<Order> {
    let Json::Object(obj) = classify(root) else {
        p.add(
            "$",
            format!("must be a JSON object, found {}", classify(root).kind()),
        );
        return None;
    };
    let mut f = fields(&obj, "$", ORDER_FIELDS, p).into_iter();
    let (reference, currency, incl, discount, lines) =
        (f.next()?, f.next()?, f.next()?, f.next()?, f.next()?);

    let reference = reference.and_then(|v| read_reference(v, p));
    let currency = match currency {
        None => {
            p.add("currency", "is required (an ISO 4217 code such as \"NOK\")");
            None
        }
        Some(Json::String(code)) => {
            let c = Currency::from_code(&code);
            if c.is_none() {
                p.add(
                    "currency",
                    format!("{code:?} is not a known ISO 4217 currency code"),
                );
            }
            c
        }
        Some(other) => {
            p.add(
                "currency",
                format!("must be a string, found {}", other.kind()),
            );
            None
        }
    };
    let prices_include_vat = match incl {
        None => true,
        Some(Json::Bool(b)) => b,
        Some(other) => {
            p.add(
                "prices_include_vat",
                format!("must be true or false, found {}", other.kind()),
            );
            true
        }
    };
    let discount = discount.map_or(Some(0), |v| read_amount(v, "discount", p));
    let lines = match lines {
        None => {
            p.add("lines", "is required: an order needs at least one line");
            None
        }
        Some(Json::Array(items)) if items.is_empty() => {
            p.add("lines", "is empty: an order needs at least one line");
            None
        }
        Some(Json::Array(items)) if items.len() > MAX_LINES => {
            p.add(
                "lines",
                format!(
                    "has {} lines, more than the {MAX_LINES} allowed",
                    items.len()
                ),
            );
            None
        }
        Some(Json::Array(items)) => {
            let read: Vec<Option<OrderLine>> = items
                .iter()
                .enumerate()
                .map(|(i, raw)| read_line(raw, &format!("lines[{i}]"), p))
                .collect();
            read.into_iter().collect::<Option<Vec<_>>>()
        }
        Some(other) => {
            p.add("lines", format!("must be an array, found {}", other.kind()));
            None
        }
    };
    Some(Order {
        reference,
        currency: currency?,
        prices_include_vat,
        discount: discount?,
        lines: lines?,
    })
}

fn read_line(raw: &RawValue, path: &str, p: &mut Problems) -> Option<OrderLine> {
    let Json::Object(obj) = classify(raw) else {
        p.add(
            path,
            format!("must be an object, found {}", classify(raw).kind()),
        );
        return None;
    };
    let mut f = fields(&obj, path, LINE_FIELDS, p).into_iter();
    let (sku, name, quantity, unit, unit_price, vat_rate, discount) = (
        f.next()?,
        f.next()?,
        f.next()?,
        f.next()?,
        f.next()?,
        f.next()?,
        f.next()?,
    );
    let at = |field: &str| join(path, field);

    let sku = sku.and_then(|v| read_text(v, &at("sku"), 64, p));
    let unit = unit.and_then(|v| read_text(v, &at("unit"), 16, p));
    let name = match name {
        Some(v) => read_text(v, &at("name"), 200, p),
        None => {
            p.add(at("name"), "is required");
            None
        }
    };
    let quantity = match quantity {
        Some(v) => read_quantity(v, &at("quantity"), p),
        None => {
            p.add(at("quantity"), "is required");
            None
        }
    };
    let unit_price = match unit_price {
        Some(v) => read_amount(v, &at("unit_price"), p),
        None => {
            p.add(
                at("unit_price"),
                "is required (minor units, e.g. 29990 for 299.90)",
            );
            None
        }
    };
    let vat_rate = match vat_rate {
        Some(v) => read_vat_rate(v, &at("vat_rate"), p),
        None => {
            p.add(at("vat_rate"), "is required (percent, e.g. \"25\")");
            None
        }
    };
    let discount = discount.map_or(Some(0), |v| read_amount(v, &at("discount"), p));
    Some(OrderLine {
        sku,
        name: name?,
        quantity: quantity?,
        unit,
        unit_price: unit_price?,
        vat_rate: vat_rate?,
        discount: discount?,
    })
}

fn read_reference(v: Json<'_>, p: &mut Problems) -> Option<String> {
    let Json::String(s) = v else {
        p.add("reference", format!("must be a string, found {}", v.kind()));
        return None;
    };
    match validate_reference(&s) {
        Ok(()) => Some(s),
        Err(reason) => {
            p.add("reference", reason);
            None
        }
    }
}

/// A merchant reference: 1–64 characters of ASCII letters, digits, `-` and `_`.
pub fn validate_reference(s: &str) -> Result<(), String> {
    if s.is_empty() || s.len() > 64 {
        return Err(format!(
            "must be 1 to 64 characters, found {}",
            s.chars().count()
        ));
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "{c:?} is not allowed (letters, digits, '-' and '_' only)"
        ));
    }
    Ok(())
}

fn read_text(v: Json<'_>, path: &str, max: usize, p: &mut Problems) -> Option<String> {
    let Json::String(s) = v else {
        p.add(path, format!("must be a string, found {}", v.kind()));
        return None;
    };
    let n = s.chars().count();
    if s.trim().is_empty() {
        p.add(path, "must not be empty");
        None
    } else if n > max {
        p.add(path, format!("is {n} characters long, more than {max}"));
        None
    } else if s.chars().any(char::is_control) {
        p.add(path, "must not contain control characters");
        None
    } else {
        Some(s)
    }
}

/// A whole number of minor units, 0 to [`MAX_AMOUNT`]. Strings are refused: amounts are
/// numbers in Kassa's format, and a quoted amount is most likely a major-unit slip ("299.90").
fn read_amount(v: Json<'_>, path: &str, p: &mut Problems) -> Option<i64> {
    let Json::Number(text) = v else {
        p.add(
            path,
            format!("must be a whole number of minor units, found {}", v.kind()),
        );
        return None;
    };
    let Some(dec) = Decimal::parse(text) else {
        p.add(path, format!("{text} is not a number Kassa can read"));
        return None;
    };
    let Some(value) = dec.scaled_to(0) else {
        p.add(path, format!("{text} is not a whole number of minor units"));
        return None;
    };
    if value < 0 {
        p.add(path, format!("{text} is negative"));
        None
    } else if value > i128::from(MAX_AMOUNT) {
        p.add(
            path,
            format!("{text} is above the maximum amount {MAX_AMOUNT}"),
        );
        None
    } else {
        i64::try_from(value).ok()
    }
}

fn number_or_string<'a>(v: &'a Json<'_>, path: &str, p: &mut Problems) -> Option<&'a str> {
    match v {
        Json::Number(t) => Some(t),
        Json::String(s) => Some(s.as_str()),
        other => {
            p.add(
                path,
                format!(
                    "must be a number or a decimal string, found {}",
                    other.kind()
                ),
            );
            None
        }
    }
}

fn read_quantity(v: Json<'_>, path: &str, p: &mut Problems) -> Option<Quantity> {
    let text = number_or_string(&v, path, p)?;
    Quantity::parse(text)
        .map_err(|reason| p.add(path, reason))
        .ok()
}

fn read_vat_rate(v: Json<'_>, path: &str, p: &mut Problems) -> Option<VatRate> {
    let text = number_or_string(&v, path, p)?;
    match parse_vat_rate_text(text) {
        Ok(rate) => Some(rate),
        Err(reason) => {
            p.add(path, reason);
            None
        }
    }
}

fn parse_vat_rate_text(text: &str) -> Result<VatRate, String> {
    let dec = Decimal::parse(text)
        .ok_or_else(|| format!("{text:?} is not a percentage (e.g. \"25\" or \"11.11\")"))?;
    let bp = dec
        .scaled_to(2)
        .ok_or_else(|| format!("{text} has more than 2 decimals"))?;
    if bp < 0 {
        return Err(format!("{text} is negative"));
    }
    if bp > 10_000 {
        return Err(format!("{text} is above 100"));
    }
    u32::try_from(bp)
        .ok()
        .and_then(VatRate::from_basis_points)
        .ok_or_else(|| format!("{text} is above 100"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        match parse_order(text) {
            Ok(_) => vec![],
            Err(e) => e.to_string().lines().map(str::to_string).collect(),
        }
    }

    #[test]
    fn reads_the_documented_example() {
        let o = parse_order(
            r#"{"reference":"A-1001","currency":"NOK","prices_include_vat":true,"discount":0,
               "lines":[{"sku":"chair-1","name":"Stablestol","quantity":"1","unit":"pcs",
                         "unit_price":29990,"vat_rate":"25","discount":0}]}"#,
        )
        .unwrap();
        assert_eq!(o.reference.as_deref(), Some("A-1001"));
        assert_eq!(o.currency.code(), "NOK");
        assert_eq!(o.lines[0].quantity.milli(), 1000);
        assert_eq!(o.lines[0].vat_rate.basis_points(), 2500);
        assert_eq!(o.lines[0].unit.as_deref(), Some("pcs"));
    }

    #[test]
    fn defaults_and_number_forms() {
        let o = parse_order(
            r#"{"currency":"NOK","lines":[{"name":"Epler","quantity":0.350,"unit_price":4990,"vat_rate":11.11}]}"#,
        )
        .unwrap();
        assert!(o.prices_include_vat);
        assert_eq!(o.discount, 0);
        assert_eq!(o.reference, None);
        assert_eq!(o.lines[0].quantity.milli(), 350);
        assert_eq!(o.lines[0].vat_rate.basis_points(), 1111);
        assert_eq!(o.lines[0].quantity.to_canonical(), "0.35");
    }

    #[test]
    fn names_every_problem_with_its_path() {
        let got = problems(
            r#"{"currency":"NOK","discont":5,"lines":[
                {"name":"A","quantity":"1","unit_price":100,"vat_rate":"25"},
                {"name":"B","quantity":"1.0001","unit_price":100,"vat_rate":"25"},
                {"name":"C","quantity":"1","unit_price":100,"vat_rate":125}]}"#,
        );
        assert_eq!(
            got,
            vec![
                "discont: unknown field (expected one of: reference, currency, prices_include_vat, discount, lines)",
                "lines[1].quantity: 1.0001 has more than 3 decimals",
                "lines[2].vat_rate: 125 is above 100",
            ]
        );
    }

    #[test]
    fn refuses_bad_documents() {
        let cases: &[(&str, &str)] = &[
            (r#"[]"#, "$: must be a JSON object, found an array"),
            (
                r#"{"currency":"NOK","lines":[]}"#,
                "lines: is empty: an order needs at least one line",
            ),
            (
                r#"{"currency":"NOK"}"#,
                "lines: is required: an order needs at least one line",
            ),
            (
                r#"{"currency":"XYZ","lines":[{"name":"a","quantity":1,"unit_price":1,"vat_rate":0}]}"#,
                "currency: \"XYZ\" is not a known ISO 4217 currency code",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":0,"unit_price":1,"vat_rate":0}]}"#,
                "lines[0].quantity: 0 is not positive",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":1,"unit_price":"299.90","vat_rate":0}]}"#,
                "lines[0].unit_price: must be a whole number of minor units, found a string",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":1,"unit_price":12.5,"vat_rate":0}]}"#,
                "lines[0].unit_price: 12.5 is not a whole number of minor units",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":1,"unit_price":-1,"vat_rate":0}]}"#,
                "lines[0].unit_price: -1 is negative",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"","quantity":1,"unit_price":1,"vat_rate":0}]}"#,
                "lines[0].name: must not be empty",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a\u0007","quantity":1,"unit_price":1,"vat_rate":0}]}"#,
                "lines[0].name: must not contain control characters",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":1,"unit_price":1,"vat_rate":"12.345"}]}"#,
                "lines[0].vat_rate: 12.345 has more than 2 decimals",
            ),
            (
                r#"{"currency":"NOK","reference":"A 1","lines":[{"name":"a","quantity":1,"unit_price":1,"vat_rate":0}]}"#,
                "reference: ' ' is not allowed (letters, digits, '-' and '_' only)",
            ),
            (
                r#"{"currency":"NOK","currency":"SEK","lines":[{"name":"a","quantity":1,"unit_price":1,"vat_rate":0}]}"#,
                "currency: appears more than once",
            ),
            (
                r#"{"currency":"NOK","lines":[{"name":"a","quantity":1,"unit_price":1000000000001,"vat_rate":0}]}"#,
                "lines[0].unit_price: 1000000000001 is above the maximum amount 1000000000000",
            ),
        ];
        for (doc, want) in cases {
            assert_eq!(problems(doc), vec![want.to_string()], "for {doc}");
        }
    }

    #[test]
    fn too_many_lines() {
        let line = r#"{"name":"a","quantity":1,"unit_price":1,"vat_rate":0}"#;
        let doc = format!(
            r#"{{"currency":"NOK","lines":[{}]}}"#,
            vec![line; 501].join(",")
        );
        assert_eq!(
            problems(&doc),
            vec!["lines: has 501 lines, more than the 500 allowed"]
        );
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err = parse_order("{\n  \"currency\": \"NOK\",\n  \"lines\": [,]\n}").unwrap_err();
        match err {
            OrderError::Json { line, column, .. } => assert_eq!((line, column), (3, 13)),
            other => panic!("expected a JSON error, got {other:?}"),
        }
        assert!(parse_order("")
            .unwrap_err()
            .to_string()
            .starts_with("$: malformed JSON at line 1"));
    }
}
