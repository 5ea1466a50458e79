//! The receipt as ESC/POS bytes for thermal receipt printers, made with the `escpos` crate
//! (commands only; Kassa's [`crate::printer`] sends them).
//!
//! The printer is reset (`ESC @`), switched to code page PC865 (`ESC t 5`, "Nordic": æ ø å Æ Ø
//! Å among the Latin letters), and then gets the lines of [`ReceiptDoc::lines`] one by one,
//! bold (`ESC E`) and double size (`GS !`) where the line says so, each ended by `ESC d 1`, and
//! finally a full cut (`GS V A 0`, which feeds the last line past the cutter first).
//!
//! A receipt printer shows a byte as whatever its code page has there: UTF-8 would print as
//! two or three wrong characters, and a control byte in an item name could be read as a
//! command. The layout already holds only characters PC865 has ([`super::printable`]); the
//! text is passed through it once more here, so no caller of [`encode_lines`] can get raw
//! UTF-8 or a control byte to the printer (the `escpos` crate would send an unknown character
//! as UTF-8).

use super::charset::printable;
use super::{Columns, Line, ReceiptDoc, ReceiptError, Size};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::printer_options::PrinterOptions;
use escpos::utils::{PageCode, Protocol};
use std::cell::RefCell;

/// The receipt laid out `columns` wide, as ESC/POS bytes ready for [`crate::printer::send`].
pub fn encode(doc: &ReceiptDoc, columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    encode_lines(&doc.lines(columns), columns)
}

/// Lines (already laid out) as ESC/POS bytes.
pub fn encode_lines(lines: &[Line], columns: Columns) -> Result<Vec<u8>, ReceiptError> {
    encode_parts(lines, None, columns)
}

/// `before`, then `qr` as a QR code (`GS ( k`: the printer draws it, error correction M as on
/// screen, centred, 6 dots a module: about 3 cm for a checkout URL on 80 mm paper), then
/// `after`, as ESC/POS bytes: a payment link's slip ([`super::link_slip`]). The QR's text is
/// the URL only, which is ASCII by construction (a provider's URL), so it needs no code page.
pub fn encode_with_qr(
    before: &[Line],
    qr: &str,
    after: &[Line],
    columns: Columns,
) -> Result<Vec<u8>, ReceiptError> {
    if !qr.is_ascii() || qr.bytes().any(|b| b.is_ascii_control()) {
        return Err(ReceiptError::Output {
            format: "ESC/POS",
            cause: "a QR code on paper holds a plain URL".into(),
        });
    }
    encode_parts(before, Some((qr, after)), columns)
}

fn encode_parts(
    lines: &[Line],
    qr: Option<(&str, &[Line])>,
    columns: Columns,
) -> Result<Vec<u8>, ReceiptError> {
    let fail = |e: escpos::errors::PrinterError| ReceiptError::Output {
        format: "ESC/POS",
        cause: e.to_string(),
    };
    let options = PrinterOptions::new(Some(PageCode::PC865), None, columns.get() as u8);
    let mut p = Printer::new(Memory::default(), Protocol::default(), Some(options));
    p.init().map_err(fail)?;
    write_lines(&mut p, lines).map_err(fail)?;
    if let Some((payload, after)) = qr {
        use escpos::utils::{JustifyMode, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption};
        p.justify(JustifyMode::CENTER).map_err(fail)?;
        p.qrcode_option(
            payload,
            QRCodeOption::new(QRCodeModel::Model2, 6, QRCodeCorrectionLevel::M),
        )
        .map_err(fail)?;
        p.justify(JustifyMode::LEFT).map_err(fail)?;
        write_lines(&mut p, after).map_err(fail)?;
    }
    p.print_cut().map_err(fail)?;
    Ok(p.driver().0.into_inner())
}

fn write_lines(p: &mut Printer<Memory>, lines: &[Line]) -> escpos::errors::Result<()> {
    for line in lines {
        if line.size == Size::Double {
            p.size(2, 2)?;
        }
        if line.bold {
            p.bold(true)?;
        }
        p.writeln(&printable(&line.text))?;
        if line.bold {
            p.bold(false)?;
        }
        if line.size == Size::Double {
            p.reset_size()?;
        }
    }
    Ok(())
}

/// The `escpos` crate writes its buffered commands to a driver on `print`; this one keeps
/// them, so making the bytes and sending them stay separate (and testable without a printer).
#[derive(Default)]
struct Memory(RefCell<Vec<u8>>);

impl Driver for Memory {
    fn name(&self) -> String {
        "memory".into()
    }

    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }

    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }

    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::charset::{PC865_KEPT, STAND_INS};
    use super::*;

    fn text_bytes(text: &str) -> Vec<u8> {
        // init, then the text line, then the cut: the text's bytes sit between ESC t 5 and
        // the line's ESC d 1.
        let bytes = encode_lines(
            &[Line {
                text: text.into(),
                size: Size::Normal,
                bold: false,
            }],
            Columns::PAPER_80MM,
        )
        .unwrap();
        let start = 5; // ESC @ ESC t 5
        let end = bytes.len() - 3 - 4; // ESC d 1, GS V A 0
        assert_eq!(&bytes[..start], b"\x1b@\x1bt\x05");
        assert_eq!(&bytes[end..], b"\x1bd\x01\x1dVA\x00");
        bytes[start..end].to_vec()
    }

    #[test]
    fn every_kept_character_is_one_byte_of_the_crates_pc865_table() {
        for c in PC865_KEPT.chars() {
            let bytes = text_bytes(&c.to_string());
            assert_eq!(bytes.len(), 1, "{c:?} became {bytes:02x?}");
            assert!(bytes[0] >= 0x80, "{c:?} is in the upper half");
        }
        // The Norwegian letters, byte by byte as CP865 has them.
        assert_eq!(text_bytes("æøåÆØÅ"), [0x91, 0x9b, 0x86, 0x92, 0x9d, 0x8f]);
    }

    #[test]
    fn characters_pc865_lacks_get_stand_ins_and_never_utf_8() {
        // Lines made by hand, not by the layout: the encoder maps them too.
        assert_eq!(text_bytes("Kaffe – 2 €"), b"Kaffe - 2 EUR");
        assert_eq!(text_bytes("日本"), b"??");
        for (c, _) in STAND_INS {
            let bytes = text_bytes(&c.to_string());
            assert!(
                bytes.iter().all(|b| *b < 0x80) || bytes.len() == 1,
                "{c:?} became {bytes:02x?}"
            );
        }
    }

    #[test]
    fn a_control_character_in_a_name_cannot_become_a_command() {
        // ESC @ would reset the printer, GS V would cut the paper mid-receipt.
        let bytes = text_bytes("Bolle\x1b@\x1dVA");
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&0x1d),
            "{bytes:02x?}"
        );
    }
}
