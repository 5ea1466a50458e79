// Helpers the screens share: texts, elements, times, and cashier-friendly error texts.
'use strict';
window.kassa = (() => {
  const k = { lang: 'en', info: null };
  k.$ = (id) => document.getElementById(id);
  k.t = (key, vars) => {
    const texts = window.kassaTexts;
    let s = (texts[k.lang] && texts[k.lang][key]) || texts.en[key] || key;
    Object.entries(vars || {}).forEach(([n, v]) => { s = s.replace(`{${n}}`, v); });
    return s;
  };
  /** An element with optional class and text. */
  k.el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  };
  k.cell = (text, cls) => k.el('td', cls, text);
  /** The UI's languages (the top bar's button goes round them) and their Intl locales. */
  k.LANGS = ['nb', 'sv', 'da', 'en'];
  const INTL = { nb: 'nb-NO', sv: 'sv-SE', da: 'da-DK', en: 'en-GB' };
  k.langOf = (locale) => (k.LANGS.includes(locale) ? locale : 'en');
  /** Shows the core's QR code (its SVG text) in `el` as inline SVG, named `label` for a screen
   * reader. Not as an <img> of a data URL: WebKit keeps the URL of every SVG image a page has
   * shown for as long as the page lives (its CachedResourceLoader's list of SVG images), so each
   * sale's QR stayed in the web process, 6 KB a sale (BENCHMARKS.md, 2026-12-05, ninth
   * session). It is parsed in one kept <template> (inert: nothing in it loads or runs; a
   * DOMParser would make a document per sale, which grew the web process faster still). Only
   * the elements the core draws with, without event handlers, are taken; anything else shows
   * no code. */
  const QR_PARTS = new Set(['svg', 'rect', 'path', 'image']);
  const qrParser = document.createElement('template');
  const shownQr = new WeakMap();
  k.showQr = (el, svgText, label) => {
    el.setAttribute('aria-label', label);
    if (shownQr.get(el) === svgText) return;
    qrParser.innerHTML = svgText;
    const parts = [...qrParser.content.querySelectorAll('*')];
    const ours = parts.length > 0 && parts[0].localName === 'svg'
      && parts.every((e) => QR_PARTS.has(e.localName) && ![...e.attributes].some((a) => a.name.startsWith('on')));
    el.replaceChildren(...(ours ? [parts[0]] : []));
    qrParser.content.replaceChildren();
    shownQr.set(el, svgText);
  };
  k.clearQr = (el) => {
    el.replaceChildren();
    el.setAttribute('aria-label', '');
    shownQr.delete(el);
  };
  /** Runs the script `src` once: the first call adds it, later ones wait for the same load.
   * Scripts added together run in the order they were added (`async` off). A file that fails
   * to load resolves too: what it defines is then missing, and its callers say so. */
  const loading = {};
  k.load = (src) => {
    if (!loading[src]) {
      loading[src] = new Promise((resolve) => {
        const s = document.createElement('script');
        s.src = src;
        s.async = false;
        s.onload = s.onerror = resolve;
        document.head.append(s);
      });
    }
    return loading[src];
  };
  /**
   * Makes `lang` the UI's language once its texts are there: nb and en come with i18n.js, sv and
   * da (i18n-sv.js, i18n-da.js) load the first time they are chosen, so a start in nb or en
   * fetches and runs neither.
   */
  k.setLang = (lang) => (window.kassaTexts[lang] ? Promise.resolve() : k.load(`i18n-${lang}.js`))
    .then(() => { k.lang = lang; });
  /** The screens other than the counter (and the receipt a sale shows when paid) load the first
   * time they are needed, each with what it uses: the start runs none of their ~60 KB. */
  const SCREENS = {
    receipt: ['receipt.js'],
    history: ['receipt.js', 'after-sale.js', 'history.js'],
    settings: ['settings.js'],
    links: ['links.js'],
  };
  k.screen = (name) => Promise.all(SCREENS[name].map(k.load));
  k.nextLang = () => k.LANGS[(k.LANGS.indexOf(k.lang) + 1) % k.LANGS.length];
  /** Fills `tbody` with VAT rows as the core formats them: rate, net, VAT, gross. */
  k.vatRows = (tbody, rows) => {
    tbody.replaceChildren(...(rows || []).map((r) => {
      const tr = k.el('tr');
      tr.append(k.cell(`${r.vat_rate} %`), k.cell(r.net, 'num'), k.cell(r.vat, 'num'), k.cell(r.gross, 'num'));
      return tr;
    }));
  };
  /** The page's date formatters, one per language and style, made when first used: making an
   * `Intl.DateTimeFormat` opens ICU's calendar and pattern data afresh, and the receipt of every
   * sale and each row of the history screen showed a time (BENCHMARKS.md, seventh session). */
  const STYLES = { time: { dateStyle: 'short', timeStyle: 'medium' }, clock: { timeStyle: 'short' } };
  const formats = new Map();
  const format = (style, iso) => {
    const key = `${k.lang} ${style}`;
    if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(INTL[k.lang] || 'en-GB', STYLES[style]));
    return formats.get(key).format(new Date(iso));
  };
  /** An RFC 3339 time from the backend in the shop's locale and the till's time zone. */
  k.time = (iso) => (iso ? format('time', iso) : '');
  /** An RFC 3339 time as the clock shows it (HH:MM) in the shop's locale. */
  k.clock = (iso) => (iso ? format('clock', iso) : '');
  k.statusText = (s) => k.t(`status.${s}`);
  /** A session's provider as staff read it: the demo provider is always called out. */
  k.providerLabel = (s) => (s.demo && s.provider !== 'demo' ? `${s.provider} (${k.t('demoLabel')})` : s.provider);
  /** A backend error in a cashier's words (the technical message stays for "details"). */
  k.errorText = (e) => {
    let s = k.codeText(e);
    if (e && e.session_id) s += ` ${k.t('savedInHistory')}`;
    return s;
  };
  /** A field's problem in the UI's language: the core's code (`why.<code>`, with its values),
   * else the core's English text (problems of documents that carry no code). */
  k.problemText = (p) => {
    const key = `why.${p && p.code}`;
    return p.code && window.kassaTexts.en[key] ? k.t(key, p.vars) : p.reason;
  };
  /** The text of a backend error's code alone (for errors shown where the history already is). */
  k.codeText = (e) => {
    const key = `err.${e && e.code}`;
    return window.kassaTexts.en[key] ? k.t(key) : k.t('err.generic');
  };
  k.detailText = (e) => [e && e.message, e && e.code && `[${e.code}]`, e && e.session_id && `session ${e.session_id}`]
    .filter(Boolean).join('\n');
  /** Sets `el[prop]` only when it changes: the same text set again is still a new text node,
   * and WebKit lays the page out again for it (the start draws its texts twice, before and
   * after the shop's settings, mostly the same: BENCHMARKS.md, desktop). */
  k.set = (el, prop, value) => { if (el[prop] !== value) el[prop] = value; };
  k.applyTexts = (root) => {
    (root || document).querySelectorAll('[data-i18n]').forEach((el) => { k.set(el, 'textContent', k.t(el.dataset.i18n)); });
    (root || document).querySelectorAll('[data-i18n-placeholder]').forEach((el) => { k.set(el, 'placeholder', k.t(el.dataset.i18nPlaceholder)); });
    (root || document).querySelectorAll('[data-i18n-title]').forEach((el) => { k.set(el, 'title', k.t(el.dataset.i18nTitle)); });
  };
  return k;
})();
