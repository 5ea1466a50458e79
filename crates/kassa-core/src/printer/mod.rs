//! Receipt printers: where the bytes of a printed receipt go, and what went wrong on the way.
//!
//! A printer is named by one URL, the `printer.url` setting ([`PrinterUrl`]):
//! - `tcp://host:port` — a network printer's raw port (9100 when left out), the way almost
//!   every Ethernet/Wi-Fi receipt printer takes ESC/POS;
//! - `usb://VID:PID` or `usb:///dev/usb/lp0` — a USB printer through the operating system's
//!   printer-class driver (Linux `usblp`), found by its vendor and product id or given as the
//!   device file;
//! - `serial:///dev/ttyUSB0?baud=9600` — a serial (RS-232 or USB-serial) printer.
//!
//! Plus a file sink ([`save`]), for `--escpos FILE` and for printers that are a file already.
//!
//! This module moves bytes; it does not know what a receipt is (that is
//! [`crate::receipt`], which makes the bytes). Printing is always after the fact: a sale is
//! complete before anything is printed, so every error here names the printer, the cause and
//! what to do, and the caller offers to print again later.
//!
//! Why Kassa's own transports instead of the `escpos` crate's drivers: its network driver
//! blocks on the OS connect timeout (minutes) unless given a timeout, and then only takes an IP
//! literal, not a host name; its serial and USB drivers need C libraries (libudev, libusb).
//! What is tested here: TCP (against a loopback listener) and the device-file path (against a
//! plain file). USB lookup by id is tested against a made-up sysfs tree, not a real printer;
//! serial line settings are not tested at all (no serial port on the test machines).

mod device;
mod tcp;

pub use device::find_usb_printer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The raw-printing port of network receipt printers ("JetDirect"/"RAW" on 9100).
pub const DEFAULT_TCP_PORT: u16 = 9100;

/// Serial speeds a receipt printer is set to (its DIP switches or utility); anything else is
/// more likely a typo than a printer.
const BAUD_RATES: &[u32] = &[1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200];

const URL_FORMS: &str = "tcp://host:port (a network printer; port 9100 when left out), \
usb://VID:PID or usb:///dev/usb/lp0 (USB), or serial:///dev/ttyUSB0?baud=9600 (serial)";

/// Where a receipt printer is, parsed and checked from `printer.url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterUrl {
    /// A network printer's raw port. `host` is a name, an IPv4 address or an IPv6 address
    /// (without the brackets).
    Tcp { host: String, port: u16 },
    /// A USB printer by its vendor and product id (Linux: found as `/dev/usb/lpN`).
    UsbId { vendor: u16, product: u16 },
    /// A USB printer's device file (`/dev/usb/lp0`).
    UsbDevice { path: PathBuf },
    /// A serial printer's device file; `baud` is set before writing when given, otherwise the
    /// port is used as the system has it set.
    Serial { path: PathBuf, baud: Option<u32> },
}

impl PrinterUrl {
    /// Parses `tcp://host[:port]`, `usb://VID:PID`, `usb:///dev/…` or `serial:///dev/…[?baud=N]`.
    /// The error says which part is wrong and shows the forms.
    pub fn parse(text: &str) -> Result<PrinterUrl, String> {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("tcp://") {
            parse_tcp(rest.strip_suffix('/').unwrap_or(rest))
        } else if let Some(rest) = text.strip_prefix("usb://") {
            parse_usb(rest)
        } else if let Some(rest) = text.strip_prefix("serial://") {
            parse_serial(rest)
        } else {
            Err(format!("{text:?} is not a printer URL: use {URL_FORMS}"))
        }
    }

    /// How messages name the printer: `10.0.0.5:9100`, `USB 04b8:0202`, `/dev/ttyUSB0`.
    pub fn target(&self) -> String {
        match self {
            PrinterUrl::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            PrinterUrl::Tcp { host, port } => format!("{host}:{port}"),
            PrinterUrl::UsbId { vendor, product } => format!("USB {vendor:04x}:{product:04x}"),
            PrinterUrl::UsbDevice { path } | PrinterUrl::Serial { path, .. } => {
                path.display().to_string()
            }
        }
    }
}

