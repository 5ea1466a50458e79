// The settings screen, in three parts: payment providers (pick one, its fields with human
// labels and where to find each value, credentials masked, test or live explained, Test
// connection, Use as default, the developer-only fields under Advanced), the shop's details
// (what receipts print, this till and its printer, who works it) and the product list (with
// the counter's quick keys). Every value is validated by the core; its error appears next to
// the field. Credentials go straight to the keyring and are shown only as set / not set.
'use strict';
window.kassaSettings = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const { $, t } = k;
  const state = {
    started: false, onChange: () => {}, view: null, pane: 'providers', provider: null,
    // Which providers' Advanced folds staff opened (kept across redraws), and the newest draw.
    advancedOpen: new Set(), drawn: 0,
  };

  // Shop settings by where they belong; anything else the core adds lands in "Advanced".
  const SHOP = ['shop.name', 'shop.address', 'shop.org_number', 'shop.vat_registered', 'shop.currency',
    'shop.vat_rates', 'shop.prices_include_vat', 'shop.locale', 'shop.counter_link_minutes'];
  const TILL = ['register.id', 'printer.url', 'printer.columns', 'hub.url', 'hub.ca_file'];
  // Provider settings a shop never needs to touch (the emulators and the developers' hosts).
  const ADVANCED = new Set(['base_url', 'session_path', 'payment_window_id', 'profile_id', 'acquiring_channel',
    'mode', 'sign_items']);
  // Settings with a fixed set of values: a select, each value explained.
  const CHOICES = {
    profile: ['test', 'live'],
    capture: ['at_sale', 'manual'],
    'shop.prices_include_vat': ['true', 'false'],
    'shop.vat_registered': ['true', 'false'],
    'shop.locale': ['nb', 'sv', 'da', 'en'],
    region: ['eu', 'na', 'oc'],
  };

  function keyId(key) { return `s-${key.replace(/[^a-z0-9]/gi, '-')}`; }

  /** The setting's last part, which decides how it is edited (`profile`, `capture`, …). */
  function leaf(key) {
    return key.includes('.') && !key.startsWith('shop.') ? key.slice(key.indexOf('.') + 1) : key;
  }

  /** A text of `kind` (`label`, `help`) for setting `key`: its own, else its kind's (every
   * provider's `profile`), else `fallback`. */
  function text(kind, key, fallback) {
    for (const name of [`${kind}.${key}`, `${kind}.${leaf(key)}`]) {
      const v = t(name);
      if (v !== name) return v;
    }
    return fallback;
  }

  /** A human label for setting `key` (`dintero.account_id`, `shop.name`), else the key. */
  function label(key) { return text('label', key, key); }

  /** Where to find the value, or what it does. */
  function help(key) { return text('help', key, ''); }

  /** One setting: label, input (or select), a line of help, Save on change/Enter, error beside. */
  function settingField(f) {
    const wrap = k.el('label', 'setting');
    wrap.append(k.el('span', 'setting-label', label(f.key)));
    const choices = CHOICES[f.key] || CHOICES[leaf(f.key)];
    let input;
    if (choices) {
      input = k.el('select');
      choices.forEach((v) => {
        const o = k.el('option', null, t(`choice.${v}`) === `choice.${v}` ? v : t(`choice.${v}`));
        o.value = v;
        input.append(o);
      });
      input.value = f.value || choices[0];
    } else {
      input = k.el('input');
      input.value = f.value || '';
    }
    input.id = keyId(f.key);
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
        msg.textContent = (e.problems && e.problems[0]) ? k.problemText(e.problems[0]) : k.errorText(e);
      }
    };
    input.addEventListener('change', save);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } });
    wrap.append(input, msg);
    const h = help(f.key);
    if (h) wrap.append(k.el('span', 'setting-help', h));
    return wrap;
  }

  function secretField(p, s) {
    const wrap = k.el('label', 'setting');
    const status = s.set === null ? t('keyringUnknown') : (s.set ? t('isSet') : t('notSet'));
    const key = `${p.name}.${s.field}`;
    const head = k.el('span', 'setting-label', `${label(key)} · `);
    const mark = k.el('strong', s.set ? 'ok' : 'muted', status);
    head.append(mark);
    wrap.append(head);
    const input = k.el('input');
    input.type = 'password';
    input.autocomplete = 'off';
    input.id = keyId(key);
    input.placeholder = s.set ? '••••••••' : '';
    const msg = k.el('span', 'field-msg');
    const save = async () => {
      if (!input.value) return;
      try {
        await ipc.setCredential(p.name, s.field, input.value);
        input.value = '';
        input.placeholder = '••••••••';
        msg.className = 'field-msg ok';
        msg.textContent = t('credentialSaved');
        mark.className = 'ok';
        mark.textContent = t('isSet');
        // The cards say whether each provider is set up; the form staff are in stays as it is.
        providerList(await ipc.settingsView());
      } catch (e) {
        msg.className = 'field-msg error';
        msg.textContent = `${k.errorText(e)} ${e.message}`;
      }
    };
    input.addEventListener('change', save);
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } });
    wrap.append(input, msg);
    const h = help(key);
    if (h) wrap.append(k.el('span', 'setting-help', h));
    return wrap;
  }

  /** The provider list: one card each, with whether it is set up and which is the default. */
  function providerList(v) {
    const list = $('s-provider-list');
    list.replaceChildren();
    const demo = k.el('div', 'provider-card static');
    demo.append(k.el('strong', null, t('demoProvider')), k.el('span', 'muted', t('demoProviderText')));
    list.append(demo);
    v.providers.forEach((p) => {
      const b = k.el('button', `provider-card${state.provider === p.name ? ' selected' : ''}`);
      b.type = 'button';
      b.id = `s-pick-${p.name}`;
      b.setAttribute('aria-pressed', String(state.provider === p.name));
      const status = p.ready ? t('providerReady', { profile: p.profile }) : t('providerNotSetUp');
      b.append(k.el('strong', null, p.title), k.el('span', p.ready ? 'ok' : 'muted', status));
      if (p.default) b.append(k.el('span', 'chip', t('isDefault')));
      b.addEventListener('click', () => { state.provider = p.name; render(); });
      list.append(b);
    });
  }

  /** One provider's set-up: its fields, credentials, Test connection and Use as default. */
  function providerDetail(p) {
    const box = $('s-provider-detail');
    box.replaceChildren();
    if (!p) { box.append(k.el('p', 'note', t('pickProvider'))); return; }
    const sec = k.el('section', 'provider-box');
    sec.id = `s-provider-${p.name}`;
    sec.append(k.el('h3', null, p.title));
    const intro = t(`intro.${p.name}`);
    if (intro !== `intro.${p.name}`) sec.append(k.el('p', 'note', intro));
    const main = k.el('div', 'fields');
    const advanced = k.el('div', 'fields');
    p.fields.forEach((f) => (ADVANCED.has(leaf(f.key)) ? advanced : main).append(settingField(f)));
    sec.append(main);
    sec.append(k.el('h4', null, t('credentials')));
    const secrets = k.el('div', 'fields');
    p.secrets.forEach((s) => secrets.append(secretField(p, s)));
    sec.append(secrets);
    const fold = k.el('details', 'advanced');
    fold.id = `s-advanced-${p.name}`;
    fold.open = state.advancedOpen.has(p.name);
    fold.addEventListener('toggle', () => {
      if (fold.open) state.advancedOpen.add(p.name); else state.advancedOpen.delete(p.name);
    });
    fold.append(k.el('summary', null, t('advanced')), k.el('p', 'note', t('advancedText')), advanced);
    sec.append(fold);
    const row = k.el('div', 'row provider-actions');
    const test = k.el('button', 'primary', t('testConnection'));
    test.type = 'button';
    test.id = `s-test-${p.name}`;
    const def = k.el('button', 'ghost', p.default ? t('isDefault') : t('useAsDefault'));
    def.type = 'button';
    def.id = `s-default-${p.name}`;
    def.disabled = p.default;
    const out = k.el('p', 'field-msg');
    out.id = `s-test-out-${p.name}`;
    out.setAttribute('role', 'status');
    test.addEventListener('click', async () => {
      out.className = 'field-msg'; out.textContent = t('testing');
      try {
        const said = await ipc.testConnection(p.name);
        out.className = 'field-msg ok';
        out.textContent = `${t('testPassed', { p: p.title })} ${said}`;
      } catch (e) {
        out.className = 'field-msg error';
        out.textContent = `${k.errorText(e)} ${e.message}`;
      }
    });
    def.addEventListener('click', async () => {
      try {
        await ipc.setSetting('default_provider', p.name);
        state.onChange();
        await render();
      } catch (e) {
        out.className = 'field-msg error';
        out.textContent = k.errorText(e);
      }
    });
    row.append(test, def);
    sec.append(row, out);
    box.append(sec);
  }

  async function renderOperators() {
    const box = $('s-operators');
    try {
      await window.kassaOperators.manage(box);
    } catch (e) {
      box.replaceChildren(k.el('p', 'form-error', k.errorText(e)));
    }
  }

  function showPane(name) {
    state.pane = name;
    ['providers', 'shop', 'products'].forEach((p) => {
      $(`pane-${p}`).hidden = p !== name;
      const tab = $(`stab-${p}`);
      tab.setAttribute('aria-selected', String(p === name));
      tab.classList.toggle('current', p === name);
    });
  }

  async function render() {
    // A redraw asked later wins over one whose answer comes late.
    const mine = ++state.drawn;
    const v = await ipc.settingsView();
    if (mine !== state.drawn) return;
    state.view = v;
    $('s-keyring').hidden = !v.keyring_error;
    $('s-keyring').textContent = v.keyring_error ? t('keyringProblem', { m: v.keyring_error }) : '';
    const byKey = Object.fromEntries(v.shop.map((f) => [f.key, f]));
    const fill = (id, keys) => {
      const box = $(id);
      box.replaceChildren();
      keys.filter((key) => byKey[key]).forEach((key) => box.append(settingField(byKey[key])));
    };
    fill('s-shop', SHOP);
    fill('s-till', TILL);
    fill('s-shop-advanced', v.shop.map((f) => f.key).filter((key) => !SHOP.includes(key) && !TILL.includes(key)));
    if (!state.provider || !v.providers.some((p) => p.name === state.provider)) {
      const first = v.providers.find((p) => p.default) || v.providers.find((p) => p.ready);
      state.provider = first ? first.name : null;
    }
    providerList(v);
    providerDetail(v.providers.find((p) => p.name === state.provider));
    renderOperators();
    const rows = $('product-rows');
    rows.replaceChildren();
    v.products.forEach((p) => {
      const tr = k.el('tr');
      const del = k.el('button', 'ghost small danger', '✕');
      del.type = 'button'; del.title = t('remove'); del.setAttribute('aria-label', `${t('remove')} ${p.name}`);
      del.addEventListener('click', async () => { await ipc.removeProduct(p.sku).catch(() => {}); render(); state.onChange(); });
      const actions = k.el('td', 'actions');
      actions.append(del);
      const fav = k.cell(p.favourite ? '★' : '', 'fav');
      if (p.favourite) fav.title = t('quickKeyShort');
      // A click on the row refills the form to change it (the SKU is the key).
      tr.addEventListener('click', (e) => {
        if (e.target.closest('button')) return;
        $('p-sku').value = p.sku; $('p-name').value = p.name; $('p-price').value = p.unit_price_input;
        $('p-vat').value = p.vat_rate; $('p-favourite').checked = p.favourite;
        $('p-name').focus();
      });
      tr.append(k.cell(p.sku), k.cell(p.name), k.cell(p.unit_price, 'num'), k.cell(`${p.vat_rate} %`, 'num'), fav, actions);
      rows.append(tr);
    });
    const vat = $('p-vat');
    vat.replaceChildren();
    k.info.vat_rates.forEach((r) => { const o = k.el('option', null, `${r} %`); o.value = r; vat.append(o); });
    showPane(state.pane);
  }

  async function saveProduct(ev) {
    ev.preventDefault();
    const ids = { sku: 'p-sku', name: 'p-name', unit_price: 'p-price', vat_rate: 'p-vat' };
    Object.values(ids).forEach((id) => $(id).classList.remove('invalid'));
    try {
      await ipc.saveProduct({
        sku: $('p-sku').value, name: $('p-name').value, unit_price: $('p-price').value, vat_rate: $('p-vat').value,
        favourite: $('p-favourite').checked,
      });
      $('product-form').reset();
      $('p-error').textContent = '';
      await render();
      state.onChange();
      $('p-sku').focus();
    } catch (e) {
      (e.problems || []).forEach((p) => { const el = $(ids[p.path]); if (el) el.classList.add('invalid'); });
      $('p-error').textContent = (e.problems && e.problems.length)
        ? e.problems.map((p) => `${p.path}: ${p.reason}`).join(' · ') : k.errorText(e);
    }
  }

  return {
    show(pane) {
      if (!state.started) {
        state.started = true;
        $('product-form').addEventListener('submit', saveProduct);
        ['providers', 'shop', 'products'].forEach((p) => $(`stab-${p}`).addEventListener('click', () => showPane(p)));
      }
      if (pane) state.pane = pane;
      render().catch((e) => { $('s-keyring').hidden = false; $('s-keyring').textContent = `${k.errorText(e)} ${e.message}`; });
    },
    relabel() { if (state.started && !$('view-settings').hidden) render(); },
    /** The part the next `show` opens on. */
    setPane(pane) { state.pane = pane; },
    onChange(f) { state.onChange = f; },
  };
})();
