// The header's hub indicator: nothing without a hub; else "connected", "N waiting" or
// "unreachable since HH:MM" (with what waits), from the background sender's last round and a
// count over this till's outbox (no connection to the hub per look). Refreshed every 15 s.
'use strict';
window.kassaHub = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const REFRESH_MS = 15000;
  let last = null;

  function render() {
    const chip = k.$('hub-indicator');
    if (!last || !last.configured) { chip.hidden = true; return; }
    chip.hidden = false;
    const waiting = last.waiting > 0 ? k.t('hubWaiting', { n: last.waiting }) : '';
    let text;
    let cls = 'ok';
    if (last.connected === false) {
      text = k.t('hubUnreachable', { time: k.clock(last.unreachable_since) });
      if (waiting) text += ` · ${waiting}`;
      cls = 'down';
    } else if (last.connected === null) {
      text = waiting ? `${k.t('hubConnecting')} · ${waiting}` : k.t('hubConnecting');
      cls = 'pending';
    } else {
      text = waiting ? `${k.t('hubName')}: ${waiting}` : k.t('hubConnected');
      if (waiting) cls = 'pending';
    }
    chip.textContent = text;
    chip.className = `badge hub-chip ${cls}`;
    chip.title = last.error || '';
  }

  async function refresh() {
    try { last = await ipc.hubStatus(); } catch (_) { last = null; }
    render();
  }

  function start() {
    refresh();
    setInterval(refresh, REFRESH_MS);
  }

  return { start, refresh, refreshTexts: render };
})();
