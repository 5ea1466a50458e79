// The Links screen (F7): every unpaid link sale with its amount, masked contact, time left
// (counting down), status, and Resend / Cancel / Renew, or "mark paid" for a payment the
// provider cannot confirm itself. The background follower asks the providers; this screen
// only reads the session log (`links`) and redraws on the `session-status` events.
'use strict';
window.kassaLinks = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  let rows = [];
  let shown = false;
  let ticker = null;
  let reloading = null;
  const armed = new Set();

  /** `2 d 3 h`, `1 h 20 min`, `4 min 10 s`: time left until `iso` (the provider's expiry). */
  function left(iso) {
    const ms = iso ? Date.parse(iso) - Date.now() : NaN;
    if (!(ms > 0)) return t('leftNone');
    const s = Math.floor(ms / 1000);
    const d = Math.floor(s / 86400); const h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    if (d > 0) return t('leftDays', { d, h });
    if (h > 0) return t('leftHours', { h, m });
    return t('leftMinutes', { m, s: s % 60 });
  }

  function button(text, cls, label, action) {
    const b = k.el('button', cls, text);
    b.type = 'button';
    b.setAttribute('aria-label', label);
    b.addEventListener('click', action);
    return b;
  }

  function render() {
    const body = $('links-rows');
    body.replaceChildren(...rows.map((s) => {
      const tr = k.el('tr');
      tr.dataset.id = s.id;
      const name = `${s.reference} · ${k.providerLabel(s)}`;
      const time = k.cell(s.status === 'open' ? left(s.expires_at) : '–', 'time-left');
      time.dataset.expires = s.status === 'open' ? (s.expires_at || '') : '';
      time.title = s.expires_at ? k.time(s.expires_at) : '';
      const status = k.el('td', 'status-cell');
      status.append(k.el('span', `status status-${s.status}`, k.statusText(s.status)));
      tr.append(k.cell(name), k.cell(s.amount, 'num strong'), k.cell(s.contact || '–'), time, status);
      const actions = k.el('td', 'actions link-actions');
      if (s.can_resend) actions.append(button(t('resend'), 'ghost small', `${t('resend')} ${s.reference}`, () => act(s, 'resend')));
      if (s.status === 'open' && s.can_cancel !== false) {
        const text = armed.has(s.id) ? t('cancelLinkAgain') : t('cancelLink');
        actions.append(button(text, 'ghost small danger', `${t('cancelLink')} ${s.reference}`, () => act(s, 'cancel')));
      }
      if (s.can_renew) actions.append(button(t('renew'), 'primary small', `${t('renew')} ${s.reference}`, () => act(s, 'renew')));
      if (s.status === 'needs_review') actions.append(button(t('confirmPaid'), 'primary small', `${t('confirmPaid')} ${s.reference}`, () => act(s, 'paid')));
      tr.append(actions);
      return tr;
    }));
    $('links-empty').hidden = rows.length > 0;
  }

  /** Only the countdowns change every second; the rows stay (and keep the focus). */
  function tick() {
    document.querySelectorAll('#links-rows td.time-left').forEach((td) => {
      if (td.dataset.expires) td.textContent = left(td.dataset.expires);
    });
  }

  async function load() {
    try {
      rows = await ipc.links();
      $('links-msg').textContent = '';
    } catch (e) {
      $('links-msg').textContent = `${k.errorText(e)} ${e.message}`;
    }
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#links-rows tr');
    const focusId = focused && focused.dataset.id;
    render();
    if (focusId) {
      const again = document.querySelector(`#links-rows tr[data-id="${focusId}"] button`);
      if (again) again.focus();
    }
  }

  async function act(s, what) {
    $('links-msg').textContent = '';
    try {
      if (what === 'resend') {
        const v = await ipc.resendLink(s.id, {});
        const d = v.sent;
        if (d) {
          const c = t(`channel.${d.channel}`);
          $('links-msg').textContent = d.error ? t(d.status === 'unknown' ? 'sentUnknown' : 'sentFailed', { c, to: d.to }) : t('sentOk', { c, to: d.to, s: d.status });
        }
      } else if (what === 'cancel') {
        if (!armed.has(s.id)) { armed.add(s.id); render(); return; }
        armed.delete(s.id);
        await ipc.cancelSession(s.id);
      } else if (what === 'renew') {
        const v = await ipc.renewLink(s.id, null);
        $('links-msg').textContent = t('renewed', { t: k.time(v.expires_at) });
      } else if (what === 'paid') {
        await window.kassaOperators.withManager(() => ipc.reviewSession(s.id, 'paid'));
      }
    } catch (e) {
      $('links-msg').textContent = `${k.errorText(e)} ${e.message}`;
    }
    await load();
  }

  return {
    /** The screen was shown (or left): load it and count down while it is in view. */
    visible(on) {
      shown = on;
      clearInterval(ticker);
      ticker = null;
      if (!on) return;
      load().then(() => {
        const first = document.querySelector('#links-rows button');
        if (first) first.focus();
      });
      ticker = setInterval(tick, 1000);
    },
    /** A session changed (the follower's event): a link's row changes, a paid one leaves. */
    changed(s) {
      if (!shown || s.sale !== 'link' || reloading) return;
      reloading = setTimeout(() => { reloading = null; load(); }, 200);
    },
    relabel() { if (shown) render(); },
  };
})();
