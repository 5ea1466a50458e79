//! Who may call a gateway: request authentication (§B4, the five steps of the module doc),
//! and the canonicalization of an order for its signature (§B5).

use super::{is_match, unauthorized, Emulator, Failure, NONCE_WINDOW_S, WINDOW_S};
use axum::http::HeaderMap;
use kassa_core::provider::opencharge::sign;
use serde_json::{json, Value};

/// The Opencharge canonicalization JavaScript's `JSON.stringify(order,
/// Object.keys(order).sort())` produces (§B5 (b)): the sorted top-level keys are a property
/// allow-list applied at every depth, so nested objects keep only keys that are also top-level
/// keys, in allow-list order; arrays keep all their elements. Compact, strings escaped as
/// [`sign::canonical_json`] does; floats are refused as there. Not an object: as
/// `canonical_json`.
pub fn replacer_json(value: &Value) -> Result<String, String> {
    let Value::Object(top) = value else {
        return sign::canonical_json(value);
    };
    let mut keys: Vec<&str> = top.keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys.dedup();
    let mut out = String::new();
    write_replacer(value, &keys, "$", &mut out)?;
    Ok(out)
}

fn write_replacer(v: &Value, keys: &[&str], at: &str, out: &mut String) -> Result<(), String> {
    match v {
        Value::Object(map) => {
            out.push('{');
            let mut first = true;
            for k in keys {
                let Some(x) = map.get(*k) else { continue };
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&sign::canonical_json(&json!(k))?);
                out.push(':');
                write_replacer(x, keys, &format!("{at}.{k}"), out)?;
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_replacer(item, keys, &format!("{at}[{i}]"), out)?;
            }
            out.push(']');
        }
        scalar => out.push_str(&sign::canonical_json(scalar).map_err(|e| e.replacen("$", at, 1))?),
    }
    Ok(())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, String> {
    let v = headers
        .get(name)
        .ok_or_else(|| format!("{name} is missing"))?;
    v.to_str()
        .map(str::trim)
        .map_err(|_| format!("{name} is not visible ASCII"))
}

/// Request authentication (§B4; the steps of the module doc). Answers the caller's OCID.
pub(super) fn authenticate(
    e: &mut Emulator,
    now: i64,
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<u64, Failure> {
    let mut problems = Vec::new();
    let mut field = |name: &str, ok: &dyn Fn(&str) -> bool, rule: &str| -> Option<String> {
        match header(headers, name) {
            Ok(v) if ok(v) => Some(v.to_string()),
            Ok(_) => {
                problems.push(format!("{name} must be {rule}"));
                None
            }
            Err(m) => {
                problems.push(m);
                None
            }
        }
    };
    let id = field(
        "X-OC-ID",
        &|v| is_match("^[1-9][0-9]{0,19}$", v) && v.parse::<u64>().is_ok(),
        "a decimal OCID",
    );
    let ts = field(
        "X-OC-Timestamp",
        &|v| is_match("^(0|[1-9][0-9]{0,17})$", v),
        "Unix seconds in decimal",
    );
    let nonce = field(
        "X-OC-Nonce",
        &|v| !v.is_empty() && v.len() <= 256 && v.bytes().all(|b| b.is_ascii_graphic()),
        "1 to 256 visible ASCII characters",
    );
    let signature = field(
        "X-OC-Signature",
        &|v| (v.len() == 128 || v.len() == 130) && v.bytes().all(|b| b.is_ascii_hexdigit()),
        "128 or 130 hexadecimal characters",
    );
    let (Some(id), Some(ts), Some(nonce), Some(signature)) = (id, ts, nonce, signature) else {
        return Err(unauthorized("INVALID_SIGNATURE", problems.join("; ")));
    };
    let ocid: u64 = id.parse().expect("checked");
    let timestamp: i64 = ts.parse().expect("checked");
    let Some(party) = e.parties.get(&ocid) else {
        return Err(unauthorized(
            "UNKNOWN_OCID",
            format!("OCID {ocid} is not in the registry"),
        ));
    };
    if (timestamp - now).abs() > WINDOW_S {
        return Err(unauthorized(
            "TIMESTAMP_EXPIRED",
            format!(
                "X-OC-Timestamp is {} s from the server's time (more than {WINDOW_S} s)",
                timestamp - now
            ),
        )
        .details(json!({"serverTime": now, "timestamp": timestamp})));
    }
    let path = match uri.query() {
        Some(q) => format!("{}?{q}", uri.path()),
        None => uri.path().to_string(),
    };
    let text = sign::canonical_request(&id, timestamp, &nonce, method, &path, body);
    if !sign::verify(&party.public_key, text.as_bytes(), &signature) {
        return Err(unauthorized(
            "INVALID_SIGNATURE",
            "the request signature does not verify",
        ));
    }
    e.nonces.retain(|_, at| now - *at < NONCE_WINDOW_S);
    let key = (ocid, nonce);
    if e.nonces.contains_key(&key) {
        return Err(unauthorized(
            "NONCE_REUSED",
            format!("the nonce {:?} was already used by OCID {ocid}", key.1),
        ));
    }
    e.nonces.insert(key, now);
    Ok(ocid)
}