impl fmt::Display for PrinterUrl {
    /// The canonical URL (the TCP port always written out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrinterUrl::Tcp { .. } => write!(f, "tcp://{}", self.target()),
            PrinterUrl::UsbId { vendor, product } => write!(f, "usb://{vendor:04x}:{product:04x}"),
            PrinterUrl::UsbDevice { path } => write!(f, "usb://{}", path.display()),
            PrinterUrl::Serial { path, baud: None } => write!(f, "serial://{}", path.display()),
            PrinterUrl::Serial {
                path,
                baud: Some(b),
            } => write!(f, "serial://{}?baud={b}", path.display()),
        }
    }
}

fn parse_tcp(rest: &str) -> Result<PrinterUrl, String> {
    let bad =
        |why: &str| format!("tcp://{rest}: {why} (use tcp://host:port, e.g. tcp://10.0.0.5:9100)");
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("no ] after the IPv6 address"))?;
        host.parse::<std::net::Ipv6Addr>()
            .map_err(|_| bad("not an IPv6 address in the brackets"))?;
        match after {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("a port follows a colon"))?,
                ),
            ),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let name_ok = host.contains(':')
        || (host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    if !name_ok {
        return Err(bad("the host is not a host name or IP address"));
    }
    let port = match port {
        None => DEFAULT_TCP_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
    };
    Ok(PrinterUrl::Tcp {
        host: host.to_string(),
        port,
    })
}

fn parse_usb(rest: &str) -> Result<PrinterUrl, String> {
    if rest.starts_with('/') {
        return device_path(rest, "usb").map(|path| PrinterUrl::UsbDevice { path });
    }
    let hex = |s: &str| {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| u16::from_str_radix(s, 16).ok())
            .flatten()
    };
    match rest.split_once(':') {
        Some((v, p)) => match (hex(v), hex(p)) {
            (Some(vendor), Some(product)) => Ok(PrinterUrl::UsbId { vendor, product }),
            _ => Err(format!(
                "usb://{rest}: the vendor and product ids are 4 hex digits each, as lsusb shows \
                 them (e.g. usb://04b8:0202)"
            )),
        },
        None => Err(format!(
            "usb://{rest}: use usb://VID:PID (e.g. usb://04b8:0202) or a device file \
             (usb:///dev/usb/lp0)"
        )),
    }
}

fn parse_serial(rest: &str) -> Result<PrinterUrl, String> {
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let path = device_path(path, "serial")?;
    let baud = match query {
        None => None,
        Some(q) => {
            let value = q.strip_prefix("baud=").ok_or_else(|| {
                format!("serial://{rest}: the only option is ?baud=N (e.g. ?baud=9600)")
            })?;
            let baud = value.parse::<u32>().ok().filter(|b| BAUD_RATES.contains(b));
            Some(baud.ok_or_else(|| {
                let rates: Vec<String> = BAUD_RATES.iter().map(u32::to_string).collect();
                format!(
                    "serial://{rest}: {value:?} is not a serial speed ({})",
                    rates.join(", ")
                )
            })?)
        }
    };
    Ok(PrinterUrl::Serial { path, baud })
}

/// An absolute device path without anything that could be a second argument or a URL part.
fn device_path(path: &str, scheme: &str) -> Result<PathBuf, String> {
    let ok = path.starts_with('/')
        && path.len() > 1
        && !path
            .chars()
            .any(|c| c.is_control() || matches!(c, '?' | '#' | ' '));
    if ok {
        Ok(PathBuf::from(path))
    } else {
        Err(format!(
            "{scheme}://{path}: the device file must be an absolute path, e.g. {scheme}:///dev/{}",
            if scheme == "usb" {
                "usb/lp0"
            } else {
                "ttyUSB0"
            }
        ))
    }
}

