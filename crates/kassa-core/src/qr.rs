//! QR codes as SVG: the CLI writes them to a file, the desktop app shows the same text inline.
//!
//! The payload is only the checkout URL. Error correction M (15 %) keeps the code small enough
//! to scan from a phone at arm's length while surviving a smudged screen; the quiet zone is
//! kept because scanners need it. Dark modules on white whatever the UI theme: phones read
//! dark-on-light most reliably.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Renders `payload` as a standalone SVG document. A payload that is already a picture (a
/// `data:image/…;base64,…` URL: the provider's own QR image, e.g. Klarna's `qr_code_url` for
/// in-store sales) is shown as it is, in an SVG of the same size.
pub fn svg(payload: &str) -> Result<String, String> {
    if let Some(rest) = payload.strip_prefix("data:image/") {
        let safe = rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=;:,.-".contains(c));
        if !safe || !rest.contains(";base64,") {
            return Err("the provider's QR image is not a base64 data URL".into());
        }
        return Ok(format!(
            "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" \
             width=\"256\" height=\"256\" viewBox=\"0 0 256 256\"><rect width=\"256\" height=\"256\" fill=\"#ffffff\"/>\
             <image width=\"256\" height=\"256\" href=\"{payload}\"/></svg>"
        ));
    }
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

    #[test]
    fn a_provider_image_is_shown_not_encoded() {
        let img = "data:image/png;base64,iVBORw0KGgo=";
        let s = super::svg(img).unwrap();
        assert!(s.contains(&format!("href=\"{img}\"")) && s.ends_with("</svg>"));
        assert!(super::svg("data:image/png;base64,\"/><script>").is_err());
        assert!(super::svg("data:image/png,raw").is_err());
    }
}
