// The UI's one door to the backend. Every call goes through `call`, which returns the command's
// result or throws the backend's `{code, message, session_id?, problems?}` error unchanged.
// The shapes of what these calls return are pinned in `wire-shapes.json` (a Rust test fails
// when a backend type changes without it).
'use strict';
window.kassaIpc = (() => {
  // Tauri's core IPC (`__TAURI_INTERNALS__`), not its global JavaScript API: without
  // `withGlobalTauri` no page (the provider's checkout windows included) gets the API's 41 KB
  // script run into it (an E2E test checks the checkout window).
  const tauri = () => window.__TAURI_INTERNALS__;
  function rawInvoke(cmd, args) {
    if (tauri()) return tauri().invoke(cmd, args);
    return Promise.reject({ code: 'no_backend', message: 'Kassa’s backend is not available.' });
  }
  async function call(cmd, args) {
    try {
      return await rawInvoke(cmd, args);
    } catch (e) {
      if (e && typeof e === 'object' && 'code' in e) throw e;
      throw { code: 'ipc', message: String(e) };
    }
  }
  /** Calls `handler(payload)` for each `event` the app emits to this window, as the global API's
   * `event.listen` does (Tauri's event plugin); resolves to the function that stops listening. */
  function listen(event, handler) {
    const t = tauri();
    if (!t) return Promise.resolve(() => {});
    const callback = t.transformCallback((e) => handler(e.payload));
    return t.invoke('plugin:event|listen', { event, target: { kind: 'Any' }, handler: callback })
      .then((id) => async () => {
        if (window.__TAURI_EVENT_PLUGIN_INTERNALS__) window.__TAURI_EVENT_PLUGIN_INTERNALS__.unregisterListener(event, id);
        await t.invoke('plugin:event|unlisten', { event, eventId: id });
      });
  }
  /** Calls `handler(payload)` for each session status change (SessionView). */
  const onSessionStatus = (handler) => listen('session-status', handler);
  /** Calls `handler(payload)` when a refund is done (the customer display only gets it). */
  const onRefund = (handler) => listen('refund-done', handler);
  /** Calls `handler()` when the shop hub's sender brought a changed product list. */
  const onProductsChanged = (handler) => listen('products-changed', () => handler());
  return {
    appInfo: () => call('app_info'),
    entryToLine: (entry) => call('entry_to_line', { entry }),
    parseAmount: (text, currency) => call('parse_amount', { text, currency }),
    quoteCart: (cart) => call('quote_cart', { cart }),
    newReference: () => call('new_reference'),
    // `link` null: a counter sale; else {lifetime: '1h'|'24h'|'7d'|{through: 'YYYY-MM-DD'}, phone?, email?}.
    charge: (cart, provider, presentation, link) => call('charge', { cart, provider, presentation, link: link || null }),
    session: (id) => call('session', { id }),
    refreshSession: (id) => call('refresh_session', { id }),
    cancelSession: (id) => call('cancel_session', { id }),
    reviewSession: (id, verdict) => call('review_session', { id, verdict }),
    // Link sales: the Links screen, Resend (`to`: {phone?, email?}, empty: the kept contact),
    // Renew (a new session for the order), the QR saved as PNG and SVG, the slip printed.
    links: () => call('links'),
    resendLink: (id, to) => call('resend_link', { id, to: to || {} }),
    renewLink: (id, lifetime) => call('renew_link', { id, lifetime: lifetime || null }),
    saveLinkQr: (id) => call('save_link_qr', { id }),
    printLinkSlip: (id) => call('print_link_slip', { id }),
    // After the sale. `what` is {by: 'whole'}, {by: 'amount', amount: MINOR} or
    // {by: 'lines', lines: [{index, quantity}]}; `amount` null captures all that is left.
    captureSession: (id, amount) => call('capture_session', { id, amount }),
    refundSession: (id, what, reason) => call('refund_session', { id, what, reason }),
    voidSession: (id) => call('void_session', { id }),
    recordRefund: (id, what, note) => call('record_refund', { id, what, note }),
    refundPreview: (id, what) => call('refund_preview', { id, what }),
    // A sale's receipt (or a return's: `operation` the refund's or void's id) as the journal
    // holds it; printing or saving it again needs `copy` (journaled, KOPI, one per receipt).
    receipt: (id, operation) => call('receipt', { id, operation: operation || null }),
    printReceipt: (id, operation, copy) => call('print_receipt', { id, operation: operation || null, copy: !!copy }),
    saveReceiptPdf: (id, operation, copy) => call('save_receipt_pdf', { id, operation: operation || null, copy: !!copy }),
    // Operators: who is at the till, logging in (or switching), out, a manager's PIN on the spot.
    operatorsState: () => call('operators_state', {}),
    login: (id, pin) => call('login', { id, pin }),
    logout: () => call('logout', {}),
    approve: (id, pin) => call('approve', { id, pin }),
    // Adding (the PIN typed twice) and removing operators: a manager's, journaled.
    addOperator: (name, role, pin, pinAgain) => call('add_operator', { name, role, pin, pinAgain }),
    removeOperator: (id) => call('remove_operator', { id }),
    // The header's hub indicator (configured, connected, waiting, unreachable_since).
    hubStatus: () => call('hub_status', {}),
    // The History screen's Whole shop: every till's newest `limit` sales from the shop's hub.
    shopHistory: (limit) => call('shop_history', { limit }),
    history: (query) => call('history', { query }),
    exportCsv: (query) => call('export_csv', { query }),
    // Closing the day: `z` false makes an X report; dates are YYYY-MM-DD (the till's local).
    makeReport: (z) => call('make_report', { z }),
    // Day close's Whole shop X from the shop's hub (read, journaled nowhere).
    shopReport: () => call('shop_report', {}),
    dayWithoutZ: () => call('day_without_z'),
    exportSaft: (from, to) => call('export_saft', { from, to }),
    settingsView: () => call('settings_view'),
    setSetting: (key, value) => call('set_setting', { key, value }),
    setCredential: (provider, field, value) => call('set_credential', { provider, field, value }),
    testConnection: (provider) => call('test_connection', { provider }),
    saveProduct: (entry) => call('save_product', { entry }),
    removeProduct: (sku) => call('remove_product', { sku }),
    openCustomerDisplay: () => call('open_customer_display'),
    customerState: () => call('customer_state'),
    // A fresh web process for this page (the page's quiet moment, app.js); the page goes with it.
    renewPage: () => call('renew_page'),
    // `marks`: the start's [name, ms] timing marks, printed on the READY line for the bench.
    ready: (marks) => call('ready', { marks: marks || [] }),
    onSessionStatus,
    onRefund,
    onProductsChanged,
  };
})();
