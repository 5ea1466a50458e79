//! Printers that are a device file: USB (Linux `usblp`, `/dev/usb/lpN`) and serial ports.
//!
//! The kernel's printer-class driver makes a USB receipt printer a file that takes ESC/POS as
//! written, so no USB library (and no C library) is needed. A write to such a file blocks while
//! the printer is off-line (paper out, cover open), possibly for ever, so the write runs on its
//! own thread and Kassa stops waiting after the write timeout; that thread ends when the write
//! does, or with the process.

use super::{seconds, PrintError, Timeouts};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

/// Where Linux lists the devices of the USB printer class (one `lpN` entry per printer).
pub(super) const SYS_USBMISC: &str = "/sys/class/usbmisc";
/// Where their device files are.
pub(super) const DEV_USB: &str = "/dev/usb";

pub(super) fn send(
    path: &Path,
    printer: &str,
    bytes: &[u8],
    t: Timeouts,
) -> Result<(), PrintError> {
    // Opened for writing only, never created: a missing device is an unplugged printer, and
    // creating a plain file at /dev/usb/lp0 would swallow every later receipt.
    let mut file = match std::fs::OpenOptions::new().write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(PrintError::Permission {
                printer: printer.to_string(),
                path: path.display().to_string(),
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PrintError::Unreachable {
                printer: printer.to_string(),
                cause: format!(
                    "{} does not exist: is it plugged in and switched on?",
                    path.display()
                ),
            })
        }
        Err(e) => {
            return Err(PrintError::Unreachable {
                printer: printer.to_string(),
                cause: e.to_string(),
            })
        }
    };
    let (done, wait) = mpsc::channel();
    let data = bytes.to_vec();
    std::thread::spawn(move || {
        let result = file.write_all(&data).and_then(|()| file.flush());
        let _ = done.send(result);
    });
    let interrupted = |cause: String| PrintError::Interrupted {
        printer: printer.to_string(),
        // A file write does not say how far it got before failing or hanging.
        sent: 0,
        total: bytes.len(),
        cause,
    };
    match wait.recv_timeout(t.write) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(interrupted(e.to_string())),
        Err(_) => Err(interrupted(format!(
            "it took nothing for {}",
            seconds(t.write)
        ))),
    }
}

/// The device file of the USB printer `vendor:product`: the `lpN` under `sys_usbmisc` whose
/// USB device has those ids, as `dev/lpN`. `None` when none is connected (or not on Linux).
///
/// `sys_usbmisc/lpN/device` links to the printer's USB interface; its parent directory is the
/// USB device, with `idVendor` and `idProduct` as 4 hex digits.
pub fn find_usb_printer(
    sys_usbmisc: &Path,
    dev: &Path,
    vendor: u16,
    product: u16,
) -> Option<PathBuf> {
    let id = |dir: &Path, file: &str| {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        u16::from_str_radix(text.trim(), 16).ok()
    };
    let mut entries: Vec<_> = std::fs::read_dir(sys_usbmisc)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("lp"))
        .collect();
    // lp0 before lp1: the same printer every time when two of one model are connected.
    entries.sort();
    entries.into_iter().find_map(|name| {
        let interface = std::fs::canonicalize(sys_usbmisc.join(&name).join("device")).ok()?;
        let usb_device = interface.parent()?;
        (id(usb_device, "idVendor")? == vendor && id(usb_device, "idProduct")? == product)
            .then(|| dev.join(&name))
    })
}

