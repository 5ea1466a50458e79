// The counter screen. It keeps the cart as the core returned it and renders the core's view;
// it does no arithmetic and formats no amounts itself.
'use strict';
(() => {
  const ipc = window.kassaIpc;
  const $ = (id) => document.getElementById(id);
  const state = { info: null, lang: 'en', lines: [], discount: 0, editing: null, view: null };

  const t = (key) => (window.kassaTexts[state.lang] || window.kassaTexts.en)[key] || key;

  function applyTexts() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    document.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
    $('toggle-lang').textContent = state.lang === 'en' ? 'NB' : 'EN';
  }

  function cart() {
    return {
      currency: state.info.currency,
      prices_include_vat: state.info.prices_include_vat,
      discount: state.discount,
      lines: state.lines,
    };
  }

  function cell(text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }

  function render() {
    const v = state.view;
    const body = $('cart-lines');
    body.replaceChildren();
    (v ? v.lines : []).forEach((line, i) => {
      const tr = document.createElement('tr');
      tr.tabIndex = 0;
      tr.dataset.index = String(i);
      const name = line.sku ? `${line.name} · ${line.sku}` : line.name;
      tr.append(cell(name), cell(line.quantity, 'num'), cell(line.unit_price, 'num'),
        cell(line.discount, 'num'), cell(`${line.vat_rate} %`, 'num'), cell(line.gross, 'num strong'));
      const actions = document.createElement('td');
      actions.className = 'actions';
      const edit = document.createElement('button');
      edit.type = 'button'; edit.className = 'ghost small'; edit.textContent = '✎';
      edit.title = t('edit'); edit.setAttribute('aria-label', `${t('edit')} ${line.name}`);
      edit.addEventListener('click', () => editLine(i));
      const remove = document.createElement('button');
      remove.type = 'button'; remove.className = 'ghost small danger'; remove.textContent = '✕';
      remove.title = t('remove');
      remove.setAttribute('aria-label', `${t('remove')} ${line.name}`);
      remove.addEventListener('click', () => removeLine(i));
      actions.append(edit, remove);
      tr.append(actions);
      tr.addEventListener('keydown', (e) => { if (e.key === 'Delete') removeLine(i); });
      body.append(tr);
    });
    $('cart-empty').hidden = state.lines.length > 0;
    const rows = $('vat-rows');
    rows.replaceChildren();
    (v ? v.vat_rows : []).forEach((r) => {
      const tr = document.createElement('tr');
      tr.append(cell(`${r.vat_rate} %`), cell(r.net, 'num'), cell(r.vat, 'num'), cell(r.gross, 'num'));
      rows.append(tr);
    });
    $('total-net').textContent = v ? v.net : '–';
    $('total-vat').textContent = v ? v.vat : '–';
    $('total-gross').textContent = v ? v.gross : '–';
    $('cart-problems').textContent = v ? v.problems.map((p) => p.reason).join('\n') : '';
    $('charge').disabled = !(v && v.chargeable);
  }

  async function refresh() {
    try {
      state.view = await ipc.quoteCart(cart());
    } catch (e) {
      state.view = null;
      $('cart-problems').textContent = e.message;
    }
    render();
  }

  function showFormError(e) {
    const problems = e.problems || [];
    document.querySelectorAll('.line-form .invalid').forEach((el) => el.classList.remove('invalid'));
    const ids = { name: 'f-name', quantity: 'f-qty', unit_price: 'f-price', vat_rate: 'f-vat', discount: 'f-disc' };
    problems.forEach((p) => { const el = $(ids[p.path]); if (el) el.classList.add('invalid'); });
    $('form-error').textContent = problems.length
      ? problems.map((p) => `${t({ name: 'item', quantity: 'quantity', unit_price: 'unitPrice', vat_rate: 'vatRate', discount: 'discount' }[p.path] || p.path)}: ${p.reason}`).join(' · ')
      : e.message;
    const first = problems.length && $(ids[problems[0].path]);
    if (first) first.focus();
  }

  function resetForm() {
    $('line-form').reset();
    $('f-qty').value = '1';
    $('f-vat').value = state.info.default_vat_rate;
    $('form-error').textContent = '';
    document.querySelectorAll('.line-form .invalid').forEach((el) => el.classList.remove('invalid'));
    state.editing = null;
    $('add-line').textContent = t('addLine');
    $('f-name').focus();
  }

  async function submitLine(ev) {
    ev.preventDefault();
    const entry = {
      sku: '', name: $('f-name').value, quantity: $('f-qty').value,
      unit_price: $('f-price').value, vat_rate: $('f-vat').value, discount: $('f-disc').value,
    };
    try {
      const line = await ipc.entryToLine(entry, state.info.currency);
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
    const text = $('order-discount').value.trim();
    $('order-discount').classList.remove('invalid');
    try {
      state.discount = text ? await ipc.parseAmount(text, state.info.currency) : 0;
    } catch (e) {
      $('order-discount').classList.add('invalid');
      $('cart-problems').textContent = `${t('orderDiscount')}: ${(e.problems && e.problems[0] && e.problems[0].reason) || e.message}`;
      return;
    }
    await refresh();
  }

  async function clearCart() {
    state.lines = [];
    state.discount = 0;
    $('order-discount').value = '';
    $('charge-note').textContent = '';
    resetForm();
    await refresh();
  }

  function charge() {
    if ($('charge').disabled) return;
    $('charge-note').textContent = t('noProviderYet');
  }

  function toggleTheme() {
    const root = document.documentElement;
    const next = root.dataset.theme === 'dark' ? 'light' : 'dark';
    root.dataset.theme = next;
    try { localStorage.setItem('kassa.theme', next); } catch (_) { /* private mode */ }
  }

  function keys(e) {
    if (e.key === 'F2') { e.preventDefault(); resetForm(); }
    else if (e.key === 'F9') { e.preventDefault(); charge(); }
    else if (e.key === 'Escape') { e.preventDefault(); resetForm(); }
  }

  async function start() {
    try {
      const saved = localStorage.getItem('kassa.theme');
      if (saved) document.documentElement.dataset.theme = saved;
    } catch (_) { /* no storage */ }
    state.info = await ipc.appInfo();
    state.lang = state.info.locale === 'nb' ? 'nb' : 'en';
    $('shop-name').textContent = state.info.shop_name;
    if (state.info.settings_error) $('charge-note').textContent = state.info.settings_error;
    const vat = $('f-vat');
    state.info.vat_rates.forEach((r) => {
      const o = document.createElement('option');
      o.value = r; o.textContent = `${r} %`;
      vat.append(o);
    });
    vat.value = state.info.default_vat_rate;
    applyTexts();
    $('line-form').addEventListener('submit', submitLine);
    $('order-discount').addEventListener('change', setOrderDiscount);
    $('charge').addEventListener('click', charge);
    $('clear-cart').addEventListener('click', clearCart);
    $('toggle-theme').addEventListener('click', toggleTheme);
    $('toggle-lang').addEventListener('click', () => { state.lang = state.lang === 'en' ? 'nb' : 'en'; applyTexts(); render(); });
    document.addEventListener('keydown', keys);
    await refresh();
    $('f-name').focus();
    requestAnimationFrame(() => requestAnimationFrame(() => ipc.ready().catch(() => {})));
  }

  window.addEventListener('DOMContentLoaded', () => {
    start().catch((e) => { $('cart-problems').textContent = e.message || String(e); });
  });
})();
