// Who is at the till. With no operator configured Kassa runs as the owner and this shows
// nothing. Once operators exist: a PIN at start (the till sells nothing until someone logs
// in), "switch operator" in the top bar, and a manager's PIN on the spot when a cashier does
// what needs a manager (a refund, a void, a staff verdict), good for that one action. PINs go
// straight to the backend, which checks them against their Argon2 hashes; none is kept here.
'use strict';
window.kassaOperators = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const $ = k.$;
  const t = (key, vars) => k.t(key, vars);
  let current = null;
  let operators = [];
  let pending = null; // { mode: 'login' | 'approve', resolve, reject }

  function renderChip() {
    const b = $('switch-operator');
    b.hidden = operators.length === 0;
    b.textContent = current ? t('operatorChip', { name: current.name, id: current.id }) : t('nobodyLoggedIn');
  }

  function open(mode) {
    const approve = mode === 'approve';
    $('login-title').textContent = t(approve ? 'approveTitle' : 'loginTitle');
    $('login-text').textContent = t(approve ? 'approveText' : 'loginText');
    $('login-submit-text').textContent = t(approve ? 'approve' : 'logIn');
    // At start nobody may leave without logging in; an approval can be given up.
    $('login-cancel').hidden = !approve && !current;
    const select = $('login-operator');
    select.replaceChildren(...operators
      .filter((o) => !approve || o.role === 'manager')
      .map((o) => {
        const opt = k.el('option', null, `${o.id} · ${o.name} (${t(`role.${o.role}`)})`);
        opt.value = String(o.id);
        return opt;
      }));
    if (current && !approve) select.value = String(current.id);
    $('login-pin').value = '';
    $('login-error').textContent = '';
    $('login-dialog').showModal();
    $('login-pin').focus();
  }

  async function submit(ev) {
    ev.preventDefault();
    if (!pending) return;
    const id = Number($('login-operator').value);
    const pin = $('login-pin').value;
    $('login-pin').value = '';
    try {
      const who = pending.mode === 'approve' ? await ipc.approve(id, pin) : await ipc.login(id, pin);
      if (pending.mode === 'login') { current = who; renderChip(); }
      const p = pending;
      pending = null;
      $('login-dialog').close();
      p.resolve(who);
    } catch (e) {
      $('login-error').textContent = k.errorText(e);
      $('login-pin').focus();
    }
  }

  function cancel() {
    if (!pending || $('login-cancel').hidden) return;
    const p = pending;
    pending = null;
    $('login-dialog').close();
    p.reject({ code: 'manager_required', message: 'no manager approved it' });
  }

  function ask(mode) {
    return new Promise((resolve, reject) => {
      pending = { mode, resolve, reject };
      open(mode);
    });
  }

  /** Reads who is at the till; asks for a PIN when operators exist and nobody is logged in. */
  async function init() {
    $('login-form').addEventListener('submit', submit);
    $('login-cancel').addEventListener('click', cancel);
    $('login-dialog').addEventListener('cancel', (ev) => { ev.preventDefault(); cancel(); });
    $('switch-operator').addEventListener('click', () => ask('login').catch(() => {}));
    const st = await ipc.operatorsState();
    current = st.current;
    operators = st.operators;
    renderChip();
    if (!current && operators.length) await ask('login');
  }

  /**
   * Runs `action` (a function returning the backend call's promise); when the backend says a
   * manager is needed, asks for a manager's PIN on the spot and runs it once more.
   */
  async function withManager(action) {
    try {
      return await action();
    } catch (e) {
      if (!e || e.code !== 'manager_required' || !operators.length) throw e;
      await ask('approve');
      return action();
    }
  }

  return { init, withManager, refreshTexts: renderChip };
})();
