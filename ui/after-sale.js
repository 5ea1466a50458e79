// After the sale, opened from a session's detail in history: the refund form (whole sale, by
// lines with quantities, or by amount; the core's preview of the amount and VAT per rate shown
// before staff confirm), recording a refund made outside Kassa (same form, with a note), and
// the capture and void confirmations. The core parses, checks and computes everything: what is
// left of each line comes from the preview of a whole refund, each typed quantity is checked by
// a preview of that line alone (so its error stands beside it), amounts by `parse_amount`.
// This file only lays out the answers and sends what staff typed.
'use strict';
window.kassaAfterSale = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  // Typing pauses this long before the preview is asked for (each keystroke would be a call).
  const PREVIEW_DELAY_MS = 150;

  /** A field's message beside it (empty clears it); the core's own words as its tooltip. */
  function fieldMsg(input, text, detail) {
    const msg = $(`${input.id}-msg`);
    msg.textContent = text || '';
    msg.title = detail || '';
    input.classList.toggle('invalid', Boolean(text));
    input.setAttribute('aria-invalid', text ? 'true' : 'false');
  }

  /** A backend error in the dialog `p` ('rf' or 'op'): the cashier's words, the detail folded. */
  function showError(p, e) {
    $(`${p}-error`).textContent = e ? k.codeText(e) : '';
    $(`${p}-details`).hidden = !e;
    $(`${p}-detail`).textContent = e ? k.detailText(e) : '';
  }

  /** Sending: every control disabled, a static line saying what is happening (no spinner). */
  function setBusy(p, text) {
    const form = $(`${p === 'rf' ? 'refund' : 'op'}-form`);
    form.dataset.busy = text ? '1' : '';
    form.querySelectorAll('input, button').forEach((el) => {
      if (text) { el.dataset.wasDisabled = el.disabled ? '1' : ''; el.disabled = true; }
      else { el.disabled = el.dataset.wasDisabled === '1'; }
    });
    $(`${p}-progress`).textContent = text || '';
    $(`${p}-progress`).hidden = !text;
  }

  /** Keyboard of a modal form: Esc closes it (not while sending), Enter confirms; the screens'
   * own shortcuts (F1, F3, Esc …) wait until it closes. */
  function modalKeys(dialog, form, submit) {
    dialog.addEventListener('keydown', (e) => {
      e.stopPropagation();
      if (e.key === 'Escape') {
        e.preventDefault();
        if (!form.dataset.busy) dialog.close();
      } else if (e.key === 'Enter' && !e.repeat && !e.isComposing && !['BUTTON', 'SUMMARY'].includes(e.target.tagName)) {
        // A held Enter (the one that opened the form, repeating) confirms nothing.
        e.preventDefault();
        submit();
      }
    });
    // WebKit's own Esc handling (a cancel event) obeys the same rule.
    dialog.addEventListener('cancel', (e) => { if (form.dataset.busy) e.preventDefault(); });
    form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  }

  // ---- the refund form ---------------------------------------------------------------------

  // The open form: the session, whether it records a refund made elsewhere, what is left of
  // each line, the last preview and what it was for, and `done(view)` for history.
  let rf = null;

  function mode() {
    return document.querySelector('input[name="rf-by"]:checked').value;
  }

  function lineInputs() {
    return [...document.querySelectorAll('#rf-lines input')];
  }

  function showPreview(p, what) {
    rf.preview = p ? { p, what } : null;
    $('rf-total').textContent = p ? p.amount : '–';
    k.vatRows($('rf-vat'), p && p.vat_rows);
    $('rf-confirm').disabled = !p;
    $('rf-confirm-text').textContent = p
      ? t(rf.record ? 'recordConfirm' : 'refundConfirm', { amount: p.amount }) : t('refundConfirmPlain');
  }

  /** Asks for the preview of one line's typed quantity; its amount or error stands beside it.
   * Remembered per (line, text): nothing changes the sale while the form is open. */
  async function checkLine(input) {
    const index = Number(input.dataset.index);
    const quantity = input.value.trim();
    const amount = $(`rf-line-amount-${index}`);
    if (!quantity) { fieldMsg(input, ''); amount.textContent = ''; return null; }
    const key = `${index}:${quantity}`;
    if (!rf.lineChecks.has(key)) {
      const what = { by: 'lines', lines: [{ index, quantity }] };
      rf.lineChecks.set(key, ipc.refundPreview(rf.s.id, what).then((p) => ({ p }), (e) => ({ e })));
    }
    const { p, e } = await rf.lineChecks.get(key);
    if (p) {
      fieldMsg(input, '');
      amount.textContent = p.amount;
      return { index, quantity };
    }
    amount.textContent = '';
    const left = rf.left.get(index);
    let text = k.codeText(e);
    if (e.code === 'invalid_input') text = t('qtyInvalid');
    else if (e.code === 'amount_exceeds' && left) text = t('qtyTooMuch', { left });
    fieldMsg(input, text, e.message);
    return false;
  }

  /** What the form asks for now, or null (with the reason beside its field or as a hint). */
  async function whatToRefund() {
    $('rf-hint').textContent = '';
    if (mode() === 'whole') return { by: 'whole' };
    if (mode() === 'amount') {
      const input = $('rf-amount');
      const text = input.value.trim();
      fieldMsg(input, '');
      if (!text) { $('rf-hint').textContent = t('refundTypeAmount'); return null; }
      try {
        return { by: 'amount', amount: await ipc.parseAmount(text, rf.s.currency) };
      } catch (e) {
        fieldMsg(input, t('amountInvalid'), e.message);
        return null;
      }
    }
    const checked = await Promise.all(lineInputs().map(checkLine));
    if (checked.includes(false)) return null;
    const lines = checked.filter(Boolean);
    if (!lines.length) { $('rf-hint').textContent = t('refundPickLines'); return null; }
    return { by: 'lines', lines };
  }

  async function runPreview() {
    rf.timer = null;
    const seq = ++rf.seq;
    const what = await whatToRefund();
    if (!rf || seq !== rf.seq) return;
    if (!what) { showPreview(null); return; }
    try {
      const p = await ipc.refundPreview(rf.s.id, what);
      if (rf && seq === rf.seq) showPreview(p, what);
    } catch (e) {
      if (!rf || seq !== rf.seq) return;
      showPreview(null);
      if (what.by === 'amount' && ['amount_exceeds', 'invalid_input'].includes(e.code)) {
        const text = e.code === 'amount_exceeds' && rf.wholeAmount
          ? t('amountTooMuch', { left: rf.wholeAmount }) : k.codeText(e);
        fieldMsg($('rf-amount'), text, e.message);
      } else {
        showError('rf', e);
      }
    }
  }

  function schedulePreview() {
    showError('rf', null);
    clearTimeout(rf.timer);
    // Until the preview of what is typed now answers, nothing may be confirmed.
    rf.preview = null;
    $('rf-confirm').disabled = true;
    rf.timer = setTimeout(() => { rf.running = runPreview(); }, PREVIEW_DELAY_MS);
  }

  function showMode() {
    const m = mode();
    $('rf-lines-table').hidden = m !== 'lines';
    $('rf-amount-field').hidden = m !== 'amount';
    schedulePreview();
  }

  function buildLines(s) {
    const body = $('rf-lines');
    body.replaceChildren();
    const lines = (s.receipt && s.receipt.lines) || [];
    $('rf-by-lines').hidden = lines.length === 0;
    lines.forEach((l, index) => {
      const tr = k.el('tr');
      const input = k.el('input', 'qty');
      input.id = `rf-qty-${index}`;
      input.dataset.index = index;
      input.inputMode = 'decimal';
      input.setAttribute('aria-label', t('refundQtyOf', { name: l.name }));
      input.setAttribute('aria-describedby', `rf-qty-${index}-msg`);
      input.addEventListener('input', schedulePreview);
      const qty = k.el('td', 'num');
      const msg = k.el('span', 'field-msg error');
      msg.id = `rf-qty-${index}-msg`;
      qty.append(input, msg);
      const left = k.el('td', 'num muted');
      left.id = `rf-left-${index}`;
      const amount = k.el('td', 'num');
      amount.id = `rf-line-amount-${index}`;
      tr.append(k.cell(l.name), k.cell(l.quantity, 'num muted'), left, qty, amount);
      body.append(tr);
    });
  }

  /** What is left of each line: the lines of a whole refund's preview (a line with nothing
   * left is not among them; a quantity "0" is money left on a line by amount, not goods). */
  function showLeft(whole) {
    rf.left = new Map();
    if (whole) whole.lines.filter((l) => l.quantity !== '0').forEach((l) => rf.left.set(l.index, l.quantity));
    const byAmountOnly = whole && rf.left.size === 0;
    lineInputs().forEach((input) => {
      const index = Number(input.dataset.index);
      const left = rf.left.get(index);
      // Without the whole refund's preview (its error is shown) nothing is known of the lines.
      $(`rf-left-${index}`).textContent = left || (whole && !byAmountOnly ? t('nothingLeft') : '');
      input.disabled = !whole || (!left && !byAmountOnly);
    });
  }

  async function openRefund(s, record, done) {
    rf = { s, record, done, seq: 0, timer: null, running: null, preview: null, left: new Map(), lineChecks: new Map(), wholeAmount: null };
    $('rf-title').textContent = t(record ? 'recordRefundTitle' : 'refundTitle');
    $('rf-sale').textContent = [`${t('reference')} ${s.reference}`, s.amount, `${t('refunded')} ${s.refunded_amount}`].join(' · ');
    $('rf-reason-label').textContent = t(record ? 'refundNote' : 'refundReason');
    document.querySelector('input[name="rf-by"][value="whole"]').checked = true;
    buildLines(s);
    ['rf-amount', 'rf-reason'].forEach((id) => { $(id).value = ''; fieldMsg($(id), ''); });
    showError('rf', null);
    setBusy('rf', null);
    showPreview(null);
    $('rf-lines-table').hidden = true;
    $('rf-amount-field').hidden = true;
    $('refund-dialog').showModal();
    document.querySelector('input[name="rf-by"]:checked').focus();
    const mine = rf;
    try {
      const whole = await ipc.refundPreview(s.id, { by: 'whole' });
      if (rf !== mine) return;
      rf.wholeAmount = whole.amount;
      showLeft(whole);
    } catch (e) {
      if (rf !== mine) return;
      showLeft(null);
      showError('rf', e);
    }
    schedulePreview();
  }

  /** Confirms the refund on screen. Only a preview staff have seen is sent: with one still
   * coming, Enter (or the button) brings it and sends nothing. */
  async function submitRefund() {
    if (!rf || $('refund-form').dataset.busy) return;
    if (!rf.preview) {
      if (rf.timer) { clearTimeout(rf.timer); rf.running = runPreview(); }
      await rf.running;
      const bad = document.querySelector('#refund-form input.invalid');
      if (bad) bad.focus();
      return;
    }
    const note = $('rf-reason').value.trim();
    if (rf.record && !note) {
      fieldMsg($('rf-reason'), t('noteRequired'));
      $('rf-reason').focus();
      return;
    }
    const { s, record, done } = rf;
    const { what } = rf.preview;
    showError('rf', null);
    setBusy('rf', t(record ? 'recording' : 'refunding', { p: s.provider }));
    try {
      const v = await window.kassaOperators.withManager(() => (record ? ipc.recordRefund(s.id, what, note) : ipc.refundSession(s.id, what, note || null)));
      setBusy('rf', null);
      $('refund-dialog').close();
      done(v);
    } catch (e) {
      setBusy('rf', null);
      showError('rf', e);
      // A refused or failed refund is in the session's log too: history shows it.
      done(null);
    }
  }

  // ---- capture and void ----------------------------------------------------------------------

  let op = null;

  function openOp(kind, s, done) {
    op = { kind, s, done };
    const capture = kind === 'capture';
    $('op-title').textContent = t(capture ? 'captureTitle' : 'voidTitle');
    $('op-text').textContent = capture
      ? t('captureText', { amount: s.amount, captured: s.captured_amount }) : t('voidText', { amount: s.amount });
    $('op-amount-field').hidden = !capture;
    $('op-amount').value = '';
    fieldMsg($('op-amount'), '');
    $('op-confirm-text').textContent = t(capture ? 'captureConfirm' : 'voidConfirm');
    $('op-confirm').classList.toggle('danger-fill', !capture);
    showError('op', null);
    setBusy('op', null);
    $('op-dialog').showModal();
    (capture ? $('op-amount') : $('op-close')).focus();
  }

  async function submitOp() {
    if (!op || $('op-form').dataset.busy) return;
    const { kind, s, done } = op;
    const input = $('op-amount');
    let amount = null;
    if (kind === 'capture' && input.value.trim()) {
      try {
        amount = await ipc.parseAmount(input.value.trim(), s.currency);
      } catch (e) {
        fieldMsg(input, t('amountInvalid'), e.message);
        input.focus();
        return;
      }
    }
    fieldMsg(input, '');
    showError('op', null);
    setBusy('op', t(kind === 'capture' ? 'capturing' : 'voiding', { p: s.provider }));
    try {
      const v = await window.kassaOperators.withManager(() => (kind === 'capture' ? ipc.captureSession(s.id, amount) : ipc.voidSession(s.id)));
      setBusy('op', null);
      $('op-dialog').close();
      done(v);
    } catch (e) {
      setBusy('op', null);
      if (kind === 'capture' && ['amount_exceeds', 'invalid_input'].includes(e.code)) {
        fieldMsg(input, e.code === 'amount_exceeds' ? t('captureTooMuch') : t('amountInvalid'), e.message);
        input.focus();
      } else {
        showError('op', e);
      }
      done(null);
    }
  }

  function init() {
    modalKeys($('refund-dialog'), $('refund-form'), submitRefund);
    modalKeys($('op-dialog'), $('op-form'), submitOp);
    document.querySelectorAll('input[name="rf-by"]').forEach((r) => r.addEventListener('change', showMode));
    $('rf-amount').addEventListener('input', schedulePreview);
    $('rf-reason').addEventListener('input', () => fieldMsg($('rf-reason'), ''));
    $('rf-close').addEventListener('click', () => $('refund-dialog').close());
    $('op-close').addEventListener('click', () => $('op-dialog').close());
    $('refund-dialog').addEventListener('close', () => { if (rf) clearTimeout(rf.timer); rf = null; });
    $('op-dialog').addEventListener('close', () => { op = null; });
  }
  // Loaded with the History screen, after the page's start (or with the page).
  if (document.readyState === 'loading') window.addEventListener('DOMContentLoaded', init); else init();

  return {
    /** Opens the refund form for paid session `s`; `done(view)` after it (`null`: it failed,
     * the session's log changed all the same). */
    refund: (s, done) => openRefund(s, false, done),
    /** The same form for a refund made outside Kassa (a note is required). */
    recordRefund: (s, done) => openRefund(s, true, done),
    capture: (s, done) => openOp('capture', s, done),
    void: (s, done) => openOp('void', s, done),
  };
})();
