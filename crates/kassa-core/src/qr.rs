//! QR codes as SVG: the CLI writes them to a file, the desktop app shows the same text inline.
//!
//! The payload is only the checkout URL. Error correction M (15 %) keeps the code small enough
//! to scan from a phone at arm's length while surviving a smudged screen; the quiet zone is
//! kept because scanners need it. Dark modules on white whatever the UI theme: phones read
//! dark-on-light most reliably.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Renders `payload` as a standalone SVG document.
pub fn svg(payload: &str) -> Result<String, String> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| {
            format!(
                "cannot make a QR code of this URL ({} bytes): {e}",
                payload.len()
            )
        })?;
    Ok(code
        .render::<svg::Color>()
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_svg_that_encodes_the_url() {
        let url = "https://checkout.dintero.com/v1/view/T12345678.4xYz";
        let s = super::svg(url).unwrap();
        assert!(s.starts_with("<?xml") && s.contains("<svg") && s.ends_with("</svg>"));
        // A different payload gives a different picture.
        assert_ne!(s, super::svg("https://example.com/other").unwrap());
        assert!(super::svg(&"x".repeat(5000)).is_err());
    }
}