/// Sets a serial port's speed and raw mode with the system's `stty` (no C library or unsafe
/// code in Kassa for it). Untested here: the test machines have no serial port.
#[cfg(unix)]
pub(super) fn set_serial_speed(path: &Path, baud: u32) -> Result<(), String> {
    // GNU stty (Linux) names the device with -F, BSD stty (macOS) with -f.
    let flag = if cfg!(target_os = "linux") {
        "-F"
    } else {
        "-f"
    };
    let out = std::process::Command::new("stty")
        .arg(flag)
        .arg(path)
        .args([&baud.to_string(), "raw", "-echo"])
        .output()
        .map_err(|e| format!("cannot run stty: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

#[cfg(not(unix))]
pub(super) fn set_serial_speed(_path: &Path, _baud: u32) -> Result<(), String> {
    Err("Kassa sets serial speeds on Linux and macOS only".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::printer::{send_with, PrinterUrl};
    use std::time::Duration;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kassa-printer-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_device_file_gets_the_bytes_as_they_are() {
        let dir = temp("device");
        let device = dir.join("lp0");
        std::fs::write(&device, b"").unwrap();
        let url = PrinterUrl::parse(&format!("usb://{}", device.display())).unwrap();
        send_with(&url, b"\x1b@R\x9b\x1dVA\x00", Timeouts::default()).unwrap();
        assert_eq!(std::fs::read(&device).unwrap(), b"\x1b@R\x9b\x1dVA\x00");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_missing_device_is_an_unplugged_printer_and_is_not_created() {
        let dir = temp("missing");
        let device = dir.join("lp7");
        let url = PrinterUrl::parse(&format!("usb://{}", device.display())).unwrap();
        let e = send_with(&url, b"x", Timeouts::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            format!(
                "receipt printer {0} is not reachable ({0} does not exist: is it plugged in and \
                 switched on?): check that it is switched on and connected, and that \
                 printer.url is right",
                device.display()
            )
        );
        assert!(!device.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_usb_printer_is_found_by_its_ids_in_sysfs() {
        use std::os::unix::fs::symlink;
        // The shape of /sys/class/usbmisc on Linux: lpN/device → the USB interface, whose
        // parent is the USB device with idVendor and idProduct.
        let root = temp("sysfs");
        let sys = root.join("class/usbmisc");
        for (lp, bus, vendor, product) in [
            ("lp0", "1-1", "0483\n", "5743\n"),
            ("lp1", "1-2", "04b8\n", "0e15\n"),
        ] {
            let usb = root.join("devices").join(bus);
            let interface = usb.join(format!("{bus}:1.0"));
            std::fs::create_dir_all(&interface).unwrap();
            std::fs::write(usb.join("idVendor"), vendor).unwrap();
            std::fs::write(usb.join("idProduct"), product).unwrap();
            std::fs::create_dir_all(sys.join(lp)).unwrap();
            symlink(&interface, sys.join(lp).join("device")).unwrap();
        }
        let dev = Path::new("/dev/usb");
        assert_eq!(
            find_usb_printer(&sys, dev, 0x04b8, 0x0e15),
            Some(dev.join("lp1"))
        );
        assert_eq!(
            find_usb_printer(&sys, dev, 0x0483, 0x5743),
            Some(dev.join("lp0"))
        );
        assert_eq!(find_usb_printer(&sys, dev, 0x04b8, 0x0202), None);
        assert_eq!(
            find_usb_printer(&root.join("nothing"), dev, 0x04b8, 0x0e15),
            None
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_printer_that_never_takes_the_bytes_times_out() {
        // A FIFO whose reader never reads stands in for a usblp device while the printer is
        // off-line: once the pipe's buffer (64 KiB) is full, the write blocks.
        let dir = temp("fifo");
        let fifo = dir.join("lp0");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success(), "mkfifo {}", fifo.display());
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || {
            let f = std::fs::File::open(&reader_path).unwrap();
            std::thread::sleep(Duration::from_secs(1));
            drop(f);
        });
        let t = Timeouts {
            connect: Duration::from_millis(200),
            write: Duration::from_millis(300),
        };
        let e = send(&fifo, "USB test", &vec![b'x'; 1 << 20], t)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "receipt printer USB test stopped after 0 of 1048576 bytes (it took nothing for \
             0.3 s): check paper, cover and cable, then print the receipt again"
        );
        reader.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
