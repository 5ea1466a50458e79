// The history screen: sessions from the session log, newest first, with filters, a detail view
// with the event timeline, refresh, cancel, and CSV export. All texts and amounts come from
// the core's SessionView; this file only lays them out.
'use strict';
window.kassaHistory = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const STATUSES = ['open', 'paid', 'cancelled', 'expired', 'failed', 'unknown', 'needs_review', 'creating'];
  const state = { next: null, rows: [], openId: null, started: false };

  function query(after) {
    return {
      status: $('h-status').value || null,
      provider: $('h-provider').value || null,
      since: $('h-since').value || null,
      until: $('h-until').value || null,
      search: $('h-search').value.trim() || null,
      after: after || null,
      limit: 50,
    };
  }

  function statusBadge(s) {
    const b = k.el('span', `status status-${s}`, k.statusText(s));
    return b;
  }

  function row(s) {
    const tr = k.el('tr');
    tr.tabIndex = 0;
    tr.dataset.id = s.id;
    if (s.status === 'unknown' || s.status === 'needs_review') tr.classList.add('attention');
    const st = k.el('td');
    st.append(statusBadge(s.status));
    tr.append(k.cell(k.time(s.created_at)), k.cell(s.reference),
      k.cell(k.providerLabel(s)), k.cell(s.amount, 'num'), st);
    tr.addEventListener('click', () => open(s.id));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(s.id); });
    return tr;
  }

  async function load(more) {
    $('h-error').textContent = '';
    try {
      const page = await ipc.history(query(more ? state.next : null));
      if (!more) { $('history-rows').replaceChildren(); state.rows = []; }
      page.sessions.forEach((s) => { state.rows.push(s); $('history-rows').append(row(s)); });
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

  function renderDetail(s) {
    const box = $('history-detail');
    box.replaceChildren();
    const head = k.el('div', 'detail-head');
    head.append(k.el('h2', null, `${s.amount}`), statusBadge(s.status));
    if (s.confirmed_by === 'staff') head.append(k.el('span', 'muted', ` ${t('confirmedByStaff')}`));
    box.append(head);
    if (s.attention) box.append(k.el('p', 'banner warn', s.attention));
    const dl = k.el('dl', 'facts');
    field(dl, t('reference'), s.reference);
    field(dl, t('provider'), `${s.provider} · ${s.profile}${s.demo ? ` (${t('demoBadge')})` : ''}`);
    field(dl, t('providerId'), s.provider_session_id);
    field(dl, t('created'), k.time(s.created_at));
    field(dl, t('expires'), k.time(s.expires_at));
    field(dl, t('lastError'), s.last_error);
    field(dl, 'ID', s.id);
    box.append(dl);
    const actions = k.el('div', 'row');
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
    box.append(msg);
    if (s.receipt) {
      const table = k.el('table', 'receipt');
      const body = k.el('tbody');
      s.receipt.lines.forEach((l) => {
        const tr = k.el('tr');
        tr.append(k.cell(`${l.quantity} × ${l.name}`), k.cell(`${l.vat_rate} %`, 'num muted'), k.cell(l.gross, 'num'));
        body.append(tr);
      });
      s.receipt.vat_rows.forEach((r) => {
        const tr = k.el('tr', 'muted');
        tr.append(k.cell(`${t('vat')} ${r.vat_rate} %`), k.cell(r.net, 'num'), k.cell(r.vat, 'num'));
        body.append(tr);
      });
      table.append(body);
      box.append(table);
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

  async function act(promise) {
    try {
      renderDetail(await promise);
      await load(false);
    } catch (e) {
      const m = $('h-action-error');
      if (m) m.textContent = `${k.errorText(e)} ${e.message}`;
    }
  }

  async function open(id) {
    state.openId = id;
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
    if (state.started) { load(false); if (state.openId) open(state.openId); }
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
  }

  return {
    show() { if (!state.started) init(); load(false); $('h-search').focus(); },
    open,
    relabel() { if (state.started) relabel(); },
    /** A followed session changed: refresh what is on screen. */
    changed(s) {
      if (!state.started || $('view-history').hidden) return;
      load(false);
      if (state.openId === s.id) open(s.id);
    },
  };
})();
