//! The kill -9 harness's pause points: a step where a test may stop the process. The lowest
//! module, so the session log and the journal's records can pause too without importing
//! `checkout`.

/// A crash-test hook: when the environment variable `KASSA_PAUSE_AT` equals `step`, says
/// `KASSA_PAUSED <step>` on standard error and waits forever, so a test can `kill -9` the
/// process at exactly that point. The steps: `after_intent` (a create's intent is committed,
/// the provider not yet asked), `after_response` (the provider answered the create, its answer
/// not yet recorded), `paid_seen` (a status read says paid, nothing recorded yet), `paid_recorded`
/// (the paid status and its sales receipt entry committed, the capture at sale not yet
/// settled), and for a capture, refund or void `op_after_requested` (recorded, not
/// sent), `op_after_sent` (`sent` committed, the request not yet made), `op_after_response`
/// (the provider answered, the answer not yet recorded); for sending a link
/// `send_after_requested` (the attempt recorded, the provider not yet asked) and
/// `send_after_response` (the provider answered, the answer not yet recorded); for the
/// journal's own records
/// `copy_appended` (a receipt copy's entry written, its transaction not yet committed),
/// `copy_recorded` (committed, the copy not yet made or sent), `report_appended` (an X or Z
/// report's entry written, not yet committed) and `report_committed` (committed, not yet shown
/// or printed). It only ever waits, never changes an outcome; unset (always, outside tests) it
/// costs one environment lookup.
pub(crate) fn pause_point(step: &str) {
    if std::env::var_os("KASSA_PAUSE_AT").is_some_and(|v| v == step) {
        use std::io::Write;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "KASSA_PAUSED {step}");
        let _ = err.flush();
        drop(err);
        loop {
            std::thread::park();
        }
    }
}
