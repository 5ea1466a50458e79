//! What the tauri-driver tests of the real window share: tauri-driver and a WebDriver session
//! with a Kassa binary, fresh data directories, the sandbox over plain HTTP, and the counter's
//! steps (a line, a QR charge, a new sale). Included with `#[path]` by `tests/e2e.rs` and
//! `benches/desktop.rs`; each uses a part of it.
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `(pid, ppid, comm)` of every process, from `/proc/*/stat`.
pub fn processes() -> Vec<(u32, u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid …"; comm may contain spaces and parentheses.
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_string();
            let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid, comm))
        })
        .collect()
}

/// `root` and all its descendants, with their names.
pub fn tree(root: u32) -> Vec<(u32, String)> {
    let all = processes();
    let mut found: Vec<(u32, String)> = all
        .iter()
        .filter(|p| p.0 == root)
        .map(|p| (p.0, p.2.clone()))
        .collect();
    let mut i = 0;
    while i < found.len() {
        let parent = found[i].0;
        found.extend(
            all.iter()
                .filter(|p| p.1 == parent)
                .map(|p| (p.0, p.2.clone())),
        );
        i += 1;
    }
    found
}

/// The WebKit web processes (the pages') below `root`.
pub fn web_processes(root: u32) -> Vec<u32> {
    tree(root)
        .into_iter()
        .filter(|(_, name)| name.starts_with("WebKitWebProces"))
        .map(|(pid, _)| pid)
        .collect()
}

/// Checks that every WebKit web process below `root` runs as `kassa_app::webkit_environment`
/// sets it up: `JSC_useJIT=0` and `GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072` in its
/// environment and, what the first does, no writable and executable mapping (the JIT's code
/// pool) in its memory.
pub fn assert_webkit_environment(root: u32) {
    let pages = web_processes(root);
    assert!(!pages.is_empty(), "no WebKit web process below {root}");
    for pid in pages {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
        for var in [
            "JSC_useJIT=0",
            "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072",
        ] {
            assert!(
                environ.split(|b| *b == 0).any(|v| v == var.as_bytes()),
                "web process {pid} has no {var} in its environment"
            );
        }
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
        let jit: Vec<&str> = maps
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("rwxp"))
            .collect();
        assert!(jit.is_empty(), "web process {pid} has JIT memory: {jit:?}");
    }
}

/// tauri-driver as a child process, stopped with SIGTERM so that it also stops its
/// WebKitWebDriver (a SIGKILL would orphan it, holding its port).
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// The process id of tauri-driver (the app runs below it, under WebKitWebDriver).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn tauri_driver_path() -> PathBuf {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return p.into();
    }
    let home_bin =
        PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo/bin/tauri-driver");
    if home_bin.exists() {
        home_bin
    } else {
        "tauri-driver".into()
    }
}

/// Where the app of the till in `data_dir` logs (its standard error, through tauri-driver):
/// under `make test` the secrets audit's `output/<data dir's name>.log`, else
/// `<data dir>/app.log`.
pub fn app_log(data_dir: &Path) -> PathBuf {
    let name = data_dir.file_name().unwrap_or_default().to_string_lossy();
    artifacts("output").map_or_else(
        || data_dir.join("app.log"),
        |d| d.join(format!("{name}.log")),
    )
}

