//! The journal's own records killed mid-way: a receipt copy and an X or Z report, `kill -9`ed
//! while its entry is written but not committed (`copy_appended`, `report_appended`) and once
//! it is committed but not yet sent or shown (`copy_recorded`, `report_committed`). After each
//! kill the journal holds the whole record or none of it, and the same command run again
//! makes it only if it is not there: one copy of a receipt at most, one Z for a day, never
//! two. (A copy is journaled before it is sent, so a copy killed after its entry is the one
//! copy, printed or not.)

use super::common::*;
use super::Running;
use std::path::Path;

/// How many entries of `kind` the journal holds.
fn count(dir: &Path, kind: &str) -> usize {
    ok_json(&cli(dir, &["journal", "list", "--json"], None))
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

/// Runs `args` until it pauses at `step`, then kills it with SIGKILL.
fn kill_at(dir: &Path, args: &[&str], step: &str) {
    let mut c = Running::start(dir, args, &[("KASSA_PAUSE_AT", step)]);
    c.wait_stderr(&format!("KASSA_PAUSED {step}"));
    c.kill9();
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn kill_9_during_a_receipt_copy_leaves_one_copy_or_none_and_never_a_second() {
    for (step, committed) in [("copy_appended", false), ("copy_recorded", true)] {
        let dir = DataDir::new(&format!("rel-copy-{step}"));
        let order = coffee_and_mug_order(&dir);
        let id = pay_demo(&dir.0, &order);
        kill_at(&dir.0, &["receipt", &id, "--copy"], step);
        assert_eq!(
            count(&dir.0, "copy"),
            usize::from(committed),
            "{step}: the copy is in the journal exactly when its transaction committed"
        );
        // The till again: the copy is made only if the killed one is not in the journal.
        let again = cli(&dir.0, &["receipt", &id, "--copy"], None);
        if committed {
            assert_refused(&again, 2, "copy_exists");
        } else {
            assert!(again.status.success(), "{step}: {}", stderr(&again));
        }
        assert_eq!(count(&dir.0, "copy"), 1, "{step}: one copy, never two");
        assert_refused(
            &cli(&dir.0, &["receipt", &id, "--copy"], None),
            2,
            "copy_exists",
        );
        println!("RELIABILITY copy killed at {step}: committed {committed}, copies 1");
    }
}

#[test]
#[ignore = "needs the OS keyring (make test): every sale is signed with the journal's key"]
fn kill_9_during_an_x_or_z_report_leaves_a_whole_report_or_none_and_never_two_zs_a_day() {
    for (step, committed) in [("report_appended", false), ("report_committed", true)] {
        let dir = DataDir::new(&format!("rel-z-{step}"));
        let order = coffee_and_mug_order(&dir);
        pay_demo(&dir.0, &order);
        // An X: killed or not, X reports reset nothing and may be made again.
        kill_at(&dir.0, &["report", "x", "--json"], step);
        assert_eq!(count(&dir.0, "x_report"), usize::from(committed), "{step}");
        let x = ok_json(&cli(&dir.0, &["report", "x", "--json"], None));
        assert_eq!(count(&dir.0, "x_report"), 1 + usize::from(committed));
        assert!(x.is_object(), "{x}");
        // The Z: whole or none, and a second one that day refused.
        kill_at(&dir.0, &["report", "z", "--json"], step);
        assert_eq!(
            count(&dir.0, "z_report"),
            usize::from(committed),
            "{step}: the Z is in the journal exactly when its transaction committed"
        );
        let again = cli(&dir.0, &["report", "z", "--json"], None);
        if committed {
            assert!(
                !again.status.success() && stderr(&again).contains("[z_report_exists]"),
                "{step}: {}",
                stderr(&again)
            );
        } else {
            assert!(again.status.success(), "{step}: {}", stderr(&again));
        }
        assert_eq!(
            count(&dir.0, "z_report"),
            1,
            "{step}: one Z for the day, never two"
        );
        println!("RELIABILITY Z killed at {step}: committed {committed}, Z reports 1");
    }
}