/// How long a printer may take. A receipt is a few kilobytes, which any printer takes at once
/// into its buffer; a printer that takes longer is off, out of paper or jammed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the connection (TCP).
    pub connect: Duration,
    /// For all the bytes to be taken once connected or opened.
    pub write: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(3),
            write: Duration::from_secs(10),
        }
    }
}

/// A timeout in words: `3 s`, `0.2 s`.
fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// Why a receipt did not reach the printer. Every message names the printer and says what to
/// do; none says the sale failed, because it did not.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// Nothing was sent: the printer could not be reached or opened.
    #[error("receipt printer {printer} is not reachable ({cause}): check that it is switched on and connected, and that printer.url is right")]
    Unreachable { printer: String, cause: String },
    /// No USB printer with that id is connected.
    #[error("no USB receipt printer {printer} is connected (looked for it in {searched}): check its cable and power, and its id with lsusb")]
    UsbNotFound { printer: String, searched: String },
    /// The device file exists but this user may not write to it.
    #[error("receipt printer {printer}: permission denied; add this user to the group that owns {path} (ls -l {path}; usually `sudo usermod -aG lp $USER` for USB, dialout for serial), then log in again")]
    Permission { printer: String, path: String },
    /// The serial port's speed could not be set.
    #[error("receipt printer {printer}: cannot set the serial port to {baud} baud ({cause}); check printer.url, or set the port up yourself and leave out ?baud=")]
    SerialSetup {
        printer: String,
        baud: u32,
        cause: String,
    },
    /// The printer stopped taking bytes: part of the receipt may have printed.
    #[error("receipt printer {printer} stopped after {sent} of {total} bytes ({cause}): check paper, cover and cable, then print the receipt again")]
    Interrupted {
        printer: String,
        sent: usize,
        total: usize,
        cause: String,
    },
    /// Saving the bytes to a file failed.
    #[error("cannot write {path}: {cause}")]
    File { path: String, cause: String },
}

impl PrintError {
    pub fn code(&self) -> crate::code::Code {
        use crate::code::Code;
        match self {
            PrintError::Unreachable { .. } | PrintError::UsbNotFound { .. } => {
                Code::PrinterUnreachable
            }
            PrintError::Permission { .. } | PrintError::SerialSetup { .. } => {
                Code::PrinterPermission
            }
            PrintError::Interrupted { .. } => Code::PrinterInterrupted,
            PrintError::File { .. } => Code::FileWrite,
        }
    }
}

/// Sends `bytes` (a receipt already encoded for the printer) to the printer at `url`, with
/// the default [`Timeouts`].
pub fn send(url: &PrinterUrl, bytes: &[u8]) -> Result<(), PrintError> {
    send_with(url, bytes, Timeouts::default())
}

/// [`send`] with other timeouts.
pub fn send_with(url: &PrinterUrl, bytes: &[u8], timeouts: Timeouts) -> Result<(), PrintError> {
    match url {
        PrinterUrl::Tcp { host, port } => tcp::send(host, *port, &url.target(), bytes, timeouts),
        PrinterUrl::UsbDevice { path } => device::send(path, &url.target(), bytes, timeouts),
        PrinterUrl::UsbId { vendor, product } => {
            let path = device::find_usb_printer(
                Path::new(device::SYS_USBMISC),
                Path::new(device::DEV_USB),
                *vendor,
                *product,
            )
            .ok_or_else(|| PrintError::UsbNotFound {
                printer: url.target(),
                searched: device::SYS_USBMISC.into(),
            })?;
            device::send(&path, &url.target(), bytes, timeouts)
        }
        PrinterUrl::Serial { path, baud } => {
            if let Some(baud) = baud {
                device::set_serial_speed(path, *baud).map_err(|cause| PrintError::SerialSetup {
                    printer: url.target(),
                    baud: *baud,
                    cause,
                })?;
            }
            device::send(path, &url.target(), bytes, timeouts)
        }
    }
}