fn start_driver(data_dir: &Path, env: &[(&str, &str)]) -> Driver {
    assert!(
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
        "the E2E test needs a display: run it through `make test` (Xvfb)"
    );
    let port = free_port();
    let native = free_port();
    let child = Command::new(tauri_driver_path())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        // The app inherits this through tauri-driver and WebKitWebDriver: each test its own till.
        .env("KASSA_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        // The app's log (trace under `make test`): to the audit's artifacts, else to the data
        // directory; not the terminal (`app_log`).
        .stderr(
            std::fs::File::create(app_log(data_dir)).map_or_else(|_| Stdio::inherit(), Stdio::from),
        )
        .spawn()
        .expect("tauri-driver must be installed (make setup installs it)");
    let driver = Driver { child, port };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "tauri-driver did not listen on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

async fn connect(
    driver: &Driver,
    app: &Path,
) -> Result<Client, fantoccini::error::NewSessionError> {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
}

/// Starts tauri-driver and a WebDriver session with the app binary `app`. Five apps starting at once on two
/// cores sometimes lose the session handshake (tauri-driver closes the connection while
/// WebKitWebDriver starts): that setup step, and only it, is tried up to three times.
pub async fn session(dir: &Path, app: &Path) -> (Driver, Client) {
    session_with(dir, app, &[]).await
}

/// Like [`session`], with `env` added to the app's environment.
pub async fn session_with(dir: &Path, app: &Path, env: &[(&str, &str)]) -> (Driver, Client) {
    let mut attempt = 1;
    loop {
        let driver = start_driver(dir, env);
        match connect(&driver, app).await {
            Ok(c) => return (driver, c),
            Err(e) if attempt < 3 => {
                eprintln!("WebDriver session attempt {attempt} failed ({e}); starting again");
                drop(driver);
                // An app that did start must not take the next launch's place.
                let _ = std::fs::remove_file(dir.join("kassa.sock"));
                attempt += 1;
            }
            Err(e) => panic!("no WebDriver session with the Kassa binary after 3 attempts: {e}"),
        }
    }
}

/// The window's picture through WebDriver, as PNG. WebKitWebDriver's screenshot waits for the
/// page to draw again; drawn without accelerated compositing (as Kassa draws,
/// `windows::webkit_environment`), a page with nothing to redraw (the customer display,
/// a counter without a blinking caret) never does, and the screenshot waited for ever (seen in
/// the refund and quick-key E2E tests). So the page redraws every 50 ms for two seconds first,
/// invisibly (an opacity of 0.999 gives the same pixels).
pub async fn screenshot(c: &Client) -> Vec<u8> {
    c.execute(
        "const b = document.body; let n = 0; const t = setInterval(() => { \
         b.style.opacity = n % 2 ? '' : '0.999'; \
         if (++n > 40) { clearInterval(t); b.style.opacity = ''; } }, 50);",
        vec![],
    )
    .await
    .expect("the page repaints for the screenshot");
    c.screenshot().await.expect("WebDriver screenshot")
}

/// Waits until `f` returns `Some`, or fails after `secs` with `what`.
pub async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if Instant::now() >= deadline {
            // What the display showed when the wait gave up, for whoever reads the failure.
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
            let _ = std::fs::create_dir_all(&dir);
            let shot = dir.join("failed-wait.png");
            let _ = std::process::Command::new("import")
                .args(["-window", "root"])
                .arg(&shot)
                .status();
            panic!(
                "timed out waiting for {what} (the display then: {})",
                shot.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A fresh data directory for one app run.
pub struct Till {
    pub dir: PathBuf,
}

impl Till {
    pub fn new(name: &str) -> Till {
        // Under `make test`, kept in the secrets audit's artifacts; else a temporary directory.
        let base = artifacts("data").unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("kassa-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Till { dir }
    }
}

impl Drop for Till {
    fn drop(&mut self) {
        // The journal key the app created for this till is what the secrets audit looks for too.
        kassa_sandbox::ledger_journal_keys(&self.dir);
        if std::env::var_os("KASSA_TEST_ARTIFACTS").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Where `make test` keeps data directories and output for the secrets audit.
pub use kassa_sandbox::test_artifacts as artifacts;

/// A minimal HTTP/1.1 client for the sandbox (loopback, plain HTTP): (status, body).
pub fn http(method: &str, url: &str, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("a loopback http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(authority).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out[9..12].parse().unwrap();
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The sandbox's origin and the provider session id, from a demo checkout URL
/// (`http://127.0.0.1:PORT/dintero/v1/view/ID`).
pub fn sandbox_of(checkout_url: &str) -> (String, String) {
    let (origin, id) = checkout_url
        .split_once("/dintero/v1/view/")
        .unwrap_or_else(|| panic!("a demo checkout URL: {checkout_url}"));
    (origin.to_string(), id.to_string())
}

pub async fn click(c: &Client, css: &str) {
    let e = c.find(Locator::Css(css)).await.unwrap();
    // In the middle of its scrolling pane first: WebDriver scrolls an element only to the pane's
    // edge, where a long settings page leaves it half under the pane's border.
    c.execute(
        "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})",
        vec![serde_json::to_value(&e).unwrap()],
    )
    .await
    .unwrap();
    e.click().await.unwrap();
}

pub async fn visible(c: &Client, css: &str) -> bool {
    match c.find(Locator::Css(css)).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

pub async fn wait_visible(c: &Client, secs: u64, css: &str) {
    wait_for(secs, css, || async { visible(c, css).await.then_some(()) }).await;
}

pub async fn value(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Types a line into the counter form and presses Enter.
pub async fn add_line(c: &Client, name: &str, qty: &str, price: &str, vat: &str, discount: &str) {
    let before = c
        .find_all(Locator::Css("#cart-lines tr"))
        .await
        .unwrap()
        .len();
    let f = |id: &'static str| async move { c.find(Locator::Id(id)).await.unwrap() };
    f("f-name").await.send_keys(name).await.unwrap();
    let q = f("f-qty").await;
    q.clear().await.unwrap();
    q.send_keys(qty).await.unwrap();
    f("f-vat").await.select_by_value(vat).await.unwrap();
    if !discount.is_empty() {
        f("f-disc").await.send_keys(discount).await.unwrap();
    }
    f("f-price")
        .await
        .send_keys(&format!("{price}\u{E007}"))
        .await
        .unwrap();
    wait_for(10, "the line in the cart", || async {
        let n = c.find_all(Locator::Css("#cart-lines tr")).await.ok()?.len();
        (n == before + 1).then_some(())
    })
    .await;
}

/// Opens the charge dialog (F9) and waits for its choices.
pub async fn open_charge_dialog(c: &Client) {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("\u{E039}") // F9
        .await
        .unwrap();
    wait_visible(c, 10, "#choose").await;
}

/// Opens the charge dialog (F9), picks the presentation and starts the payment.
pub async fn charge(c: &Client, presentation: &str) {
    open_charge_dialog(c).await;
    click(
        c,
        &format!("input[name=presentation][value={presentation}]"),
    )
    .await;
    click(c, "#start-charge").await;
}

/// Charges with a QR code and returns the checkout URL once the QR is on screen.
pub async fn charge_qr(c: &Client) -> String {
    charge(c, "qr").await;
    qr_on_screen(c).await
}

/// Waits for the QR code of the charge just started; returns the checkout URL.
pub async fn qr_on_screen(c: &Client) -> String {
    wait_visible(c, 10, "#qr").await;
    // The core's SVG, inline (not an <img>: WebKit would keep each one's data URL).
    let svg = c.find(Locator::Css("#qr > svg")).await;
    let view_box = match svg {
        Ok(svg) => svg.attr("viewBox").await.unwrap(),
        Err(e) => panic!("the QR is not the core's SVG inline in #qr: {e}"),
    };
    assert!(view_box.is_some(), "the QR's SVG has the core's viewBox");
    let url = value(c, "#link-text").await;
    assert!(url.starts_with("http://127.0.0.1:"), "copy-link URL: {url}");
    url
}

/// "New sale" on the receipt, then waits for the empty cart.
pub async fn new_sale(c: &Client) {
    click(c, "#paid-new-sale").await;
    wait_for(10, "an empty cart for the next sale", || async {
        let n = c.find_all(Locator::Css("#cart-lines tr")).await.ok()?.len();
        (n == 0).then_some(())
    })
    .await;
}

/// Presses `key` (a WebDriver key code such as F3 `"\u{E033}"`) on the page.
pub async fn press(c: &Client, key: &str) {
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
}

/// Replaces what the input `css` holds with `text` (typed, as staff would).
pub async fn type_into(c: &Client, css: &str, text: &str) {
    let input = c.find(Locator::Css(css)).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(text).await.unwrap();
}

/// Waits until the element `css` shows text for which `ok` holds; returns that text.
pub async fn wait_text(c: &Client, secs: u64, css: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_for(secs, css, || async {
        let t = c.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
        ok(&t).then_some(t)
    })
    .await
}
