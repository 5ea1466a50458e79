// The UI's one door to the backend. Every call goes through `call`, which returns the command's
// result or throws the backend's `{code, message, problems}` error unchanged.
'use strict';
window.kassaIpc = (() => {
  function rawInvoke(cmd, args) {
    if (window.__TAURI__ && window.__TAURI__.core) return window.__TAURI__.core.invoke(cmd, args);
    if (window.__TAURI_INTERNALS__) return window.__TAURI_INTERNALS__.invoke(cmd, args);
    return Promise.reject({ code: 'no_backend', message: 'Kassa’s backend is not available.' });
  }
  async function call(cmd, args) {
    try {
      return await rawInvoke(cmd, args);
    } catch (e) {
      if (e && typeof e === 'object' && 'code' in e) throw e;
      throw { code: 'ipc', message: String(e) };
    }
  }
  return {
    appInfo: () => call('app_info'),
    entryToLine: (entry, currency) => call('entry_to_line', { entry, currency }),
    parseAmount: (text, currency) => call('parse_amount', { text, currency }),
    quoteCart: (cart) => call('quote_cart', { cart }),
    ready: () => call('ready'),
  };
})();
