//! Network receipt printers: the raw port (9100), one connection per receipt.
//!
//! The printer prints what arrives and closes nothing itself, so Kassa connects (with a
//! timeout per address: a printer that is off answers nothing, and the OS would wait minutes),
//! writes everything with a write timeout, and shuts its side down, which tells the printer the
//! job is complete.

use super::{seconds, PrintError, Timeouts};
use std::io::Write;
use std::net::{Shutdown, TcpStream, ToSocketAddrs};

pub(super) fn send(
    host: &str,
    port: u16,
    printer: &str,
    bytes: &[u8],
    t: Timeouts,
) -> Result<(), PrintError> {
    let unreachable = |cause: String| PrintError::Unreachable {
        printer: printer.to_string(),
        cause,
    };
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = None;
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, t.connect) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let mut stream = stream.ok_or_else(|| match last {
        Some(e) => unreachable(connect_cause(&e, t)),
        None => unreachable(format!("{host} has no address")),
    })?;
    stream
        .set_write_timeout(Some(t.write))
        .map_err(|e| unreachable(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    let mut sent = 0;
    while sent < bytes.len() {
        match stream.write(&bytes[sent..]) {
            Ok(0) => {
                return Err(interrupted(
                    printer,
                    sent,
                    bytes.len(),
                    "the printer closed the connection".into(),
                ))
            }
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let cause = if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) {
                    format!("it took nothing for {}", seconds(t.write))
                } else {
                    e.to_string()
                };
                return Err(interrupted(printer, sent, bytes.len(), cause));
            }
        }
    }
    stream
        .flush()
        .and_then(|()| stream.shutdown(Shutdown::Write))
        .map_err(|e| interrupted(printer, sent, bytes.len(), e.to_string()))
}

fn interrupted(printer: &str, sent: usize, total: usize, cause: String) -> PrintError {
    PrintError::Interrupted {
        printer: printer.to_string(),
        sent,
        total,
        cause,
    }
}

/// The connect error in words a cashier can act on ("connection refused" is the OS's own).
fn connect_cause(e: &std::io::Error, t: Timeouts) -> String {
    match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            format!("no answer within {}", seconds(t.connect))
        }
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => e.to_string(),
    }
}
