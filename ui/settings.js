// The settings screen: shop settings, the product list, and each provider's settings and
// credentials. Every value is validated by the core; its error appears next to the field.
// Credentials go straight to the keyring and are shown only as set / not set.
'use strict';
window.kassaSettings = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const state = { started: false, onChange: () => {}, view: null };

  function keyId(key) { return `s-${key.replace(/[^a-z0-9]/gi, '-')}`; }

  /** One setting: label, input, Save on Enter/blur, error next to it. */
  function settingField(f) {
    const wrap = k.el('label', 'setting');
    wrap.append(k.el('span', null, f.key));
    const input = k.el('input');
    input.id = keyId(f.key);
    input.value = f.value || '';
    input.dataset.key = f.key;
    input.dataset.saved = input.value;
    if (!f.set) input.classList.add('default-value');
    const msg = k.el('span', 'field-msg');
    const save = async () => {
      if (input.value === input.dataset.saved) return;
      input.classList.remove('invalid');
      try {
        await ipc.setSetting(f.key, input.value);
        input.dataset.saved = input.value;
        input.classList.remove('default-value');
        msg.className = 'field-msg ok';
        msg.textContent = t('saved');
        state.onChange();
      } catch (e) {
        input.classList.add('invalid');
        msg.className = 'field-msg error';
        msg.textContent = (e.problems && e.problems[0] && e.problems[0].reason) || k.errorText(e);
      }
    };
    input.addEventListener('change', save);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } });
    wrap.append(input, msg);
    return wrap;
  }

  function secretField(p, s) {
    const wrap = k.el('label', 'setting');
    const status = s.set === null ? t('keyringUnknown') : (s.set ? t('isSet') : t('notSet'));
    const head = k.el('span', null, `${s.field} · `);
    head.append(k.el('strong', s.set ? 'ok' : 'muted', status));
    wrap.append(head);
    const input = k.el('input');
    input.type = 'password';
    input.autocomplete = 'off';
    input.id = keyId(`${p.name}.${s.field}`);
    const msg = k.el('span', 'field-msg');
    const save = async () => {
      if (!input.value) return;
      try {
        await ipc.setCredential(p.name, s.field, input.value);
        input.value = '';
        msg.className = 'field-msg ok';
        msg.textContent = t('credentialSaved');
        await render();
      } catch (e) {
        msg.className = 'field-msg error';
        msg.textContent = `${k.errorText(e)} ${e.message}`;
      }
    };
    input.addEventListener('change', save);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } });
    wrap.append(input, msg);
    return wrap;
  }

  function providerSection(p) {
    const sec = k.el('fieldset', 'provider-box');
    sec.append(k.el('legend', null, `${p.name} · ${p.profile}`));
    const fields = k.el('div', 'fields');
    p.fields.forEach((f) => fields.append(settingField(f)));
    sec.append(fields);
    sec.append(k.el('h4', null, t('credentials')));
    const secrets = k.el('div', 'fields');
    p.secrets.forEach((s) => secrets.append(secretField(p, s)));
    sec.append(secrets);
    const test = k.el('button', 'ghost', t('testConnection'));
    test.type = 'button';
    const out = k.el('span', 'field-msg');
    test.addEventListener('click', async () => {
      out.className = 'field-msg'; out.textContent = '…';
      try {
        out.textContent = await ipc.testConnection(p.name);
        out.className = 'field-msg ok';
      } catch (e) {
        out.className = 'field-msg error';
        out.textContent = `${k.errorText(e)} ${e.message}`;
      }
    });
    const row = k.el('div', 'row');
    row.append(test, out);
    sec.append(row);
    return sec;
  }

  async function render() {
    const v = await ipc.settingsView();
    state.view = v;
    $('s-keyring').hidden = !v.keyring_error;
    $('s-keyring').textContent = v.keyring_error ? t('keyringProblem', { m: v.keyring_error }) : '';
    const shop = $('s-shop');
    shop.replaceChildren();
    v.shop.forEach((f) => shop.append(settingField(f)));
    const provs = $('s-providers');
    provs.replaceChildren();
    v.providers.forEach((p) => provs.append(providerSection(p)));
    const rows = $('product-rows');
    rows.replaceChildren();
    v.products.forEach((p) => {
      const tr = k.el('tr');
      const del = k.el('button', 'ghost small danger', '✕');
      del.type = 'button'; del.title = t('remove'); del.setAttribute('aria-label', `${t('remove')} ${p.name}`);
      del.addEventListener('click', async () => { await ipc.removeProduct(p.sku).catch(() => {}); render(); });
      const actions = k.el('td', 'actions');
      actions.append(del);
      tr.append(k.cell(p.sku), k.cell(p.name), k.cell(p.unit_price, 'num'), k.cell(`${p.vat_rate} %`, 'num'), actions);
      rows.append(tr);
    });
    const vat = $('p-vat');
    vat.replaceChildren();
    k.info.vat_rates.forEach((r) => { const o = k.el('option', null, `${r} %`); o.value = r; vat.append(o); });
  }

  async function saveProduct(ev) {
    ev.preventDefault();
    const ids = { sku: 'p-sku', name: 'p-name', unit_price: 'p-price', vat_rate: 'p-vat' };
    Object.values(ids).forEach((id) => $(id).classList.remove('invalid'));
    try {
      await ipc.saveProduct({ sku: $('p-sku').value, name: $('p-name').value, unit_price: $('p-price').value, vat_rate: $('p-vat').value });
      $('product-form').reset();
      $('p-error').textContent = '';
      await render();
      $('p-sku').focus();
    } catch (e) {
      (e.problems || []).forEach((p) => { const el = $(ids[p.path]); if (el) el.classList.add('invalid'); });
      $('p-error').textContent = (e.problems && e.problems.length)
        ? e.problems.map((p) => `${p.path}: ${p.reason}`).join(' · ') : k.errorText(e);
    }
  }

  return {
    show() {
      if (!state.started) {
        state.started = true;
        $('product-form').addEventListener('submit', saveProduct);
      }
      render().catch((e) => { $('s-keyring').hidden = false; $('s-keyring').textContent = `${k.errorText(e)} ${e.message}`; });
    },
    relabel() { if (state.started && !$('view-settings').hidden) render(); },
    onChange(f) { state.onChange = f; },
  };
})();