/// The file sink: writes `bytes` to `path` whole or not at all (a temporary file renamed into
/// place), so a failed save never leaves half a receipt that a later `cat FILE > printer`
/// would print.
pub fn save(path: &Path, bytes: &[u8]) -> Result<(), PrintError> {
    let fail = |e: std::io::Error| PrintError::File {
        path: path.display().to_string(),
        cause: e.to_string(),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
    std::fs::write(&tmp, bytes).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> PrinterUrl {
        PrinterUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn network_printers_default_to_port_9100() {
        assert_eq!(
            ok("tcp://10.0.0.5"),
            PrinterUrl::Tcp {
                host: "10.0.0.5".into(),
                port: 9100
            }
        );
        assert_eq!(
            ok("tcp://printer.local:9101").to_string(),
            "tcp://printer.local:9101"
        );
        assert_eq!(ok("tcp://10.0.0.5/").target(), "10.0.0.5:9100");
        assert_eq!(
            ok("tcp://[fe80::1]:9100").to_string(),
            "tcp://[fe80::1]:9100"
        );
        assert_eq!(ok("tcp://[::1]").target(), "[::1]:9100");
    }

    #[test]
    fn usb_and_serial_printers_are_device_files_or_ids() {
        assert_eq!(
            ok("usb://04b8:0E15"),
            PrinterUrl::UsbId {
                vendor: 0x04b8,
                product: 0x0e15
            }
        );
        assert_eq!(ok("usb://04b8:0e15").to_string(), "usb://04b8:0e15");
        assert_eq!(ok("usb:///dev/usb/lp0").to_string(), "usb:///dev/usb/lp0");
        assert_eq!(
            ok("serial:///dev/ttyUSB0?baud=9600"),
            PrinterUrl::Serial {
                path: "/dev/ttyUSB0".into(),
                baud: Some(9600)
            }
        );
        assert_eq!(ok("serial:///dev/ttyS0").to_string(), "serial:///dev/ttyS0");
    }

    #[test]
    fn a_bad_printer_url_says_which_part_is_wrong() {
        let err = |s: &str| PrinterUrl::parse(s).unwrap_err();
        assert!(err("http://10.0.0.5").contains("is not a printer URL: use tcp://host:port"));
        assert!(err("10.0.0.5:9100").contains("is not a printer URL"));
        assert!(err("tcp://").contains("no host"));
        assert!(err("tcp://10.0.0.5:0").contains("port must be a number from 1 to 65535"));
        assert!(err("tcp://10.0.0.5:99999").contains("port must be"));
        assert!(err("tcp://printer_1:9100").contains("not a host name"));
        assert!(err("tcp://[fe80::1").contains("no ]"));
        assert!(err("tcp://[zz]:1").contains("not an IPv6 address"));
        assert!(err("usb://4b8:202").contains("4 hex digits each"));
        assert!(err("usb://printer").contains("use usb://VID:PID"));
        assert!(err("usb://dev/usb/lp0").contains("use usb://VID:PID"));
        assert!(err("serial://ttyUSB0").contains("must be an absolute path"));
        assert!(err("serial:///dev/ttyUSB0?baud=9601").contains("not a serial speed"));
        assert!(err("serial:///dev/ttyUSB0?speed=9600").contains("the only option is ?baud=N"));
        assert!(err("usb:///dev/usb/lp0 /etc/passwd").contains("absolute path"));
    }

    #[test]
    fn a_saved_file_is_whole_or_absent() {
        let dir = std::env::temp_dir().join(format!("kassa-printer-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("receipt.escpos");
        save(&path, b"\x1b@hello").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"\x1b@hello");
        assert!(!dir.join(".receipt.escpos.tmp").exists());
        let missing = dir.join("no-such-dir").join("r.escpos");
        let e = save(&missing, b"x").unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot write {}", missing.display())),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
