//! A small validator of JSON request bodies against an OpenAPI 3 schema, for the emulators
//! whose providers publish a machine-readable spec (Klarna's `spec/klarna-*.json`).
//!
//! It covers what those specs use: `$ref` (local, `#/components/schemas/...`), `type`
//! (`object`, `array`, `string`, `integer` — a JSON number written without fraction or
//! exponent —, `number`, `boolean`), `required`, `properties`, `additionalProperties`,
//! `readOnly`, `enum`, `minLength`/`maxLength` (in characters), `minimum`/`maximum`,
//! `minItems`/`maxItems`, `uniqueItems`, `items`, `pattern` (with the `regex` crate; the
//! Klarna patterns are simple anchored classes) and the `int32`/`int64` formats. Other
//! keywords are ignored (a unit test checks the Klarna specs use no others in their schemas).
//!
//! Deliberately stricter than OpenAPI: a property a schema with `properties` does not list is a
//! problem ("X is not a field of <schema>") unless `additionalProperties` allows it, because a
//! misspelt field that the provider silently drops is a bug the emulator should catch; and
//! sending a `readOnly` property in a request is a problem.
//!
//! Every problem is reported (not only the first), each with the path of the value, written
//! like `order_lines[0].tax_rate` (empty for the body itself).

use regex::Regex;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::fmt;
use std::sync::{LazyLock, Mutex};

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where: `order_lines[0].tax_rate`; empty for the whole body.
    pub path: String,
    /// What, e.g. `must be at most 10000`.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "the body {}", self.message)
        } else {
            write!(f, "{} {}", self.path, self.message)
        }
    }
}

/// The problems of `value` as a request body of `components.schemas.<schema>` in `spec` (an
/// OpenAPI 3 document). An unknown schema name is itself a problem (a bug in the caller).
pub fn validate(spec: &Value, schema: &str, value: &Value) -> Vec<Problem> {
    let mut v = Validator {
        spec,
        problems: Vec::new(),
    };
    match spec.pointer(&format!("/components/schemas/{schema}")) {
        Some(s) => v.check(s, schema, value, String::new()),
        None => v.problem(
            "",
            format!("cannot be checked: no schema {schema:?} in the spec"),
        ),
    }
    v.problems
}

struct Validator<'a> {
    spec: &'a Value,
    problems: Vec<Problem>,
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn type_name(t: &str) -> &str {
    match t {
        "object" => "an object",
        "array" => "an array",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "a boolean",
        other => other,
    }
}

/// A JSON number written without fraction or exponent (serde_json keeps those as i64/u64).
fn is_integer(n: &Number) -> bool {
    n.is_i64() || n.is_u64()
}

/// `a` compared with `b`, exactly when both are integers (money), else as floats.
fn compare(a: &Number, b: &Number) -> Option<std::cmp::Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn regex(pattern: &str) -> Option<Regex> {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> =
        LazyLock::new(|| Mutex::new(HashMap::new()));
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern.to_string())
        .or_insert_with(|| Regex::new(pattern).ok())
        .clone()
}

impl<'a> Validator<'a> {
    fn problem(&mut self, path: &str, message: String) {
        self.problems.push(Problem {
            path: path.to_string(),
            message,
        });
    }

