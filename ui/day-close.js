// Closing the day: X and Z reports and the SAF-T export. The report's printout is the lines the
// core laid out (the receipt model's X/Z document), shown as they are: no layout or arithmetic
// here. At start, a reminder when a day with sales has no Z, with a button that makes it. With a
// shop hub, a Whole shop X beside the till's (read from the hub, per register and the total).
'use strict';
window.kassaDayClose = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const state = { started: false, missing: null };

  function message(text, ok) {
    $('dc-message').textContent = text;
    $('dc-message').classList.toggle('ok', !!ok);
  }

  function failed(e) {
    message(`${k.errorText(e)} ${e.message || ''}`.trim(), false);
  }

  async function report(z) {
    try {
      const r = await ipc.makeReport(z);
      $('dc-printout').textContent = r.lines.join('\n');
      $('dc-printout').hidden = false;
      message(t(z ? 'zMade' : 'xMade', { n: r.report.number }), true);
      if (z) hideReminder();
    } catch (e) {
      failed(e);
    }
  }

  /** The Whole shop X from the hub: a reading (not journaled); registers that may be behind
   * are named, and the printout says up to where each is covered. */
  async function shopReport() {
    try {
      const r = await ipc.shopReport();
      $('dc-printout').textContent = r.lines.join('\n');
      $('dc-printout').hidden = false;
      message(r.behind.length ? t('shopXBehind', { r: r.behind.join(', ') }) : t('shopXMade'), !r.behind.length);
    } catch (e) {
      message(k.errorText(e), false);
    }
  }

  async function exportSaft(e) {
    e.preventDefault();
    try {
      const r = await ipc.exportSaft($('dc-from').value, $('dc-to').value);
      message(t('saftDone', { n: r.transactions, path: r.path }), true);
    } catch (err) {
      failed(err);
    }
  }

  function hideReminder() {
    state.missing = null;
    $('z-reminder').hidden = true;
  }

  function showReminder() {
    if (!state.missing) return;
    $('z-reminder-text').textContent = t('zMissing', { day: state.missing });
    $('z-reminder').hidden = false;
  }

  function init() {
    state.started = true;
    const today = new Date().toLocaleDateString('sv-SE');
    $('dc-from').value = `${today.slice(0, 4)}-01-01`;
    $('dc-to').value = today;
    $('dc-x').addEventListener('click', () => report(false));
    $('dc-z').addEventListener('click', () => report(true));
    $('dc-saft').addEventListener('submit', exportSaft);
    $('dc-shop-x').addEventListener('click', shopReport);
  }

  return {
    show() {
      if (!state.started) init();
      // Whole shop X beside the till's own, with a shop hub; the Z stays this register's.
      ipc.hubStatus().then((h) => { $('dc-shop-x').hidden = h.configured !== true; }, () => {});
    },
    relabel() { showReminder(); },
    /** At start: ask the core for a day with sales and no Z; offer to make it (`open` shows
     *  this screen). */
    remind(open) {
      $('z-reminder-make').addEventListener('click', () => { open(); report(true); });
      ipc.dayWithoutZ().then((day) => { state.missing = day; showReminder(); }, () => {});
    },
  };
})();
