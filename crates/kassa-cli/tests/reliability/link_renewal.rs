//! A link's renewal killed mid-way: `kassa-cli renew` `kill -9`ed after the new session's intent
//! is logged (`after_intent`, Dintero not yet asked) and after Dintero created it but before its
//! answer was logged (`after_response`). A renewal is a create, so the charge harness's rules
//! hold: Dintero holds at most one session for the renewal, the expired session is never
//! reused, and a second renewal of the same link is refused (the log's unique `renews`), so a
//! crash never makes two.
//!
//! How the restarted till settles the killed renewal, in both cases `failed`: Dintero is asked by
//! merchant reference, which finds only transactions, and an unpaid session has none, so a
//! session created but never answered is one nobody was shown (this renewal sent nothing) and is
//! settled as such, as a counter sale's is. The link list shows it, and the expired link stays
//! renewed by it: staff charge the order again. (A renewal that also had Dintero publish the
//! link by SMS would leave the customer holding a link Kassa settled: not covered yet.)

use super::common::shop::*;
use super::common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Runs `kassa-cli args` until it says it paused at `step`, then kills it with SIGKILL. Its
/// standard error goes to a file in the data directory (kept for the secrets audit).
fn kill_at(shop: &Shop, args: &[&str], step: &str) {
    let said = shop.dir.0.join(format!("renew-{step}.stderr"));
    let mut p = kassa_cli(&shop.dir.0, args, &[("KASSA_PAUSE_AT", step)])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&said).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = std::fs::read_to_string(&said).unwrap_or_default();
        if text.contains(&format!("KASSA_PAUSED {step}")) {
            break;
        }
        if let Ok(Some(status)) = p.try_wait() {
            panic!("renew ended by itself ({status}) before {step}: {text}");
        }
        assert!(
            Instant::now() < deadline,
            "renew never paused at {step}: {text}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    p.kill().unwrap();
    p.wait().unwrap();
}

#[test]
#[ignore = "needs the OS keyring (make test)"]
fn kill_9_during_a_renewal_leaves_one_new_session_at_most_and_never_a_second_renewal() {
    for (step, created) in [("after_intent", false), ("after_response", true)] {
        let shop = Shop::for_provider(&format!("rel-renew-{step}"), "dintero");
        let out = shop.cli(&[
            "charge",
            "--order",
            &shop.order,
            "--link",
            "--expires-in",
            "1h",
            "--json",
        ]);
        let v = json(&out);
        let id = v["id"].as_str().unwrap().to_string();
        let psid = v["provider_session_id"].as_str().unwrap();
        shop.outcome(&format!("/dintero/sessions/{psid}"), "expire");
        assert_eq!(shop.status(&id)["status"], "expired");
        let at_dintero = || shop.dintero_state()["sessions"].as_object().unwrap().len();
        assert_eq!(at_dintero(), 1);

        kill_at(&shop, &["renew", &id, "--json"], step);

        // The killed renewal is in the log: a second one is refused, whatever its outcome.
        assert_refused(&shop.cli(&["renew", &id]), 2, "already renewed");
        // The restarted till follows every open session and settles the killed one.
        let out = shop.cli(&["follow", "--once", "--json"]);
        assert!(out.status.success(), "{step}: {}", stderr(&out));
        assert_eq!(
            at_dintero(),
            1 + usize::from(created),
            "{step}: Dintero holds one session for the renewal exactly when it was asked"
        );
        // The link list shows the one renewal, settled failed (see the module docs).
        let links: Value = serde_json::from_str(&stdout(&shop.cli(&["links", "--json"]))).unwrap();
        let renewals: Vec<&Value> = links
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["renews"] == id.as_str())
            .collect();
        assert_eq!(renewals.len(), 1, "{step}: one renewal, never two: {links}");
        assert_ne!(
            renewals[0]["id"],
            id.as_str(),
            "the expired session is never reused"
        );
        assert_eq!(renewals[0]["status"], "failed", "{step}: {links}");
        assert_eq!(
            shop.status(&id)["status"],
            "expired",
            "{step}: the old link stays expired"
        );
        assert_refused(&shop.cli(&["renew", &id]), 2, "already renewed");
        println!(
            "RELIABILITY renew killed at {step}: sessions at Dintero {}, the renewal {}",
            at_dintero(),
            renewals[0]["status"]
        );
    }
}
