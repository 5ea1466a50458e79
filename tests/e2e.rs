//! End-to-end test of the real Kassa window: tauri-driver + WebKitWebDriver drive the built
//! binary in WebKitGTK. Needs a display (Xvfb), `tauri-driver` and `WebKitWebDriver`; the test
//! command (`make test`) provides all three. Run alone: `xvfb-run -a cargo test --test e2e -- --ignored`.

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// tauri-driver as a child process, stopped with SIGTERM so that it also stops its
/// WebKitWebDriver (a SIGKILL would orphan it, holding its port).
struct Driver {
    child: Child,
    port: u16,
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

fn tauri_driver_path() -> PathBuf {
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

fn start_driver() -> Driver {
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
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
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

async fn connect(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_kassa") }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("WebDriver session with the Kassa binary")
}

/// Waits until `f` returns `Some`, or fails after `secs` with `what`.
async fn wait_for<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Saves what the window shows to `target/screenshots/NAME`, for people to look at.
async fn save_screenshot(c: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = c.screenshot().await.expect("WebDriver screenshot");
    std::fs::write(dir.join(name), png).unwrap();
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: run through `make test`"]
async fn counter_screen_adds_a_line_and_prices_it() {
    let driver = start_driver();
    let c = connect(&driver).await;
    let result = async {
        // The window and its skeleton.
        assert_eq!(c.title().await.unwrap(), "Kassa");
        let charge = c.wait().for_element(Locator::Id("charge")).await.unwrap();
        assert_eq!(
            charge.prop("disabled").await.unwrap().as_deref(),
            Some("true"),
            "Charge starts disabled"
        );
        assert!(c
            .find(Locator::Id("cart-empty"))
            .await
            .unwrap()
            .is_displayed()
            .await
            .unwrap());

        // Add one line from the keyboard: name, quantity, price, Enter.
        let name = c.find(Locator::Id("f-name")).await.unwrap();
        name.send_keys("Stablestol").await.unwrap();
        let qty = c.find(Locator::Id("f-qty")).await.unwrap();
        qty.clear().await.unwrap();
        qty.send_keys("2").await.unwrap();
        let price = c.find(Locator::Id("f-price")).await.unwrap();
        price.send_keys("299,90\u{E007}").await.unwrap(); // \u{E007} is the WebDriver Enter key

        // The core prices it: 2 × 299.90 = 599.80 incl. 25 % VAT = 119.96.
        wait_for(10, "one priced line", || async {
            let rows = c.find_all(Locator::Css("#cart-lines tr")).await.ok()?;
            (rows.len() == 1).then_some(())
        })
        .await;
        let gross = text(&c, "#total-gross").await;
        assert!(
            gross.contains("599") && gross.contains("80"),
            "gross shown: {gross:?}"
        );
        let vat = text(&c, "#total-vat").await;
        assert!(
            vat.contains("119") && vat.contains("96"),
            "VAT shown: {vat:?}"
        );
        let charge = c.find(Locator::Id("charge")).await.unwrap();
        assert_eq!(
            charge.prop("disabled").await.unwrap().as_deref(),
            Some("false"),
            "Charge enabled"
        );
        save_screenshot(&c, "counter-with-line.png").await;

        // A bad price is refused next to the field and adds nothing.
        c.find(Locator::Id("f-name"))
            .await
            .unwrap()
            .send_keys("Pute")
            .await
            .unwrap();
        c.find(Locator::Id("f-price"))
            .await
            .unwrap()
            .send_keys("abc\u{E007}")
            .await
            .unwrap();
        let err = wait_for(10, "a form error", || async {
            let t = text(&c, "#form-error").await;
            (!t.is_empty()).then_some(t)
        })
        .await;
        assert!(err.contains("abc"), "error names the bad input: {err:?}");
        assert_eq!(
            c.find_all(Locator::Css("#cart-lines tr"))
                .await
                .unwrap()
                .len(),
            1
        );
    }
    .await;
    c.close().await.unwrap();
    drop(driver);
    result
}
