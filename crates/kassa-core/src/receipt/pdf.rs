//! The receipt as a PDF on an 80 mm roll: one page as wide as the paper and as tall as the
//! receipt, made with `krilla` (Typst's PDF writer).
//!
//! Without krilla's text shaping (its `simple-text` feature: rustybuzz and Unicode tables,
//! 0.65 MB of the release binary): a monospace font and the PC865 repertoire need none, so each
//! character is its glyph from the font's character map, one advance wide.
//!
//! It draws the very lines the thermal printer prints ([`ReceiptDoc::lines`]) in DejaVu Sans
//! Mono, a monospace font like the printer's, sized so that the line width fills the 72 mm a
//! printer prints on; double-size lines at twice the size. The fonts are in the binary
//! (`fonts/`, their licence beside them) and embedded (subset, with a ToUnicode map, so the
//! text can be searched and extracted: `pdftotext` gives the lines back). The output is the
//! same bytes for the same receipt (no creation date), which keeps it testable and lets a
//! receipt saved twice be compared.

use super::{Columns, Line, ReceiptDoc, ReceiptError, Size};
use krilla::geom::Point;
use krilla::page::PageSettings;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use skrifa::MetadataProvider;

static REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSansMono.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSansMono-Bold.ttf");

/// DejaVu Sans Mono's advance width (every glyph) and ascent, in font units of 2048 per em
/// (its `hhea` table).
const ADVANCE: f32 = 1233.0 / 2048.0;
const ASCENT: f32 = 1901.0 / 2048.0;

const POINTS_PER_MM: f32 = 72.0 / 25.4;
/// The roll's width, and the width an 80 mm printer prints on.
const PAPER_MM: f32 = 80.0;
const PRINTED_MM: f32 = 72.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;

/// The receipt laid out `columns` wide, as a PDF.
pub fn render(doc: &ReceiptDoc, columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    render_lines(&doc.lines(columns), columns)
}

/// Lines (already laid out) as a PDF page fitted to them.
pub fn render_lines(lines: &[Line], columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    let fail = |cause: String| ReceiptError::Output {
        format: "PDF",
        cause,
    };
    let font = |data: &'static [u8]| {
        let unreadable = || fail("the embedded font cannot be read".into());
        let charmap = skrifa::FontRef::new(data)
            .map_err(|_| unreadable())?
            .charmap();
        Ok::<_, ReceiptError>((Font::new(data.into(), 0).ok_or_else(unreadable)?, charmap))
    };
    let (regular, bold) = (font(REGULAR)?, font(BOLD)?);
    // The font size at which `columns` characters fill the printed width.
    let size = PRINTED_MM * POINTS_PER_MM / (columns.get() as f32 * ADVANCE);
    let margin = (PAPER_MM - PRINTED_MM) / 2.0 * POINTS_PER_MM;
    let size_of = |l: &Line| match l.size {
        Size::Normal => size,
        Size::Double => 2.0 * size,
    };
    let height = 2.0 * margin + lines.iter().map(|l| size_of(l) * LEADING).sum::<f32>();
    let page_settings = PageSettings::from_wh(PAPER_MM * POINTS_PER_MM, height)
        .ok_or_else(|| fail(format!("no page of height {height}")))?;
    let mut pdf = Document::new();
    let mut page = pdf.start_page_with(page_settings);
    let mut surface = page.surface();
    let mut top = margin;
    for line in lines {
        let s = size_of(line);
        if !line.text.is_empty() {
            let (font, charmap) = if line.bold { &bold } else { &regular };
            surface.draw_glyphs(
                Point::from_xy(margin, top + ASCENT * s),
                &glyphs(&line.text, charmap),
                font.clone(),
                &line.text,
                s,
                false,
            );
        }
        top += s * LEADING;
    }
    surface.finish();
    page.finish();
    pdf.finish().map_err(|e| fail(format!("{e:?}")))
}

/// Each character as its glyph, one advance wide, tied to its bytes in the text (which is how
/// the PDF's ToUnicode map gives the text back). A character the font lacks would be glyph 0
/// (an empty box); the layout only holds characters of PC865, which DejaVu Sans Mono all has.
fn glyphs(text: &str, charmap: &skrifa::charmap::Charmap) -> Vec<KrillaGlyph> {
    text.char_indices()
        .map(|(at, c)| {
            let id = charmap.map(c).map_or(0, |g| g.to_u32());
            KrillaGlyph::new(
                GlyphId::new(id),
                ADVANCE,
                0.0,
                0.0,
                0.0,
                at..at + c.len_utf8(),
                None,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_fonts_have_every_character_a_receipt_can_hold() {
        let repertoire = (' '..='~').chain(super::super::charset::PC865_KEPT.chars());
        for data in [REGULAR, BOLD] {
            let charmap = skrifa::FontRef::new(data).unwrap().charmap();
            for c in repertoire.clone() {
                assert!(charmap.map(c).is_some_and(|g| g.to_u32() != 0), "{c:?}");
            }
        }
    }
}
