//! The session log as CSV (RFC 4180, UTF-8, CRLF line ends, a header row), for spreadsheets
//! and accounting.

use super::{filtered_select, Filter, SessionLog, StoreError};
use crate::money::Currency;
use crate::time::format_rfc3339;
use std::io::Write;

impl SessionLog {
    /// Writes the matching sessions as CSV (RFC 4180, UTF-8, CRLF line ends, a header row),
    /// newest first, and returns the number of rows. Amounts appear twice: in minor units and
    /// formatted in major units (`1234.50`). The last four columns are what the session's
    /// done operations captured and refunded (staff-recorded refunds included), empty for a
    /// session with no operation.
    pub fn export_csv(&self, filter: &Filter, out: &mut dyn Write) -> Result<u64, StoreError> {
        // Captured and refunded: the sums of the session's done operations, empty for a
        // session without any (appended last, so the earlier columns keep their places).
        let cols = "id, created_at, updated_at, expires_at, provider, profile, demo, status, \
                    merchant_reference, provider_session_id, currency, gross_minor, net_minor, \
                    vat_minor, checkout_url, last_error, confirmed_by, \
                    CASE WHEN EXISTS (SELECT 1 FROM operations o WHERE o.session_id = sessions.id) \
                    THEN (SELECT coalesce(sum(amount), 0) FROM operations o \
                          WHERE o.session_id = sessions.id AND o.state = 'done' \
                            AND o.kind = 'capture') END, \
                    CASE WHEN EXISTS (SELECT 1 FROM operations o WHERE o.session_id = sessions.id) \
                    THEN (SELECT coalesce(sum(amount), 0) FROM operations o \
                          WHERE o.session_id = sessions.id AND o.state = 'done' \
                            AND o.kind IN ('refund', 'refund_recorded')) END";
        let (sql, args) = filtered_select(cols, filter, None, None);
        let io = |e: std::io::Error| StoreError::Other {
            path: self.path.clone(),
            detail: format!("cannot write the CSV: {e}"),
        };
        out.write_all(
            b"id,created_at,updated_at,expires_at,provider,profile,demo,status,merchant_reference,\
provider_session_id,currency,gross_minor,net_minor,vat_minor,gross,net,vat,checkout_url,last_error,\
confirmed_by,captured_minor,refunded_minor,captured,refunded\r\n",
        )
        .map_err(io)?;
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query(rusqlite::params_from_iter(args.iter()))
            .map_err(|e| self.err(e))?;
        let mut n = 0u64;
        let mut line = String::with_capacity(512);
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let get_s = |i| r.get::<_, Option<String>>(i);
            let get_i = |i| r.get::<_, Option<i64>>(i);
            let conv = |e: rusqlite::Error| StoreError::from_sqlite(&self.path, e);
            line.clear();
            let currency_code = get_s(10).map_err(conv)?.unwrap_or_default();
            let currency = Currency::from_code(&currency_code);
            let time = |v: Option<i64>| v.map(format_rfc3339).unwrap_or_default();
            let amounts = [
                get_i(11).map_err(conv)?,
                get_i(12).map_err(conv)?,
                get_i(13).map_err(conv)?,
            ];
            let captured = get_i(17).map_err(conv)?;
            let refunded = get_i(18).map_err(conv)?;
            let fields: [String; 24] = [
                get_s(0).map_err(conv)?.unwrap_or_default(),
                time(get_i(1).map_err(conv)?),
                time(get_i(2).map_err(conv)?),
                time(get_i(3).map_err(conv)?),
                get_s(4).map_err(conv)?.unwrap_or_default(),
                get_s(5).map_err(conv)?.unwrap_or_default(),
                if get_i(6).map_err(conv)? == Some(1) {
                    "true"
                } else {
                    "false"
                }
                .into(),
                get_s(7).map_err(conv)?.unwrap_or_default(),
                get_s(8).map_err(conv)?.unwrap_or_default(),
                get_s(9).map_err(conv)?.unwrap_or_default(),
                currency_code.clone(),
                amounts[0].map(|v| v.to_string()).unwrap_or_default(),
                amounts[1].map(|v| v.to_string()).unwrap_or_default(),
                amounts[2].map(|v| v.to_string()).unwrap_or_default(),
                major(currency, amounts[0]),
                major(currency, amounts[1]),
                major(currency, amounts[2]),
                get_s(14).map_err(conv)?.unwrap_or_default(),
                get_s(15).map_err(conv)?.unwrap_or_default(),
                // `staff`: a payment staff confirmed, not the provider (empty: the provider).
                get_s(16).map_err(conv)?.unwrap_or_default(),
                captured.map(|v| v.to_string()).unwrap_or_default(),
                refunded.map(|v| v.to_string()).unwrap_or_default(),
                major(currency, captured),
                major(currency, refunded),
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                csv_field(&mut line, f);
            }
            line.push_str("\r\n");
            out.write_all(line.as_bytes()).map_err(io)?;
            n += 1;
        }
        out.flush().map_err(io)?;
        Ok(n)
    }
}

fn major(currency: Option<Currency>, minor: Option<i64>) -> String {
    match (currency, minor) {
        (Some(c), Some(v)) => c.format_plain(v),
        _ => String::new(),
    }
}

/// RFC 4180: quote a field that holds a comma, quote, CR or LF; double the quotes inside.
/// A leading `=`, `+`, `-` or `@` is kept as is (the data are references and URLs, and
/// altering them would make the export disagree with the log).
fn csv_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}
