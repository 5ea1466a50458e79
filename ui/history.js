// The history screen: sessions from the session log, newest first, with filters, a detail view
// with the event timeline, refresh, cancel, CSV export, and after the sale its captures and
// refunds with the buttons that open their forms (ui/after-sale.js) where the core allows them.
// All texts and amounts come from the core's SessionView; this file only lays them out.
// With a shop hub (`hub.url`), a switch above the filters: This till (this till's SQLite, as
// always) or Whole shop (every till's newest sales from the hub, with the till of each; a sale
// of this till opens its detail here, another till's says where it was sold). When the hub
// cannot be reached, Whole shop says so in a cashier's words and This till keeps working.
'use strict';
window.kassaHistory = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const STATUSES = ['open', 'paid', 'cancelled', 'expired', 'failed', 'unknown', 'needs_review', 'creating'];
  const state = { next: null, rows: [], openId: null, started: false, scope: 'till' };
  const SHOP_LIMIT = 100;

  /**
   * A date as staff type it, in the shop's local days: `3.12.2026`, `03.12.26`, `3/12/2026`
   * (day first, as Nordic and British shops write it) or `2026-12-03`; empty is no date.
   * Returns `YYYY-MM-DD` for the core, or throws naming the field.
   */
  function isoDate(id) {
    const text = $(id).value.trim();
    if (!text) return null;
    let m = text.match(/^(\d{4})-(\d{1,2})-(\d{1,2})$/);
    let y; let mo; let d;
    if (m) { [, y, mo, d] = m; } else {
      m = text.match(/^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$/);
      if (!m) throw { field: id, message: t('dateInvalid', { d: text }) };
      [, d, mo, y] = m;
      if (y.length === 2) y = `20${y}`;
    }
    const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
    if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) {
      throw { field: id, message: t('dateInvalid', { d: text }) };
    }
    return `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
  }

  function query(after) {
    return {
      status: $('h-status').value || null,
      provider: $('h-provider').value || null,
      since: isoDate('h-since'),
      until: isoDate('h-until'),
      search: $('h-search').value.trim() || null,
      after: after || null,
      limit: 50,
    };
  }

  function statusBadge(s) {
    const b = k.el('span', `status status-${s}`, k.statusText(s));
    return b;
  }

  /** Chips beside the status: an authorization not captured (and its expiry when near), the
   * refunded amount. The capture fields are read defensively: older backends lack them. */
  function chips(s) {
    const out = [];
    if (s.capture_due === true) out.push(k.el('span', 'chip warn', t('authorizedNotCaptured')));
    if (s.expires_soon === true && s.authorization_expires_at) {
      out.push(k.el('span', 'chip warn', t('authExpiresChip', { t: k.time(s.authorization_expires_at) })));
    }
    if (s.refunded_minor > 0) out.push(k.el('span', 'chip', t('refundedChip', { amount: s.refunded_amount })));
    return out;
  }

  function row(s) {
    const tr = k.el('tr');
    tr.tabIndex = 0;
    tr.dataset.id = s.id;
    if (s.status === 'unknown' || s.status === 'needs_review' || s.expires_soon === true) tr.classList.add('attention');
    const st = k.el('td', 'status-cell');
    st.append(statusBadge(s.status), ...chips(s));
    tr.append(k.cell(k.time(s.created_at)), k.cell(s.reference),
      k.cell(k.providerLabel(s)), k.cell(s.amount, 'num'), st);
    tr.addEventListener('click', () => open(s.id));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(s.id); });
    return tr;
  }

  async function load(more) {
    $('h-error').textContent = '';
    ['h-since', 'h-until'].forEach((id) => $(id).classList.remove('invalid'));
    let q;
    try {
      q = query(more ? state.next : null);
    } catch (e) {
      $('h-error').textContent = e.message;
      $(e.field).classList.add('invalid');
      $(e.field).focus();
      return;
    }
    try {
      const page = await ipc.history(q);
      if (state.scope !== 'till') return;
      if (!more) { $('history-rows').replaceChildren(); state.rows = []; }
      page.sessions.forEach((s) => { state.rows.push(s); $('history-rows').append(row(s)); });
      markOpen();
      state.next = page.next;
      $('history-more').hidden = !page.next;
      $('history-empty').hidden = state.rows.length > 0;
    } catch (e) {
      $('h-error').textContent = (e.problems && e.problems.length)
        ? e.problems.map((p) => `${p.path}: ${p.reason}`).join(' · ') : `${k.errorText(e)} ${e.message}`;
    }
  }

  function field(dl, label, value) {
    if (!value) return;
    const div = k.el('div');
    div.append(k.el('dt', null, label), k.el('dd', null, value));
    dl.append(div);
  }

  function button(id, cls, label, onClick) {
    const b = k.el('button', cls, label);
    b.type = 'button'; b.id = id;
    b.addEventListener('click', onClick);
    return b;
  }

  /** The sale's captures, refunds and voids, oldest first: what, how much, where it stands,
   * the provider's reference; then what was refunded in all. */
  function operations(s) {
    const section = k.el('section', 'ops-section');
    section.setAttribute('aria-labelledby', 'h-ops-title');
    const h = k.el('h3', null, t('operations'));
    h.id = 'h-ops-title';
    const ol = k.el('ol', 'ops');
    ol.id = 'h-operations';
    s.operations.forEach((o) => {
      const li = k.el('li', `op op-${o.state}`);
      li.dataset.kind = o.kind;
      li.dataset.state = o.state;
      const main = k.el('div', 'op-main');
      const what = k.el('strong', null, t(`op.${o.kind}`));
      const via = o.via === 'api' ? '' : ` · ${t(`via.${o.via}`)}`;
      main.append(what, k.el('span', 'muted', via), k.el('span', 'num op-amount', o.amount));
      const meta = k.el('div', 'op-meta muted');
      meta.append(k.el('span', `op-state state-${o.state}`, t(`opstate.${o.state}`)), ` · ${k.time(o.created_at)}`);
      if (o.provider_reference) meta.append(` · ${t('providerRef')} `, k.el('span', 'op-ref', o.provider_reference));
      li.append(main, meta);
      // A done refund or void has its return receipt: shown below the sale's on a click.
      if (o.state === 'done' && ['refund', 'refund_recorded', 'void'].includes(o.kind) && s.status === 'paid') {
        const b = k.el('button', 'ghost small h-return-receipt', t('returnReceipt'));
        b.type = 'button';
        b.dataset.op = o.id;
        b.addEventListener('click', () => showReceipt(s.id, o.id));
        li.append(b);
      }
      if (o.reason) li.append(k.el('div', 'op-note', o.reason));
      if (o.error) li.append(k.el('div', 'op-note form-error', o.error));
      ol.append(li);
    });
    section.append(h, ol);
    if (s.refunded_minor > 0) {
      const total = k.el('p', 'op-total', t('refundedTotal', { refunded: s.refunded_amount, amount: s.amount }));
      total.id = 'h-refunded-total';
      section.append(total);
    }
    return section;
  }

  /** After an operation's form: the sale as it is now (`v`; `null` after a failure, whose
   * record is in the log too) and a word on what happened. */
  function afterOperation(v, id) {
    if (!v) { if (state.openId === id) open(id); return; }
    renderDetail(v);
    const op = v.operations[v.operations.length - 1];
    const note = $('h-action-note');
    if (op && note) {
      const key = { refund: 'refund', refund_recorded: 'refund', capture: 'capture' }[op.kind];
      if (op.kind === 'void') note.textContent = t('voidDone');
      else if (key) note.textContent = t(`${key}${op.state === 'sent' ? 'Sent' : 'Done'}`, { amount: op.amount, p: v.provider });
    }
    // Keyboard first: back on the sale's first action (e.g. Refund again), else on the note.
    const focus = document.querySelector('#history-detail .row button') || note;
    if (focus) focus.focus();
    load(false);
  }

  function renderDetail(s) {
    const box = $('history-detail');
    box.replaceChildren();
    const head = k.el('div', 'detail-head');
    const badges = k.el('div', 'chips');
    badges.append(statusBadge(s.status), ...chips(s));
    head.append(k.el('h2', null, `${s.amount}`), badges);
    if (s.confirmed_by === 'staff') head.append(k.el('span', 'muted', ` ${t('confirmedByStaff')}`));
    box.append(head);
    if (s.attention) box.append(k.el('p', 'banner warn', s.attention));
    if (s.capture_due === true) {
      const soon = s.expires_soon === true && s.authorization_expires_at;
      const banner = k.el('p', 'banner warn', soon
        ? t('captureDueSoonBanner', { t: k.time(s.authorization_expires_at) }) : t('captureDueBanner'));
      banner.id = 'h-capture-due';
      box.append(banner);
    }
    const dl = k.el('dl', 'facts');
    field(dl, t('reference'), s.reference);
    field(dl, t('provider'), `${s.provider} · ${s.profile}${s.demo ? ` (${t('demoBadge')})` : ''}`);
    field(dl, t('providerId'), s.provider_session_id);
    field(dl, t('created'), k.time(s.created_at));
    field(dl, t('expires'), k.time(s.expires_at));
    if (s.status === 'paid') {
      const policy = s.capture_policy ? ` (${t(`policy.${s.capture_policy}`)})` : '';
      field(dl, t('captured'), `${s.captured_amount}${policy}`);
      field(dl, t('refunded'), s.refunded_amount);
      field(dl, t('authExpires'), s.authorization_expires_at && k.time(s.authorization_expires_at));
    }
    field(dl, t('lastError'), s.last_error);
    field(dl, 'ID', s.id);
    box.append(dl);
    const actions = k.el('div', 'row');
    const after = window.kassaAfterSale;
    const done = (v) => afterOperation(v, s.id);
    if (s.can_capture) actions.append(button('h-capture', 'primary', t('capture'), () => after.capture(s, done)));
    if (s.can_refund) actions.append(button('h-refund', 'primary', t('refund'), () => after.refund(s, done)));
    if (s.can_record_refund) actions.append(button('h-record-refund', 'ghost', t('recordRefund'), () => after.recordRefund(s, done)));
    if (s.can_void) actions.append(button('h-void', 'ghost danger', t('void'), () => after.void(s, done)));
    if (!s.is_final) {
      const r = k.el('button', 'ghost', t('refreshStatus'));
      r.type = 'button'; r.id = 'h-refresh';
      r.addEventListener('click', () => act(ipc.refreshSession(s.id)));
      actions.append(r);
    }
    if (s.can_cancel) {
      const c = k.el('button', 'ghost danger', t('cancelPayment'));
      c.type = 'button'; c.id = 'h-cancel';
      c.addEventListener('click', () => {
        if (c.dataset.armed) act(ipc.cancelSession(s.id));
        else { c.dataset.armed = '1'; c.textContent = t('cancelAgain'); }
      });
      actions.append(c);
    }
    box.append(actions);
    const msg = k.el('p', 'form-error'); msg.id = 'h-action-error';
    const note = k.el('p', 'note ok'); note.id = 'h-action-note';
    note.tabIndex = -1;
    note.setAttribute('role', 'status');
    box.append(msg, note);
    if (s.operations.length) box.append(operations(s));
    if (s.status === 'paid') {
      const r = k.el('section', 'receipt-box');
      r.id = 'h-receipt';
      box.append(r);
      showReceipt(s.id, null);
    }
    box.append(k.el('h3', null, t('events')));
    const ol = k.el('ol', 'timeline');
    s.events.forEach((e) => {
      const li = k.el('li');
      li.append(k.el('span', 'muted', k.time(e.at)), k.el('strong', null, e.status ? ` ${k.statusText(e.status)} ` : ` ${e.kind} `),
        k.el('span', null, e.detail));
      ol.append(li);
    });
    box.append(ol);
  }

  /** The sale's receipt (or return receipt `op`) in the detail pane, with Print and PDF. */
  function showReceipt(id, op) {
    const r = $('h-receipt');
    if (r) window.kassaReceipt.render(r, id, op, 'h');
  }

  async function act(promise) {
    try {
      renderDetail(await promise);
      await load(false);
    } catch (e) {
      const m = $('h-action-error');
      if (m) m.textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  /** Another till's sale: what the hub knows of it, and where its detail is. */
  function renderShopSale(s) {
    const box = $('history-detail');
    box.replaceChildren();
    const head = k.el('div', 'detail-head');
    const badges = k.el('div', 'chips');
    badges.append(statusBadge(s.status));
    head.append(k.el('h2', null, s.amount), badges);
    const dl = k.el('dl', 'facts');
    field(dl, t('registerShort'), s.register_id);
    field(dl, t('reference'), s.reference);
    field(dl, t('provider'), `${s.provider}${s.demo ? ` (${t('demoBadge')})` : ''}`);
    field(dl, t('created'), k.time(s.created_at));
    field(dl, 'ID', s.id);
    const note = k.el('p', 'note', t('otherTill', { r: s.register_id }));
    note.id = 'h-other-till';
    box.append(head, note, dl);
  }

  function shopRow(s) {
    const tr = k.el('tr');
    tr.tabIndex = 0;
    tr.dataset.id = s.id;
    tr.dataset.register = s.register_id;
    const st = k.el('td', 'status-cell');
    st.append(statusBadge(s.status));
    const till = k.el('td', null, s.register_id);
    if (s.this_till) till.classList.add('this-till');
    tr.append(till, k.cell(k.time(s.created_at)), k.cell(s.reference),
      k.cell(k.providerLabel(s)), k.cell(s.amount, 'num'), st);
    const pick = () => {
      state.openId = s.id;
      markOpen();
      if (s.this_till) open(s.id); else renderShopSale(s);
    };
    tr.addEventListener('click', pick);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') pick(); });
    return tr;
  }

  /** Whole shop: the hub's newest sales of every till. */
  async function loadShop() {
    const err = $('h-shop-error');
    try {
      const page = await ipc.shopHistory(SHOP_LIMIT);
      if (state.scope !== 'shop') return;
      err.hidden = true;
      $('shop-rows').replaceChildren(...page.sessions.map(shopRow));
      $('shop-table').hidden = false;
      $('history-empty').hidden = page.sessions.length > 0;
      markOpen();
    } catch (e) {
      if (state.scope !== 'shop') return;
      $('shop-rows').replaceChildren();
      $('shop-table').hidden = true;
      $('history-empty').hidden = true;
      err.textContent = k.errorText(e);
      err.title = e.message || '';
      err.hidden = false;
    }
  }

  /** This till or Whole shop. */
  function setScope(scope) {
    state.scope = scope;
    const shop = scope === 'shop';
    [['h-scope-till', !shop], ['h-scope-shop', shop]].forEach(([id, on]) => {
      $(id).setAttribute('aria-checked', String(on));
      $(id).className = `${on ? 'primary' : 'ghost'} small`;
    });
    $('h-shop-note').hidden = !shop;
    $('history-filter').hidden = shop;
    $('till-table').hidden = shop;
    $('history-more').hidden = true;
    $('shop-table').hidden = true;
    $('h-shop-error').hidden = true;
    $('history-empty').hidden = true;
    state.openId = null;
    const pick = k.el('p', 'note', t('pickSession'));
    pick.dataset.i18n = 'pickSession';
    $('history-detail').replaceChildren(pick);
    if (shop) loadShop(); else load(false);
  }

  /** The switch shows only with a hub set up (the indicator's status says so). */
  async function showScope() {
    let configured = false;
    try { configured = (await ipc.hubStatus()).configured === true; } catch (_) { /* no hub */ }
    $('h-scope').hidden = !configured;
    if (!configured && state.scope === 'shop') setScope('till');
  }

  function markOpen() {
    document.querySelectorAll('#history-rows tr, #shop-rows tr').forEach((tr) => {
      tr.classList.toggle('selected', tr.dataset.id === state.openId);
      if (tr.dataset.id === state.openId) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    });
  }

  async function open(id) {
    state.openId = id;
    markOpen();
    try {
      renderDetail(await ipc.session(id));
    } catch (e) {
      $('history-detail').textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  async function exportCsv() {
    try {
      const r = await ipc.exportCsv(query(null));
      $('h-error').textContent = t('exported', { n: r.rows, path: r.path });
      $('h-error').classList.add('ok');
    } catch (e) {
      $('h-error').classList.remove('ok');
      $('h-error').textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  function relabel() {
    const sel = $('h-status');
    const keep = sel.value;
    sel.replaceChildren(k.el('option', null, t('all')));
    sel.firstChild.value = '';
    STATUSES.forEach((s) => { const o = k.el('option', null, k.statusText(s)); o.value = s; sel.append(o); });
    sel.value = keep;
    if (state.started && state.scope === 'shop') loadShop();
    else if (state.started) { load(false); if (state.openId) open(state.openId); }
  }

  function init() {
    relabel();
    state.started = true;
    const prov = $('h-provider');
    const addProvider = (p) => { const o = k.el('option', null, p); o.value = p; prov.append(o); };
    addProvider('demo');
    // Every provider the core knows (its registry, as the settings screen lists them), set up or
    // not: the log may hold sessions of any of them. Without the list, only demo is offered.
    ipc.settingsView().then((v) => v.providers.forEach((p) => addProvider(p.name)), () => {});
    $('history-filter').addEventListener('submit', (e) => { e.preventDefault(); $('h-error').classList.remove('ok'); load(false); });
    $('history-more').addEventListener('click', () => load(true));
    $('h-export').addEventListener('click', exportCsv);
    $('h-scope-till').addEventListener('click', () => setScope('till'));
    $('h-scope-shop').addEventListener('click', () => setScope('shop'));
  }

  return {
    show() {
      if (!state.started) init();
      showScope();
      if (state.scope === 'shop') { loadShop(); $('h-scope-shop').focus(); } else { load(false); $('h-search').focus(); }
    },
    open,
    relabel() { if (state.started) relabel(); },
    /** The screen was left: its rows and the open detail go (shown again, it loads afresh), so
     * a day of visits keeps no session list in the page. */
    hide() {
      if (!state.started) return;
      $('history-rows').replaceChildren();
      $('shop-rows').replaceChildren();
      state.rows = [];
      state.openId = null;
      const pick = k.el('p', 'note', t('pickSession'));
      pick.dataset.i18n = 'pickSession';
      $('history-detail').replaceChildren(pick);
    },
    /** A followed session changed: refresh what is on screen. */
    changed(s) {
      if (!state.started || $('view-history').hidden) return;
      if (state.scope === 'shop') { loadShop(); return; }
      load(false);
      if (state.openId === s.id) open(s.id);
    },
  };
})();