    /// Follows `$ref`s: the schema itself and its name (the last `$ref` segment, else `name`).
    fn resolve(&self, mut schema: &'a Value, name: &str) -> (&'a Value, String) {
        let mut name = name.to_string();
        for _ in 0..32 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(target) = r.strip_prefix('#').and_then(|p| self.spec.pointer(p)) else {
                break;
            };
            name = r.rsplit('/').next().unwrap_or(r).to_string();
            schema = target;
        }
        (schema, name)
    }

    fn check(&mut self, schema: &'a Value, name: &str, value: &Value, path: String) {
        let (schema, name) = self.resolve(schema, name);
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            self.problem(&path, format!("cannot be checked: unresolved $ref {r}"));
            return;
        }
        if let Some(t) = schema.get("type").and_then(Value::as_str) {
            let ok = match t {
                "object" => value.is_object(),
                "array" => value.is_array(),
                "string" => value.is_string(),
                "integer" => matches!(value, Value::Number(n) if is_integer(n)),
                "number" => value.is_number(),
                "boolean" => value.is_boolean(),
                _ => true,
            };
            if !ok {
                self.problem(&path, format!("must be {}", type_name(t)));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                let list: Vec<String> = options
                    .iter()
                    .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string))
                    .collect();
                self.problem(&path, format!("must be one of {}", list.join(", ")));
            }
        }
        match value {
            Value::Object(obj) => self.check_object(schema, &name, obj, &path),
            Value::Array(items) => self.check_array(schema, &name, items, &path),
            Value::String(s) => self.check_string(schema, s, &path),
            Value::Number(n) => self.check_number(schema, n, &path),
            _ => {}
        }
    }

    fn check_object(
        &mut self,
        schema: &'a Value,
        name: &str,
        obj: &Map<String, Value>,
        path: &str,
    ) {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(r) {
                self.problem(&child(path, r), "is required".into());
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (key, v) in obj {
            let at = child(path, key);
            match properties.and_then(|p| p.get(key)) {
                Some(prop) => {
                    let (resolved, _) = self.resolve(prop, name);
                    if resolved.get("readOnly") == Some(&Value::Bool(true))
                        || prop.get("readOnly") == Some(&Value::Bool(true))
                    {
                        self.problem(&at, "is read-only".into());
                        continue;
                    }
                    self.check(prop, &format!("{name}.{key}"), v, at);
                }
                None => match additional {
                    Some(Value::Bool(false)) => {
                        self.problem(&at, format!("is not a field of {name}"));
                    }
                    Some(extra @ Value::Object(_)) => {
                        self.check(extra, &format!("{name}.{key}"), v, at);
                    }
                    Some(_) => {}
                    // Strict on purpose (see the module doc).
                    None if properties.is_some() => {
                        self.problem(&at, format!("is not a field of {name}"));
                    }
                    None => {}
                },
            }
        }
    }

    fn check_array(&mut self, schema: &'a Value, name: &str, items: &[Value], path: &str) {
        let len = items.len() as u64;
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if len < min {
                self.problem(path, format!("must have at least {min} items"));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if len > max {
                self.problem(path, format!("must have at most {max} items"));
            }
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            let repeated = items
                .iter()
                .enumerate()
                .any(|(i, a)| items[..i].contains(a));
            if repeated {
                self.problem(path, "must not repeat an item".into());
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, name, item, format!("{path}[{i}]"));
            }
        }
    }

    fn check_string(&mut self, schema: &'a Value, s: &str, path: &str) {
        let chars = s.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if chars < min {
                self.problem(path, format!("must be at least {min} characters long"));
            }
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if chars > max {
                self.problem(path, format!("must be at most {max} characters long"));
            }
        }
        if let Some(p) = schema.get("pattern").and_then(Value::as_str) {
            match regex(p) {
                Some(re) if re.is_match(s) => {}
                Some(_) => self.problem(path, format!("must match {p}")),
                None => self.problem(path, format!("cannot be checked: bad pattern {p}")),
            }
        }
    }

    fn check_number(&mut self, schema: &'a Value, n: &Number, path: &str) {
        if let Some(Value::Number(min)) = schema.get("minimum") {
            if compare(n, min) == Some(std::cmp::Ordering::Less) {
                self.problem(path, format!("must be at least {min}"));
            }
        }
        if let Some(Value::Number(max)) = schema.get("maximum") {
            if compare(n, max) == Some(std::cmp::Ordering::Greater) {
                self.problem(path, format!("must be at most {max}"));
            }
        }
        let range = match schema.get("format").and_then(Value::as_str) {
            Some("int32") => Some((i32::MIN as i64, i32::MAX as i64)),
            Some("int64") => Some((i64::MIN, i64::MAX)),
            _ => None,
        };
        if let Some((lo, hi)) = range {
            if n.as_i64().is_none_or(|x| x < lo || x > hi) && is_integer(n) {
                self.problem(path, format!("must fit in {lo}..={hi}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({"openapi": "3.0.0", "components": {"schemas": {
            "session": {
                "type": "object",
                "required": ["order_amount", "order_lines", "purchase_country"],
                "properties": {
                    "order_amount": {"type": "integer", "format": "int64", "minimum": 0},
                    "purchase_country": {"type": "string", "pattern": "^[A-Za-z]{2,2}$"},
                    "locale": {"type": "string", "pattern": "^[A-Za-z]{2,2}(?:-[A-Za-z]{2,2})*$"},
                    "client_token": {"type": "string", "readOnly": true},
                    "intent": {"type": "string", "enum": ["buy", "tokenize"]},
                    "order_lines": {"type": "array", "minItems": 1, "maxItems": 2,
                                    "items": {"$ref": "#/components/schemas/order_line"}},
                    "free": {"type": "object"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                    "ratio": {"type": "number", "maximum": 1.5},
                    "flag": {"type": "boolean"}
                }
            },
            "order_line": {
                "type": "object",
                "required": ["name", "quantity"],
                "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 3},
                    "quantity": {"type": "integer", "format": "int32", "minimum": 0},
                    "tax_rate": {"type": "integer", "minimum": 0, "maximum": 10000}
                }
            }
        }}})
    }

    fn problems(v: Value) -> Vec<String> {
        validate(&spec(), "session", &v)
            .iter()
            .map(Problem::to_string)
            .collect()
    }

    fn valid() -> Value {
        json!({"order_amount": 100, "purchase_country": "SE", "locale": "sv-SE", "intent": "buy",
               "order_lines": [{"name": "Kaf", "quantity": 1, "tax_rate": 2500}],
               "free": {"anything": [1, 2]}, "tags": {"a": "b"}, "ratio": 1.25, "flag": true})
    }

    #[test]
    fn a_valid_value_has_no_problems() {
        assert_eq!(problems(valid()), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let v = json!({
            "order_amount": -1, "purchase_country": "SWE", "locale": "sv_SE",
            "client_token": "x", "intent": "rent", "extra": 1,
            "order_lines": [
                {"name": "", "quantity": 1.5, "tax_rate": 25000, "price": 3},
                {"name": "Long name", "quantity": 3000000000i64},
                {"quantity": "1"}
            ],
            "tags": {"a": 1}, "ratio": 2, "flag": "yes"
        });
        let p = problems(v);
        for expected in [
            "order_amount must be at least 0",
            "purchase_country must match ^[A-Za-z]{2,2}$",
            "locale must match ^[A-Za-z]{2,2}(?:-[A-Za-z]{2,2})*$",
            "client_token is read-only",
            "intent must be one of buy, tokenize",
            "extra is not a field of session",
            "order_lines must have at most 2 items",
            "order_lines[0].name must be at least 1 characters long",
            "order_lines[0].quantity must be an integer",
            "order_lines[0].tax_rate must be at most 10000",
            "order_lines[0].price is not a field of order_line",
            "order_lines[1].name must be at most 3 characters long",
            "order_lines[1].quantity must fit in -2147483648..=2147483647",
            "order_lines[2].name is required",
            "order_lines[2].quantity must be an integer",
            "tags.a must be a string",
            "ratio must be at most 1.5",
            "flag must be a boolean",
        ] {
            assert!(
                p.contains(&expected.to_string()),
                "missing {expected:?} in {p:#?}"
            );
        }
        assert_eq!(p.len(), 18, "{p:#?}");
    }

    #[test]
    fn required_fields_and_the_body_type() {
        let p = problems(json!({"order_lines": []}));
        assert_eq!(
            p,
            [
                "order_amount is required",
                "purchase_country is required",
                "order_lines must have at least 1 items"
            ]
        );
        assert_eq!(problems(json!([1])), ["the body must be an object"]);
        assert_eq!(
            validate(&spec(), "nothing", &json!({}))[0].message,
            "cannot be checked: no schema \"nothing\" in the spec"
        );
    }

    #[test]
    fn integers_are_numbers_without_fraction_or_exponent() {
        for (text, ok) in [
            ("1", true),
            ("-3", true),
            ("1.0", false),
            ("1e2", false),
            ("1.5", false),
        ] {
            let mut v = valid();
            v["order_lines"][0]["quantity"] = serde_json::from_str(text).unwrap();
            let p = problems(v);
            assert_eq!(p.is_empty(), ok && !text.starts_with('-'), "{text}: {p:?}");
        }
        // Big integers compare exactly.
        let mut v = valid();
        v["order_amount"] = json!(u64::MAX);
        assert_eq!(
            problems(v),
            ["order_amount must fit in -9223372036854775808..=9223372036854775807"]
        );
    }
}
