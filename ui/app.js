// The counter screen and the charge flow. It keeps the cart as the core returned it and renders
// the core's views; it does no arithmetic and formats no amounts itself.
'use strict';
(() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const state = {
    lines: [], discount: 0, editing: null, view: null, reference: null,
    // The charge flow: null | 'choose' | 'starting' | 'waiting' | 'paid' | 'ended'
    phase: null, session: null, cancelArmed: false,
  };

  function cart() {
    return {
      currency: k.info.currency,
      prices_include_vat: k.info.prices_include_vat,
      reference: state.reference,
      discount: state.discount,
      lines: state.lines,
    };
  }

  function render() {
    const v = state.view;
    const body = $('cart-lines');
    body.replaceChildren();
    (v ? v.lines : []).forEach((line, i) => {
      const tr = k.el('tr');
      tr.tabIndex = 0;
      tr.dataset.index = String(i);
      const name = line.sku ? `${line.name} · ${line.sku}` : line.name;
      tr.append(k.cell(name), k.cell(line.quantity, 'num'), k.cell(line.unit_price, 'num'),
        k.cell(line.discount, 'num'), k.cell(`${line.vat_rate} %`, 'num'), k.cell(line.gross, 'num strong'));
      const actions = k.el('td', 'actions');
      const edit = k.el('button', 'ghost small', '✎');
      edit.type = 'button'; edit.title = t('edit'); edit.setAttribute('aria-label', `${t('edit')} ${line.name}`);
      edit.addEventListener('click', () => editLine(i));
      const remove = k.el('button', 'ghost small danger', '✕');
      remove.type = 'button'; remove.title = t('remove');
      remove.setAttribute('aria-label', `${t('remove')} ${line.name}`);
      remove.addEventListener('click', () => removeLine(i));
      actions.append(edit, remove);
      tr.append(actions);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Delete') removeLine(i); });
      body.append(tr);
    });
    $('cart-empty').hidden = state.lines.length > 0;
    k.vatRows($('vat-rows'), v && v.vat_rows);
    k.set($('total-net'), 'textContent', v ? v.net : '–');
    k.set($('total-vat'), 'textContent', v ? v.vat : '–');
    k.set($('total-gross'), 'textContent', v ? v.gross : '–');
    k.set($('cart-problems'), 'textContent', v ? v.problems.map((p) => p.reason).join('\n') : '');
    $('charge').disabled = !(v && v.chargeable) || !k.info || Boolean(k.info.settings_error);
  }

  async function refresh() {
    try {
      state.view = await ipc.quoteCart(cart());
    } catch (e) {
      state.view = null;
      $('cart-problems').textContent = k.errorText(e);
    }
    render();
  }

  function showFormError(e) {
    const problems = e.problems || [];
    document.querySelectorAll('.line-form .invalid').forEach((el) => el.classList.remove('invalid'));
    const ids = { name: 'f-name', quantity: 'f-qty', unit_price: 'f-price', vat_rate: 'f-vat', discount: 'f-disc' };
    const labels = { name: 'item', quantity: 'quantity', unit_price: 'unitPrice', vat_rate: 'vatRate', discount: 'discount' };
    problems.forEach((p) => { const el = $(ids[p.path]); if (el) el.classList.add('invalid'); });
    $('form-error').textContent = problems.length
      ? problems.map((p) => `${t(labels[p.path] || p.path)}: ${p.reason}`).join(' · ')
      : k.errorText(e);
    const first = problems.length && $(ids[problems[0].path]);
    if (first) first.focus();
  }

  function resetForm() {
    $('line-form').reset();
    $('f-qty').value = '1';
    if (k.info) $('f-vat').value = k.info.default_vat_rate;
    $('form-error').textContent = '';
    document.querySelectorAll('.line-form .invalid').forEach((el) => el.classList.remove('invalid'));
    state.editing = null;
    $('add-line').textContent = t('addLine');
    $('f-name').focus();
  }

  /** The favourite products as buttons: a click, or its digit key (1–9, 0 for the tenth) when
   * the focus is not in a text field, adds one of it. Scanning and typing stay as they are. */
  function renderQuickKeys() {
    const box = $('quick-keys');
    const keys = (k.info && k.info.quick_keys) || [];
    box.replaceChildren(...keys.map((p, i) => {
      const b = k.el('button', 'quick-key');
      b.type = 'button';
      b.dataset.sku = p.sku;
      const digit = i < 10 ? String((i + 1) % 10) : '';
      if (digit) b.append(k.el('kbd', null, digit));
      b.append(k.el('span', 'qk-name', p.name), k.el('span', 'qk-price', p.unit_price));
      b.setAttribute('aria-label', `${p.name} ${p.unit_price}${digit ? ` (${digit})` : ''}`);
      b.addEventListener('click', () => addQuick(p.sku));
      return b;
    }));
    box.hidden = keys.length === 0;
  }

  async function addQuick(sku) {
    await infoReady;
    try {
      // The same key again counts up the line it just added (two coffees, one line).
      const last = state.lines[state.lines.length - 1];
      if (last && last.sku === sku && !last.discount && /^[0-9]+$/.test(last.quantity)) {
        last.quantity = String(Number(last.quantity) + 1);
      } else {
        state.lines.push(await ipc.entryToLine({ sku: '', name: sku, quantity: '1', unit_price: '', vat_rate: '', discount: '' }));
      }
      await refresh();
    } catch (e) {
      showFormError(e);
    }
  }

  /** A digit pressed outside a text field is a quick key. */
  function quickDigit(e) {
    if (!/^[0-9]$/.test(e.key) || e.ctrlKey || e.altKey || e.metaKey) return false;
    const el = document.activeElement;
    if (el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable)) return false;
    if (document.querySelector('dialog[open]') || !$('checkout').hidden || $('view-counter').hidden) return false;
    const keys = (k.info && k.info.quick_keys) || [];
    const i = e.key === '0' ? 9 : Number(e.key) - 1;
    if (!keys[i]) return false;
    e.preventDefault();
    addQuick(keys[i].sku);
    return true;
  }

  async function submitLine(ev) {
    ev.preventDefault();
    await infoReady; // a line typed before the shop's settings arrived waits for them
    const entry = {
      sku: '', name: $('f-name').value, quantity: $('f-qty').value,
      unit_price: $('f-price').value, vat_rate: $('f-vat').value, discount: $('f-disc').value,
    };
    try {
      const line = await ipc.entryToLine(entry);
      if (state.editing !== null) state.lines[state.editing] = line; else state.lines.push(line);
      resetForm();
      await refresh();
    } catch (e) {
      showFormError(e);
    }
  }

  function editLine(i) {
    const line = state.lines[i];
    const view = state.view && state.view.lines[i];
    state.editing = i;
    $('f-name').value = line.name;
    $('f-qty').value = line.quantity;
    $('f-price').value = view ? view.unit_price_input : '';
    $('f-vat').value = line.vat_rate;
    $('f-disc').value = line.discount && view ? view.line_discount_input : '';
    $('add-line').textContent = t('edit');
    $('f-name').focus();
  }

  async function removeLine(i) {
    state.lines.splice(i, 1);
    if (state.editing === i) resetForm();
    await refresh();
    $('f-name').focus();
  }

  async function setOrderDiscount() {
    await infoReady;
    const text = $('order-discount').value.trim();
    $('order-discount').classList.remove('invalid');
    try {
      state.discount = text ? await ipc.parseAmount(text, k.info.currency) : 0;
    } catch (e) {
      $('order-discount').classList.add('invalid');
      $('cart-problems').textContent = `${t('orderDiscount')}: ${(e.problems && e.problems[0] && e.problems[0].reason) || e.message}`;
      return;
    }
    await refresh();
  }

  async function newSale() {
    await infoReady;
    state.lines = [];
    state.discount = 0;
    state.reference = await ipc.newReference();
    state.session = null;
    $('order-discount').value = '';
    $('charge-note').textContent = '';
    $('sale-banner').hidden = true;
    closeCheckout();
    resetForm();
    await refresh();
  }

  // ---- the charge flow ------------------------------------------------------------------

  function show(part) {
    ['choose', 'waiting', 'paid', 'failed'].forEach((p) => { $(p).hidden = p !== part; });
  }

  function closeCheckout() {
    state.phase = null;
    $('checkout').hidden = true;
    // The sale's QR goes with it.
    k.clearQr($('qr'));
  }

  function openChooser() {
    if ($('charge').disabled || state.phase) return;
    const box = $('provider-choices');
    box.replaceChildren();
    const choices = k.info.providers.length ? k.info.providers : [{ name: 'demo', demo: true, default: true, profile: 'test' }];
    const preferred = choices.find((c) => c.default) || choices[0];
    choices.forEach((c) => {
      const label = k.el('label', 'choice');
      const input = k.el('input');
      input.type = 'radio'; input.name = 'provider'; input.value = c.name;
      input.checked = c === preferred;
      const text = c.demo ? `${c.name} (${t('demoBadge')})` : `${c.name}${c.profile === 'test' ? ' · test' : ''}`;
      label.append(input, k.el('span', null, text));
      box.append(label);
    });
    resetLinkOptions();
    state.phase = 'choose';
    $('sale-banner').hidden = true;
    $('checkout-title').textContent = t('chargeTitle');
    $('checkout-amount').textContent = state.view.gross;
    show('choose');
    $('checkout').hidden = false;
    $('start-charge').focus();
  }

  // ---- the link option: a link the customer pays later, sent by the provider or shared ----

  const LINK_FIELDS = { phone: 'link-phone', email: 'link-email', until: 'link-until' };

  function isLinkSale() {
    return document.querySelector('input[name=sale]:checked').value === 'link';
  }

  function clearLinkMessages() {
    Object.values(LINK_FIELDS).forEach((id) => { $(id).classList.remove('invalid'); $(`${id}-msg`).textContent = ''; $(`${id}-msg`).title = ''; });
  }

  function resetLinkOptions() {
    document.querySelector('input[name=sale][value=counter]').checked = true;
    document.querySelector('input[name=lifetime][value="24h"]').checked = true;
    $('link-phone').value = '';
    $('link-email').value = '';
    $('link-until').value = '';
    clearLinkMessages();
    saleKindChanged();
  }

  function saleKindChanged() {
    const link = isLinkSale();
    $('link-options').hidden = !link;
    $('presentation-choice').hidden = link;
    $('link-until-field').hidden = !(link && document.querySelector('input[name=lifetime]:checked').value === 'until');
  }

  /** A field problem beside its field, in the cashier's words (the core's reason as its title). */
  function linkFieldError(field, reason) {
    const id = LINK_FIELDS[field];
    const words = { phone: 'badPhone', email: 'badEmail', until: 'untilMissing' }[field];
    const both = field === 'email' && $('link-phone').value.trim() && $('link-email').value.trim();
    $(id).classList.add('invalid');
    $(`${id}-msg`).textContent = t(both ? 'oneContact' : words);
    $(`${id}-msg`).title = reason || '';
    $(id).focus();
  }

  /** The link option as the backend takes it, or null after showing what is missing. */
  function linkRequest() {
    const life = document.querySelector('input[name=lifetime]:checked').value;
    let lifetime = life;
    if (life === 'until') {
      const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec($('link-until').value);
      if (!m) { linkFieldError('until'); return null; }
      // The last day to pay as a date: the core ends it at the till's next local midnight.
      lifetime = { through: m[0] };
    }
    return { lifetime, phone: $('link-phone').value.trim() || null, email: $('link-email').value.trim() || null };
  }

  async function startCharge(ev) {
    if (ev) ev.preventDefault();
    if (state.phase !== 'choose') return; // a repeated Enter/click starts nothing more
    clearLinkMessages();
    const link = isLinkSale() ? linkRequest() : null;
    if (isLinkSale() && !link) return;
    state.phase = 'starting';
    quiet.sales += 1;
    const provider = document.querySelector('input[name=provider]:checked').value;
    const presentation = link ? 'qr' : document.querySelector('input[name=presentation]:checked').value;
    state.presentation = presentation;
    $('start-charge').disabled = true;
    $('checkout-title').textContent = t('starting');
    try {
      showSession(await ipc.charge(cart(), provider, presentation, link));
    } catch (e) {
      const field = (e.problems || []).find((p) => LINK_FIELDS[p.path]);
      if (field) {
        // Nothing was created: the dialog stays, the field says what is wrong.
        state.phase = 'choose';
        $('checkout-title').textContent = t('chargeTitle');
        linkFieldError(field.path, field.reason);
      } else {
        showError(e);
      }
    } finally {
      $('start-charge').disabled = false;
    }
  }

  /** The link sale's part of the waiting view: the real expiry, the delivery, QR and slip. */
  function showLinkInfo(s) {
    const link = s.sale === 'link';
    $('link-info').hidden = !link;
    if (!link) return;
    $('link-expires').textContent = t('linkExpires', { t: k.time(s.expires_at) });
    const clamped = s.requested_expires_at && s.expires_at && Date.parse(s.expires_at) < Date.parse(s.requested_expires_at);
    $('link-clamped').hidden = !clamped;
    if (clamped) $('link-clamped').textContent = t('linkClamped', { p: k.providerLabel(s), t: k.time(s.requested_expires_at) });
    if (s.sent) {
      const c = t(`channel.${s.sent.channel}`);
      $('link-sent').textContent = s.sent.error ? t(s.sent.status === 'unknown' ? 'sentUnknown' : 'sentFailed', { c, to: s.sent.to }) : t('sentOk', { c, to: s.sent.to, s: s.sent.status });
      $('link-sent').className = s.sent.error ? 'form-error' : 'note';
      $('link-sent').title = s.sent.error || '';
    } else {
      $('link-sent').textContent = t('notSent');
      $('link-sent').className = 'note';
    }
  }

  async function saveQr() {
    try {
      const saved = await ipc.saveLinkQr(state.session.id);
      $('link-msg').textContent = t('qrSaved', { png: saved.png, svg: saved.svg });
    } catch (e) {
      $('link-msg').textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  async function printSlip() {
    try {
      await ipc.printLinkSlip(state.session.id);
      $('link-msg').textContent = t('slipPrinted');
    } catch (e) {
      $('link-msg').textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  function showSession(s) {
    if (state.session && state.session.id !== s.id) return; // an old session's late event
    // A later event carries no `sent`: keep what the charge said about the delivery.
    if (!s.sent && state.session && state.session.sent) s.sent = state.session.sent;
    state.session = s;
    if (s.status === 'paid') return showPaid(s);
    if (s.is_final || s.status === 'needs_review' || s.status === 'unknown') {
      return showEnded(s);
    }
    state.phase = 'waiting';
    $('checkout-title').textContent = t('payTitle');
    $('checkout-amount').textContent = s.amount;
    const qr = state.presentation === 'qr' && s.qr_svg;
    $('qr-wrap').hidden = !qr;
    if (qr) k.showQr($('qr'), s.qr_svg, s.checkout_url || '');
    $('webview-note').hidden = state.presentation !== 'webview';
    $('checkout-ref').textContent = `${t('reference')} ${s.reference} · ${k.providerLabel(s)}`;
    $('checkout-status').textContent = t(`status.${s.status}`);
    $('poll-error').textContent = s.poll_error
      ? t('pollRetry', { p: s.provider, m: k.errorText(s.poll_error) }) : '';
    $('link-text').value = s.checkout_url || '';
    $('cancel-payment').hidden = !s.can_cancel;
    $('cancel-payment').textContent = t('cancelPayment');
    $('customer-paid').hidden = !s.can_claim;
    state.cancelArmed = false;
    showLinkInfo(s);
    show('waiting');
    $('checkout').hidden = false;
    if (s.sale === 'link' && state.phase === 'waiting' && !$('link-info').contains(document.activeElement)) $('link-done').focus();
  }

  function showPaid(s) {
    state.phase = 'paid';
    $('checkout-title').textContent = t('paidTitle');
    $('checkout-amount').textContent = s.amount;
    const r = s.receipt;
    $('receipt-total').textContent = r ? r.gross : s.amount;
    const staff = s.confirmed_by === 'staff' ? ` · ${t('confirmedByStaff')}` : '';
    $('receipt-meta').textContent = `${k.providerLabel(s)} · ${t('reference')} ${s.reference} · ${k.time(s.updated_at)}${staff}`;
    show('paid');
    $('checkout').hidden = false;
    $('paid-new-sale').focus();
    // The receipt as the journal holds it (its number, the operator), with Print and PDF;
    // drawn once per sale (later status events of the same sale leave it, and its buttons' state).
    if ($('paid-receipt').dataset.session !== s.id) {
      $('paid-receipt').dataset.session = s.id;
      k.screen('receipt').then(() => window.kassaReceipt.render($('paid-receipt'), s.id, null, 'paid'))
        .catch(screenFailed($('paid-receipt')));
    }
  }

  async function showEnded(s) {
    state.phase = 'ended';
    $('checkout-title').textContent = t(s.can_review ? 'reviewTitle' : 'endedTitle');
    $('failed-message').textContent = t(`ended.${s.status}`);
    $('failed-detail').textContent = [s.reason, s.attention, s.last_error].filter(Boolean).join('\n');
    $('failed-details').hidden = !$('failed-detail').textContent;
    // Staff need the reference and what to check in front of them.
    $('failed-details').open = s.can_review;
    $('failed-history').hidden = false;
    $('review-row').hidden = !s.can_review;
    show('failed');
    $('checkout').hidden = false;
    $('back-to-cart').focus();
    // The cart stays; a new attempt gets a fresh reference.
    state.reference = await ipc.newReference();
  }

  async function showError(e) {
    state.phase = 'ended';
    $('checkout-title').textContent = t('errorTitle');
    $('failed-message').textContent = k.errorText(e);
    $('failed-detail').textContent = k.detailText(e);
    $('failed-details').hidden = false;
    $('failed-details').open = false;
    $('failed-history').hidden = !e.session_id;
    $('review-row').hidden = true;
    state.session = e.session_id ? { id: e.session_id } : null;
    show('failed');
    $('checkout').hidden = false;
    $('back-to-cart').focus();
    if (e.session_id || e.code === 'reference_used') state.reference = await ipc.newReference();
  }

  function backToCart() {
    const reason = $('failed-message').textContent;
    closeCheckout();
    state.session = null;
    $('sale-banner').textContent = reason;
    $('sale-banner').hidden = !reason;
    $('f-name').focus();
  }

  async function cancelPayment() {
    if (!state.session) return;
    if (!state.cancelArmed) {
      state.cancelArmed = true;
      $('cancel-payment').textContent = t('cancelAgain');
      return;
    }
    try {
      showSession(await ipc.cancelSession(state.session.id));
    } catch (e) {
      $('poll-error').textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  /** Staff's verdict: the customer says they paid (`claimed`), or what the gateway shows. */
  async function review(verdict) {
    if (!state.session) return;
    try {
      showSession(await window.kassaOperators.withManager(() => ipc.reviewSession(state.session.id, verdict)));
    } catch (e) {
      const where = state.phase === 'waiting' ? 'poll-error' : 'failed-detail';
      $(where).textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  async function copyLink() {
    const url = $('link-text').value;
    try {
      await navigator.clipboard.writeText(url);
    } catch (_) {
      $('link-text').select();
      document.execCommand('copy');
    }
    $('copy-link').textContent = t('linkCopied');
    setTimeout(() => { $('copy-link').textContent = t('copyLink'); }, 2000);
  }

  // ---- navigation, keys, start -----------------------------------------------------------

  function go(view) {
    ['counter', 'history', 'settings', 'dayclose', 'links'].forEach((v) => {
      $(`view-${v}`).hidden = v !== view;
      if (v === view) $(`tab-${v}`).setAttribute('aria-current', 'page'); else $(`tab-${v}`).removeAttribute('aria-current');
    });
    if (view !== 'history' && window.kassaHistory) window.kassaHistory.hide();
    if (view !== 'links' && window.kassaLinks) window.kassaLinks.visible(false);
    if (view === 'dayclose') window.kassaDayClose.show();
    if (view === 'counter') $('f-name').focus();
    // The other screens' scripts load the first time they are shown (`k.screen`); a screen
    // left before its script came is not drawn.
    const still = () => !$(`view-${view}`).hidden;
    const failed = screenFailed($(`view-${view}`));
    if (view === 'history') screen('history').then((h) => { if (still()) h.show(); }).catch(failed);
    if (view === 'settings') screen('settings').then((st) => { if (still()) st.show(); }).catch(failed);
    if (view === 'links') screen('links').then((l) => { if (still()) l.visible(true); }).catch(failed);
  }

  /** What a screen whose script did not load shows, at its top: the error text and why. */
  function screenFailed(el) {
    return (e) => { el.prepend(k.el('p', 'form-error', `${k.errorText(e)} ${e.message || String(e)}`)); };
  }

  /** Screen `name`'s module, its script loaded (once; Settings then tells the counter of changes). */
  const MODULES = { history: 'kassaHistory', settings: 'kassaSettings', links: 'kassaLinks' };
  let settingsHooked = false;
  function screen(name) {
    return k.screen(name).then(() => {
      const m = window[MODULES[name]];
      if (!m) throw new Error(`${name}.js did not load`);
      if (name === 'settings' && !settingsHooked) { settingsHooked = true; m.onChange(reloadInfo); }
      return m;
    });
  }

  function keys(e) {
    if (e.key === 'F1') { e.preventDefault(); go('counter'); }
    else if (e.key === 'F3') { e.preventDefault(); go('history'); }
    else if (e.key === 'F4') { e.preventDefault(); go('settings'); }
    else if (e.key === 'F6') { e.preventDefault(); go('dayclose'); }
    else if (e.key === 'F7') { e.preventDefault(); go('links'); }
    else if ($('view-counter').hidden) { /* other screens handle their own keys */ }
    else if (e.key === 'F2') { e.preventDefault(); if (!state.phase) resetForm(); }
    else if (!state.phase && quickDigit(e)) { /* a quick key added its line */ }
    else if (e.key === 'F9') {
      e.preventDefault();
      if (state.phase === 'choose') startCharge(); else if (!state.phase) openChooser();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      if (state.phase === 'choose') { closeCheckout(); $('charge').focus(); }
      else if (state.phase === 'ended') backToCart();
      // A link stays open when staff leave it: it is paid later (cancel it on purpose).
      else if (state.phase === 'waiting' && state.session && state.session.sale === 'link') newSale();
      else if (state.phase === 'waiting') cancelPayment();
      else if (!state.phase) resetForm();
    } else if (e.key === 'Enter' && state.phase === 'paid') { e.preventDefault(); newSale(); }
  }

  function renderBadge() {
    if (!k.info) return; // drawn once app_info answers: no demo badge flashing on a live till
    const def = (k.info.providers || []).find((p) => p.default);
    const demo = !def || def.demo;
    k.set($('provider-badge'), 'textContent', demo ? t('demoBadge') : t('providerBadge', { p: def.name }));
    $('provider-badge').classList.toggle('demo', demo);
    // On the demo provider, the way to real money is one click away.
    $('connect-provider').hidden = !demo;
  }

  function applyTexts() {
    k.set(document.documentElement, 'lang', k.lang);
    k.applyTexts();
    k.set($('toggle-lang'), 'textContent', k.nextLang().toUpperCase());
    renderBadge();
    if (window.kassaOperators) window.kassaOperators.refreshTexts();
    if (window.kassaHub) window.kassaHub.refreshTexts();
  }

  function toggleTheme() {
    const root = document.documentElement;
    const next = root.dataset.theme === 'dark' ? 'light' : 'dark';
    root.dataset.theme = next;
    try { localStorage.setItem('kassa.theme', next); } catch (_) { /* private mode */ }
  }

  /** Reads the shop settings again (after a change on the settings screen). */
  async function reloadInfo() {
    showInfo(await ipc.appInfo());
    await refresh();
  }

  /** Draws what app_info says: the shop's name, its VAT rates, the badge, the quick keys. */
  function showInfo(info) {
    k.info = info;
    k.set($('shop-name'), 'textContent', k.info.shop_name);
    const vat = $('f-vat');
    vat.replaceChildren();
    k.info.vat_rates.forEach((r) => {
      const o = k.el('option', null, `${r} %`);
      o.value = r;
      vat.append(o);
    });
    vat.value = k.info.default_vat_rate;
    k.set($('charge-note'), 'textContent', k.info.settings_error ? t('settingsError', { m: k.info.settings_error }) : '');
    renderBadge();
    renderQuickKeys();
  }

  // Resolves once app_info has answered and is drawn: what needs the shop's settings (a line's
  // VAT rate, the cart's currency) waits for it; typing does not.
  let infoArrived;
  const infoReady = new Promise((resolve) => { infoArrived = resolve; });

  const nextFrame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  /** The start's own timing marks, ms since the page's navigation began (`performance.now()`),
   * in order; `ready` carries them to the app's READY line, where the desktop bench reads them. */
  const marks = [];
  const mark = (name) => { marks.push([name, Math.round(performance.now())]); };
  /** Where WebKit was before `start()`: the document's arrival, parsing done (the deferred
   * scripts run from here), and the last script fetched. */
  function navigationMarks() {
    const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    if (nav) marks.push(['response', Math.round(nav.responseEnd)], ['parsed', Math.round(nav.domInteractive)]);
    const fetched = (performance.getEntriesByType ? performance.getEntriesByType('resource') : [])
      .reduce((m, r) => Math.max(m, r.responseEnd), 0);
    if (fetched) marks.push(['fetched', Math.round(fetched)]);
  }

  /** Diagnostic: every animation frame from the start to READY. */
  function frameMarks() {
    requestAnimationFrame(() => { mark('frame'); if (!marks.some((m) => m[0] === 'ready')) frameMarks(); });
  }
  /** The first paint WebKit reports, and the document's load event, if they came before READY. */
  function paintMarks() {
    const fcp = performance.getEntriesByType ? performance.getEntriesByType('paint') : [];
    fcp.forEach((p) => marks.push([p.name === 'first-contentful-paint' ? 'painted' : 'paint', Math.round(p.startTime)]));
    const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
    if (nav && nav.loadEventStart > 0) marks.push(['load', Math.round(nav.loadEventStart)]);
  }

  /** How long the first frame waits for the shop's settings (see `start`). */
  const FIRST_DRAW_WAIT_MS = 150;
  /** The language a first start draws in before the shop's settings say: the shop's default
   * (`shop.locale` in kassa-core's settings.rs; a UI contract test keeps the two the same). */
  const DEFAULT_LANG = 'nb';
  /** The language staff chose with the top bar's button in this run of Kassa (sessionStorage). */
  const CHOSEN_LANG = 'kassa.lang.chosen';

  // ---- a fresh web process at a quiet moment ------------------------------------------------

  /** WebKit keeps a little in this page's process for every sale that neither the page nor a
   * reload gives back (BENCHMARKS.md, issue #25). After `page_renewal.after_sales` charges
   * started here, the first time the counter has been empty, on its own screen, with nothing
   * typed and no dialog open, and untouched (no key, pointer, touch, wheel or input) for
   * `page_renewal.quiet_ms`, the page asks for a fresh process (`renew_page`) and is drawn
   * again in it, as a reload draws it (~0.25 s). The sale, the operator, the sessions followed
   * and everything else that matters live in the app, not here. Not quiet then: it waits for
   * the next quiet moment. */
  const quiet = { sales: 0, timer: null };

  function touched() {
    clearTimeout(quiet.timer);
    const r = k.info && k.info.page_renewal;
    if (!r || !r.after_sales || quiet.sales < r.after_sales) return;
    quiet.timer = setTimeout(quietMoment, r.quiet_ms);
  }

  function counterAtRest() {
    const typed = ['f-name', 'f-price', 'f-disc', 'order-discount'].some((id) => $(id).value.trim() !== '')
      || $('f-qty').value.trim() !== '1';
    return state.phase === null && state.lines.length === 0 && !state.discount && state.editing === null
      && !$('view-counter').hidden && !typed && !document.querySelector('dialog[open]');
  }

  function quietMoment() {
    if (!counterAtRest()) { touched(); return; }
    ipc.renewPage().then((renewed) => { if (!renewed) quiet.sales = 0; }, () => { quiet.sales = 0; });
  }

  /** The start's answers (the shop's settings and a sale reference) come with the page, in
   * `window.kassaBoot` from the app's initialization script (`boot_script` in src-tauri/lib.rs),
   * so the counter's first frame is complete: one style, layout and paint. Without them (a
   * reload, or a till still opening when the window was made) the calls go out together and the
   * page, hidden until then (`<body hidden>`), waits for them at most FIRST_DRAW_WAIT_MS; later
   * answers are drawn when they come, and the counter takes input before them. READY (the
   * benchmark's "interactive") is sent once the settings are drawn. */
  async function start() {
    navigationMarks();
    mark('scripts');
    frameMarks();
    const answered = (name, p) => { p.then(() => mark(name), () => {}); return p; };
    // The app's answers, when its initialization script brought them (a reload asks).
    const boot = window.kassaBoot;
    try { sessionStorage.setItem('kassa.booted', '1'); } catch (_) { /* no storage */ }
    if (boot) mark('boot');
    const info = boot ? Promise.resolve(boot.info) : answered('info', ipc.appInfo());
    const reference = boot ? Promise.resolve(boot.reference) : answered('reference', ipc.newReference());
    const following = answered('listening', ipc.onSessionStatus((s) => {
      if (state.session && s.id === state.session.id && (state.phase === 'waiting' || state.phase === 'starting')) showSession(s);
      if (window.kassaHistory) window.kassaHistory.changed(s);
      if (window.kassaLinks) window.kassaLinks.changed(s);
    }));
    const answers = Promise.all([info, reference]);
    let lang = null;
    try {
      const saved = localStorage.getItem('kassa.theme');
      if (saved) document.documentElement.dataset.theme = saved;
      // The language the last start drew, for a first frame drawn before app_info answers.
      lang = localStorage.getItem('kassa.lang');
    } catch (_) { /* no storage */ }
    await k.setLang(k.langOf(boot ? boot.info.locale : (lang || DEFAULT_LANG)));
    // Without the boot answers, the texts are drawn while the calls travel (nothing is laid out
    // yet: the page is hidden); with them, once, after `settle` below.
    if (!boot) {
      applyTexts();
      render();
    }
    window.kassaHub.start();
    $('line-form').addEventListener('submit', submitLine);
    $('order-discount').addEventListener('change', setOrderDiscount);
    $('charge').addEventListener('click', openChooser);
    $('choose').addEventListener('submit', startCharge);
    $('choose-back').addEventListener('click', () => { closeCheckout(); $('charge').focus(); });
    $('clear-cart').addEventListener('click', newSale);
    $('paid-new-sale').addEventListener('click', newSale);
    $('back-to-cart').addEventListener('click', backToCart);
    $('failed-history').addEventListener('click', () => {
      const id = state.session && state.session.id;
      backToCart();
      go('history');
      if (id) screen('history').then((h) => h.open(id)).catch(screenFailed($('view-history')));
    });
    $('cancel-payment').addEventListener('click', cancelPayment);
    $('customer-paid').addEventListener('click', () => review('claimed'));
    $('review-paid').addEventListener('click', () => review('paid'));
    $('review-not-paid').addEventListener('click', () => review('not_paid'));
    $('copy-link').addEventListener('click', copyLink);
    document.querySelectorAll('input[name=sale], input[name=lifetime]').forEach((r) => r.addEventListener('change', saleKindChanged));
    // A field's message goes as soon as staff correct it.
    Object.values(LINK_FIELDS).forEach((id) => $(id).addEventListener('input', () => { $(id).classList.remove('invalid'); $(`${id}-msg`).textContent = ''; }));
    $('save-qr').addEventListener('click', saveQr);
    $('print-slip').addEventListener('click', printSlip);
    $('link-done').addEventListener('click', newSale);
    $('customer-display').addEventListener('click', () => ipc.openCustomerDisplay().catch((e) => { $('poll-error').textContent = k.errorText(e); }));
    $('toggle-theme').addEventListener('click', toggleTheme);
    $('connect-provider').addEventListener('click', () => screen('settings').then((st) => { st.setPane('providers'); go('settings'); })
      .catch(screenFailed($('view-counter'))));
    $('toggle-lang').addEventListener('click', () => k.setLang(k.nextLang()).then(() => {
      // Staff's choice holds until Kassa is closed: through a reload and a fresh page process.
      try { sessionStorage.setItem(CHOSEN_LANG, k.lang); } catch (_) { /* no storage */ }
      applyTexts(); render();
      [window.kassaHistory, window.kassaSettings, window.kassaDayClose, window.kassaLinks].forEach((m) => { if (m) m.relabel(); });
    }));
    document.querySelectorAll('.tab').forEach((b) => b.addEventListener('click', () => go(b.dataset.view)));
    document.addEventListener('keydown', keys);
    ['keydown', 'pointerdown', 'touchstart', 'wheel', 'input', 'click'].forEach((type) => document.addEventListener(type, touched, { capture: true, passive: true }));
    const early = boot ? [boot.info, boot.reference] : await Promise.race([
      answers.then((a) => a, () => null),
      new Promise((resolve) => { setTimeout(() => resolve(null), FIRST_DRAW_WAIT_MS); }),
    ]);
    // The shop's settings: its language, name, VAT rates, badge, quick keys and the empty
    // cart's totals (a cart changed meanwhile is quoted).
    const settle = async ([shop, ref]) => {
      let chosen = null;
      try { chosen = sessionStorage.getItem(CHOSEN_LANG); } catch (_) { /* no storage */ }
      await k.setLang(k.langOf(chosen || shop.locale));
      try { localStorage.setItem('kassa.lang', k.lang); } catch (_) { /* no storage */ }
      state.reference = ref;
      showInfo(shop);
      mark('settings');
      if (state.lines.length === 0 && !state.discount) {
        state.view = shop.empty_cart;
      } else {
        await refresh();
      }
    };
    if (early) {
      await settle(early);
      applyTexts();
      render();
    }
    document.body.hidden = false;
    $('f-name').focus();
    mark('counter');

    if (!early) {
      await settle(await answers);
      applyTexts();
      render();
    }
    mark('quote');
    // Lines and charges wait for the settings and for the listener of the sessions' events (a
    // charge's status comes as one).
    following.then(() => infoArrived(), (e) => { $('cart-problems').textContent = `${k.errorText(e)} ${e.message || String(e)}`; });
    // Who is at the till (a PIN first when operators exist); the counter is drawn behind it.
    window.kassaOperators.init().catch((e) => { $('sale-banner').textContent = k.errorText(e); $('sale-banner').hidden = false; });
    // Products saved on another till, brought by the hub's sender: the quick keys and, unless
    // staff are typing there, the settings' product list are drawn again.
    ipc.onProductsChanged(() => {
      reloadInfo();
      const typing = document.activeElement && ['INPUT', 'SELECT', 'TEXTAREA'].includes(document.activeElement.tagName);
      if (window.kassaSettings && (!typing || !$('view-settings').contains(document.activeElement))) window.kassaSettings.relabel();
    });
    window.kassaDayClose.remind(() => go('dayclose'));
    mark('rest');
    await nextFrame();
    await nextFrame();
    mark('ready');
    paintMarks();
    ipc.ready(marks.sort((a, b) => a[1] - b[1])).catch(() => {});
  }

  window.addEventListener('DOMContentLoaded', () => {
    start().catch((e) => { document.body.hidden = false; $('cart-problems').textContent = `${k.errorText(e)} ${e.message || String(e)}`; });
  });
})();
