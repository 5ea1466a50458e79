// The customer-facing display: the QR code, the amount and the status of the current payment,
// for a second screen turned towards the customer, and a refund once it is done (the amount
// given back). It only reads and listens; it can change nothing.
'use strict';
(() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  let current = null;

  function render(s) {
    current = s;
    $('c-amount').textContent = s ? s.amount : '';
    const qr = s && s.status === 'open' && s.qr_svg;
    $('c-qr-wrap').hidden = !qr;
    if (qr) k.showQr($('c-qr'), s.qr_svg, s.checkout_url || '');
    $('c-status').textContent = s ? k.statusText(s.status) : '';
    $('c-status').className = `c-status c-${s ? s.status : 'none'}`;
    $('c-ref').textContent = s ? `${t('reference')} ${s.reference}${s.demo ? ` · ${t('demoBadge')}` : ''}` : '';
  }

  /** A refund done at the till: "Refund" and the amount given back (formatted by the core). */
  function renderRefund(r) {
    current = { id: r.session_id, status: 'refund' };
    $('c-amount').textContent = r.amount;
    $('c-qr-wrap').hidden = true;
    $('c-status').textContent = t('customerRefund');
    $('c-status').className = 'c-status c-refund';
    $('c-ref').textContent = `${t('reference')} ${r.reference}${r.demo ? ` · ${t('demoBadge')}` : ''}`;
  }

  window.addEventListener('DOMContentLoaded', async () => {
    const st = await ipc.customerState();
    await k.setLang(k.langOf(st.locale));
    document.documentElement.lang = k.lang;
    $('c-shop').textContent = st.shop_name;
    render(st.session);
    await ipc.onSessionStatus((s) => { if (!current || s.id === current.id || s.status === 'open') render(s); });
    await ipc.onRefund(renderRefund);
  });
})();
