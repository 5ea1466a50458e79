//! QR codes as SVG (the CLI writes them to a file, the desktop app shows the same text inline)
//! and as PNG (a file to put in a message, an invoice or a poster).
//!
//! The payload is only the checkout URL. Error correction M (15 %) keeps the code small enough
//! to scan from a phone at arm's length while surviving a smudged screen; the quiet zone is
//! kept because scanners need it. Dark modules on white whatever the UI theme: phones read
//! dark-on-light most reliably.

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
    let (width, dark) = modules(payload)?;
    Ok(svg_of_modules(width, &dark))
}

/// The SVG of a code's modules: one path of the dark modules' horizontal runs, in module units
/// (the viewBox scales it to 256 px), on a white square with the quiet zone. A typical checkout
/// URL's code is about 4 KB this way; drawn a module at a time, in pixels (the `qrcode` crate's
/// renderer), it was about 13 KB, which the desktop's page receives, escapes into a data URL
/// and WebKit parses for every charge (charge → QR, BENCHMARKS.md).
fn svg_of_modules(width: usize, dark: &[bool]) -> String {
    use std::fmt::Write as _;
    let side = width + 2 * QUIET_MODULES;
    let mut out = format!(
        "<?xml version=\"1.0\" standalone=\"yes\"?><svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"256\" height=\"256\" viewBox=\"0 0 {side} {side}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#ffffff\"/><path fill=\"#000000\" d=\""
    );
    for (y, row) in dark.chunks(width).enumerate() {
        let mut x = 0;
        while x < width {
            if !row[x] {
                x += 1;
                continue;
            }
            let run = row[x..].iter().take_while(|d| **d).count();
            let (left, top) = (x + QUIET_MODULES, y + QUIET_MODULES);
            let _ = write!(out, "M{left} {top}h{run}v1H{left}z");
            x += run;
        }
    }
    out.push_str("\"/></svg>");
    out
}

/// The dark-on-light modules of `payload`'s QR code, `width` × `width`, row by row.
fn modules(payload: &str) -> Result<(usize, Vec<bool>), String> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).map_err(|e| {
            format!(
                "cannot make a QR code of this URL ({} bytes): {e}",
                payload.len()
            )
        })?;
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Ok((code.width(), dark))
}

/// The quiet zone around a code, in modules (ISO/IEC 18004 asks for four).
const QUIET_MODULES: usize = 4;

/// Renders `payload` as a PNG: 1-bit greyscale, `module_px` pixels a module (8 gives a code of
/// a typical checkout URL about 300 px wide, sharp when printed or scaled by whole steps), the
/// quiet zone included. A provider's own QR image (`data:image/…`) is refused: Kassa only
/// encodes URLs; the SVG shows such an image as it is.
pub fn png(payload: &str, module_px: u32) -> Result<Vec<u8>, String> {
    if payload.starts_with("data:image/") {
        return Err(
            "this session's QR code is the provider's picture, not a URL: save it as SVG".into(),
        );
    }
    let scale = module_px.clamp(1, 32) as usize;
    let (width, dark) = modules(payload)?;
    let side = (width + 2 * QUIET_MODULES) * scale;
    let row_bytes = side.div_ceil(8);
    // Each row: filter type 0 (none), then the pixels, 8 a byte, most significant bit first;
    // 1 is white in greyscale.
    let mut raw = Vec::with_capacity(side * (row_bytes + 1));
    for y in 0..side {
        raw.push(0u8);
        let my = (y / scale)
            .checked_sub(QUIET_MODULES)
            .filter(|m| *m < width);
        let mut row = vec![0xffu8; row_bytes];
        if let Some(my) = my {
            for x in 0..side {
                let mx = (x / scale)
                    .checked_sub(QUIET_MODULES)
                    .filter(|m| *m < width);
                if mx.is_some_and(|mx| dark[my * width + mx]) {
                    row[x / 8] &= !(0x80 >> (x % 8));
                }
            }
        }
        raw.extend_from_slice(&row);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, &raw).map_err(|e| e.to_string())?;
    let idat = z.finish().map_err(|e| e.to_string())?;
    let side = u32::try_from(side).map_err(|_| "the QR code is too large".to_string())?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&side.to_be_bytes());
    // Bit depth 1, colour type 0 (greyscale), deflate, filter method 0, no interlace.
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr), (b"IDAT", &idat), (b"IEND", &Vec::new())] {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    Ok(out)
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

    /// The path is read back as a grid, module by module: each run `M<left> <top>h<n>v1H<left>z`
    /// fills `n` modules of row `top`; the grid must be the code's modules inside a 4-module
    /// quiet zone, each filled once, in a viewBox of exactly that size.
    #[test]
    fn the_svgs_one_path_fills_exactly_the_codes_dark_modules_inside_the_quiet_zone() {
        let url = "https://checkout.dintero.com/v1/view/T12345678.4xYz";
        let s = super::svg(url).unwrap();
        let (width, dark) = super::modules(url).unwrap();
        let side = width + 8;
        assert!(s.contains(&format!("viewBox=\"0 0 {side} {side}\"")), "{s}");
        assert_eq!(s.matches("<path").count(), 1);
        let d = s.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut filled = vec![0u8; side * side];
        for run in d.split('M').filter(|r| !r.is_empty()) {
            let (left, rest) = run.split_once(' ').unwrap();
            let (top, rest) = rest.split_once('h').unwrap();
            let (n, rest) = rest.split_once("v1H").unwrap();
            assert_eq!(rest, format!("{left}z"), "run {run}");
            let (left, top, n): (usize, usize, usize) = (
                left.parse().unwrap(),
                top.parse().unwrap(),
                n.parse().unwrap(),
            );
            for x in left..left + n {
                filled[top * side + x] += 1;
            }
        }
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = (x.wrapping_sub(4), y.wrapping_sub(4));
                let want = mx < width && my < width && dark[my * width + mx];
                assert_eq!(filled[y * side + x], u8::from(want), "module {x},{y}");
            }
        }
        // What the desktop's page receives for every charge (charge → QR, BENCHMARKS.md).
        assert!(s.len() < 5_000, "{} bytes", s.len());
    }

    #[test]
    fn the_png_is_the_codes_modules_with_a_quiet_zone_read_back_by_another_decoder() {
        let url = "https://checkout.dintero.com/v1/view/T12345678.4xYz";
        let bytes = super::png(url, 8).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let (width, dark) = super::modules(url).unwrap();
        let side = (width + 8) * 8;
        assert_eq!((info.width as usize, info.height as usize), (side, side));
        assert_eq!(info.bit_depth, png::BitDepth::One);
        let pixel = |x: usize, y: usize| buf[y * info.line_size + x / 8] & (0x80 >> (x % 8)) == 0;
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / 8).wrapping_sub(4), (y / 8).wrapping_sub(4));
                let want = mx < width && my < width && dark[my * width + mx];
                assert_eq!(pixel(x, y), want, "pixel {x},{y}");
            }
        }
        // The finder pattern's corner is dark, the quiet zone light.
        assert!(pixel(32, 32) && !pixel(31, 31));
        assert!(super::png("data:image/png;base64,iVBORw0KGgo=", 8).is_err());
        assert!(super::png(&"x".repeat(5000), 8).is_err());
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
