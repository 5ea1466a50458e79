//! The receipt as a PDF on an 80 mm roll: one page as wide as the paper and as tall as the
//! receipt, written with `pdf-writer` (Typst's low-level PDF writer).
//!
//! It draws the very lines the thermal printer prints ([`ReceiptDoc::lines`]) in Courier and
//! Courier-Bold, two of the 14 standard fonts every PDF reader has: monospace like the
//! printer's, nothing embedded, in WinAnsiEncoding, which holds every character a receipt can
//! (ASCII and the Latin-1 letters of PC865: æ ø å, ä ö, é …), each one byte. Sized so that the
//! line width fills the 72 mm a printer prints on; double-size lines at twice the size.
//! Readers and `pdftotext` give the text back from the standard encoding. The output is the
//! same bytes for the same receipt (no creation date), which keeps it testable and lets a
//! receipt saved twice be compared.
//!
//! Until 2026-12 the PDF was made with krilla and DejaVu Sans Mono, subset and embedded: 3.3 MB
//! of each release binary (the font stack and the fonts) for a 40-line receipt
//! (BENCHMARKS.md, Sizes).

use super::{Columns, Line, ReceiptDoc, ReceiptError, Size};
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

/// Courier's advance width (every glyph) and ascent, per unit of font size (its AFM: 600 and
/// 629 of 1000).
const ADVANCE: f32 = 0.6;
const ASCENT: f32 = 0.629;

const POINTS_PER_MM: f32 = 72.0 / 25.4;
/// The roll's width, and the width an 80 mm printer prints on.
const PAPER_MM: f32 = 80.0;
const PRINTED_MM: f32 = 72.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;

const REGULAR: Name = Name(b"F1");
const BOLD: Name = Name(b"F2");

/// The receipt laid out `columns` wide, as a PDF.
pub fn render(doc: &ReceiptDoc, columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    render_lines(&doc.lines(columns), columns)
}

/// Lines (already laid out) as a PDF page fitted to them.
pub fn render_lines(lines: &[Line], columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    // The font size at which `columns` characters fill the printed width.
    let size = PRINTED_MM * POINTS_PER_MM / (columns.get() as f32 * ADVANCE);
    let margin = (PAPER_MM - PRINTED_MM) / 2.0 * POINTS_PER_MM;
    let size_of = |l: &Line| match l.size {
        Size::Normal => size,
        Size::Double => 2.0 * size,
    };
    let width = PAPER_MM * POINTS_PER_MM;
    let height = 2.0 * margin + lines.iter().map(|l| size_of(l) * LEADING).sum::<f32>();
    if !height.is_finite() || height <= 0.0 {
        return Err(ReceiptError::Output {
            format: "PDF",
            cause: format!("no page of height {height}"),
        });
    }

    let mut text = Content::new();
    let mut top = margin;
    for line in lines {
        let s = size_of(line);
        if !line.text.is_empty() {
            let baseline = height - (top + ASCENT * s);
            text.begin_text()
                .set_font(if line.bold { BOLD } else { REGULAR }, s)
                .set_text_matrix([1.0, 0.0, 0.0, 1.0, margin, baseline])
                .show(Str(&win_ansi(&line.text)))
                .end_text();
        }
        top += s * LEADING;
    }
    let text = text.finish();

    let (catalog, pages, page, content, regular, bold) = (
        Ref::new(1),
        Ref::new(2),
        Ref::new(3),
        Ref::new(4),
        Ref::new(5),
        Ref::new(6),
    );
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(pages);
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.parent(pages)
        .media_box(Rect::new(0.0, 0.0, width, height))
        .contents(content);
    let mut resources = p.resources();
    let mut fonts = resources.fonts();
    fonts.pair(REGULAR, regular);
    fonts.pair(BOLD, bold);
    drop(fonts);
    drop(resources);
    drop(p);
    for (id, name) in [(regular, "Courier"), (bold, "Courier-Bold")] {
        pdf.type1_font(id)
            .base_font(Name(name.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    pdf.stream(content, &text);
    Ok(pdf.finish())
}

/// The text in WinAnsiEncoding: its printable ASCII and Latin-1 (U+00A0–U+00FF) are the same
/// byte values. The layout only holds characters of PC865, which all are; anything else would
/// be a question mark rather than a wrong letter.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_character_a_receipt_can_hold_is_one_win_ansi_byte() {
        let repertoire = (' '..='~').chain(super::super::charset::PC865_KEPT.chars());
        for c in repertoire {
            // WinAnsi's byte for a Latin-1 character is its code point.
            let latin1 = u8::try_from(u32::from(c)).expect("a Latin-1 character");
            assert_eq!(win_ansi(&c.to_string()), [latin1], "{c:?}");
        }
        assert_eq!(win_ansi("Blåbær €"), b"Bl\xe5b\xe6r ?");
    }
}
