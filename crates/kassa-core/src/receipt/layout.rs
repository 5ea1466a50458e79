//! The receipt as monospace lines for a given paper width: the one layout every output uses.
//!
//! Every text is first made [`printable`] (what PC865 has), then measured: the stand-ins for
//! other characters (`€` → `EUR`) would otherwise push the columns out of line on paper. Every
//! character is one column (the printer's font and the PDF's DejaVu Sans Mono are both
//! fixed-width); centring is done with spaces here, not with printer commands, so the lines
//! are the same text on paper, in the PDF and on screen. A [`Size::Double`] line is printed at
//! twice the width and height, so it holds half as many characters.

use super::charset::printable;
use super::{Item, ReceiptDoc, Row, VatLine, VatTable};
use serde::Serialize;

/// One printed line: its text (no trailing spaces) and how it is printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Line {
    pub text: String,
    pub size: Size,
    pub bold: bool,
}

/// Character size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Normal,
    /// Twice as wide and as tall (ESC/POS `GS ! 0x11`): headings and "KOPI". Norwegian tills
    /// print the heading at least half again as large as the amounts.
    Double,
}

impl Line {
    fn normal(text: String) -> Line {
        Line {
            text: trim_end(text),
            size: Size::Normal,
            bold: false,
        }
    }

    fn bold(text: String) -> Line {
        Line {
            bold: true,
            ..Line::normal(text)
        }
    }

    fn double(text: String) -> Line {
        Line {
            text: trim_end(text),
            size: Size::Double,
            bold: true,
        }
    }
}

fn trim_end(mut s: String) -> String {
    s.truncate(s.trim_end().len());
    s
}

fn len(s: &str) -> usize {
    s.chars().count()
}

pub(super) fn lines(doc: &ReceiptDoc, width: usize) -> Vec<Line> {
    let mut out = Vec::new();
    for row in &doc.rows {
        match row {
            Row::Heading { text } => {
                out.extend(centred(text, width / 2).into_iter().map(Line::double))
            }
            Row::Marker { text, big: true } => {
                out.extend(centred(text, width / 2).into_iter().map(Line::double))
            }
            Row::Marker { text, big: false } => {
                out.extend(centred(text, width).into_iter().map(Line::bold))
            }
            Row::Seller { name, lines } => {
                out.extend(centred(name, width).into_iter().map(Line::bold));
                for l in lines {
                    out.extend(centred(l, width).into_iter().map(Line::normal));
                }
            }
            Row::Field { label, value } => out.extend(
                two_columns(label, value, width)
                    .into_iter()
                    .map(Line::normal),
            ),
            Row::Item(item) => out.extend(item_lines(item, doc, width)),
            Row::Total { label, amount } => out.extend(
                two_columns(label, &doc.amount(*amount), width)
                    .into_iter()
                    .map(Line::bold),
            ),
            Row::Vat(table) => out.extend(vat_lines(table, doc, width)),
            Row::Payment {
                label,
                amount,
                details,
            } => {
                out.extend(
                    two_columns(label, &doc.amount(*amount), width)
                        .into_iter()
                        .map(Line::normal),
                );
                for d in details {
                    out.extend(indented(d, width).into_iter().map(Line::normal));
                }
            }
            Row::Note { text } => out.extend(wrap(text, width).into_iter().map(Line::normal)),
            Row::Rule => out.push(Line::normal("-".repeat(width))),
        }
    }
    out
}

/// Words into lines of at most `width` characters; a word longer than a line is cut. Lines
/// break at spaces only, never at a no-break space (inside an amount).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in printable(text).split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = len(&line);
            let room = if used == 0 {
                width
            } else {
                width.saturating_sub(used + 1)
            };
            if word.len() <= room {
                if used > 0 {
                    line.push(' ');
                }
                line.extend(word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            lines.push(word.drain(..width).collect());
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn centred(text: &str, width: usize) -> Vec<String> {
    wrap(text, width)
        .into_iter()
        .map(|l| format!("{}{l}", " ".repeat((width - len(&l)) / 2)))
        .collect()
}

fn indented(text: &str, width: usize) -> Vec<String> {
    wrap(text, width - 2)
        .into_iter()
        .map(|l| format!("  {l}"))
        .collect()
}

/// `label ........ value` on one line; if both do not fit, the label (wrapped) and then the
/// value on its own line, right-aligned.
fn two_columns(label: &str, value: &str, width: usize) -> Vec<String> {
    let (label, value) = (printable(label), printable(value));
    let (l, v) = (len(&label), len(&value));
    if l + 1 + v <= width {
        return vec![format!("{label}{}{value}", " ".repeat(width - l - v))];
    }
    let mut lines = wrap(&label, width);
    lines.extend(wrap(&value, width).into_iter().map(|v| right(&v, width)));
    lines
}

fn right(text: &str, width: usize) -> String {
    format!("{}{text}", " ".repeat(width.saturating_sub(len(text))))
}

/// The name (wrapped beside the amount), then the details indented.
fn item_lines(item: &Item, doc: &ReceiptDoc, width: usize) -> Vec<Line> {
    let amount = doc.amount(item.amount);
    let room = width.saturating_sub(len(&amount) + 1).max(width / 2);
    let mut names = wrap(&item.name, room).into_iter();
    let first = names.next().unwrap_or_default();
    let mut out = two_columns(&first, &amount, width);
    out.extend(names);
    for d in &item.details {
        out.extend(indented(d, width));
    }
    out.into_iter().map(Line::normal).collect()
}

/// Rate, base, VAT and gross in four columns; on paper too narrow for that, one block per
/// rate with a line per figure.
fn vat_lines(t: &VatTable, doc: &ReceiptDoc, width: usize) -> Vec<Line> {
    let figures = |r: &VatLine| [doc.amount(r.base), doc.amount(r.vat), doc.amount(r.gross)];
    let all: Vec<&VatLine> = t.rows.iter().chain([&t.sum]).collect();
    let first = all
        .iter()
        .map(|r| len(&r.label))
        .chain([len(&t.columns[0])])
        .max()
        .unwrap_or(0);
    let widest = all
        .iter()
        .flat_map(|r| figures(r))
        .map(|f| len(&f))
        .chain(t.columns[1..].iter().map(|c| len(c)))
        .max()
        .unwrap_or(0);
    let column = (width.saturating_sub(first)) / 3;
    let mut out = Vec::new();
    if column > widest {
        let first = width - 3 * column;
        let row = |label: &str, cells: [&str; 3]| {
            let mut s = format!("{:<first$}", printable(label));
            for c in cells {
                s.push_str(&right(&printable(c), column));
            }
            Line::normal(s)
        };
        out.push(row(
            &t.columns[0],
            [&t.columns[1], &t.columns[2], &t.columns[3]],
        ));
        for r in &all {
            let [a, b, c] = figures(r);
            out.push(row(&r.label, [&a, &b, &c]));
        }
    } else {
        let stacked = |r: &VatLine| {
            t.columns[1..]
                .iter()
                .zip(figures(r))
                .flat_map(|(name, figure)| two_columns(&format!("  {name}"), &figure, width))
                .map(Line::normal)
                .collect::<Vec<_>>()
        };
        for r in &t.rows {
            out.push(Line::normal(format!("{} {}", t.columns[0], r.label)));
            out.extend(stacked(r));
        }
        out.push(Line::normal(t.sum.label.clone()));
        out.extend(stacked(&t.sum));
    }
    out
}
