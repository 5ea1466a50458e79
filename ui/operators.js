// Who is at the till. With no operator configured Kassa runs as the owner and this shows
// nothing. Once operators exist: a PIN at start (the till sells nothing until someone logs
// in), "switch operator" in the top bar, and a manager's PIN on the spot when a cashier does
// what needs a manager (a refund, a void, a staff verdict), good for that one action. PINs go
// straight to the backend, which checks them against their Argon2 hashes; none is kept here.
// Settings → Shop details lists the operators and lets a manager add (the PIN typed twice)
// and remove them (`manage`); the core checks the fields, the role and journals the change.
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

  /** Reads who is at the till and who can log in again; asks for a PIN when nobody is. */
  async function reload() {
    const st = await ipc.operatorsState();
    current = st.current;
    operators = st.operators;
    renderChip();
    if (!current && operators.length) await ask('login');
  }

  /** One labelled field of the add form with its message beside it (the core's problem). */
  function field(id, labelKey, input) {
    const wrap = k.el('label', 'setting');
    wrap.append(k.el('span', 'setting-label', t(labelKey)));
    input.id = id;
    const msg = k.el('span', 'field-msg');
    msg.id = `${id}-msg`;
    msg.setAttribute('aria-live', 'polite');
    input.setAttribute('aria-describedby', msg.id);
    wrap.append(input, msg);
    return wrap;
  }

  /**
   * Settings → Shop details: the operators, each with Remove (pressed twice), and the form to
   * add one. Only a manager may do either: a cashier is asked for a manager's PIN on the spot.
   */
  async function manage(box) {
    const st = await ipc.operatorsState();
    const list = st.operators;
    const out = k.el('p', 'field-msg');
    out.id = 'op-manage-out';
    out.setAttribute('role', 'status');
    const redraw = async (said) => {
      await manage(box);
      if (said) { $('op-manage-out').className = 'field-msg ok'; $('op-manage-out').textContent = said; }
    };
    const parts = [];
    if (!list.length) parts.push(k.el('p', 'note', t('noOperators')));
    const ul = k.el('ul', 'operators');
    ul.id = 'op-list';
    list.forEach((o) => {
      const li = k.el('li');
      li.append(k.el('span', null, `${o.id} · ${o.name} (${t(`role.${o.role}`)})`));
      const del = k.el('button', 'ghost small danger', t('removeOperator'));
      del.type = 'button';
      del.id = `op-remove-${o.id}`;
      del.setAttribute('aria-label', t('removeOperatorNamed', { name: o.name }));
      // Pressed twice: a removal cannot be undone from here.
      let armed = false;
      del.addEventListener('click', async () => {
        if (!armed) {
          armed = true;
          del.textContent = t('removeOperatorAgain', { name: o.name });
          return;
        }
        try {
          const gone = await withManager(() => ipc.removeOperator(o.id));
          await reload();
          await redraw(t('operatorRemoved', { name: gone.name, id: gone.id }));
        } catch (e) {
          out.className = 'field-msg error';
          out.textContent = k.errorText(e);
        }
      });
      li.append(del);
      ul.append(li);
    });
    if (list.length) parts.push(ul);

    const form = k.el('form', 'op-add');
    form.id = 'op-add-form';
    form.noValidate = true;
    form.autocomplete = 'off';
    form.append(k.el('h4', null, t('addOperator')));
    const name = k.el('input');
    name.maxLength = 100;
    const role = k.el('select');
    ['cashier', 'manager'].forEach((r) => {
      const o = k.el('option', null, t(`role.${r}`));
      o.value = r;
      role.append(o);
    });
    // The first operator must be a manager (someone has to be able to add the others).
    role.value = list.length ? 'cashier' : 'manager';
    const pin = k.el('input');
    const again = k.el('input');
    [pin, again].forEach((p) => { p.type = 'password'; p.inputMode = 'numeric'; p.autocomplete = 'new-password'; p.maxLength = 16; });
    const fields = k.el('div', 'fields');
    fields.append(field('op-name', 'operatorName', name), field('op-role', 'operatorRole', role),
      field('op-pin', 'newPin', pin), field('op-pin-again', 'pinAgain', again));
    const add = k.el('button', 'primary', t('addOperator'));
    add.type = 'submit';
    add.id = 'op-add';
    form.append(fields, add);
    const inputs = { name, pin, pin_again: again };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      Object.entries(inputs).forEach(([path, el]) => {
        el.classList.remove('invalid');
        $(`${el.id}-msg`).textContent = '';
      });
      out.textContent = '';
      // The PINs leave the form at once: they are not kept here, whatever the answer.
      const typed = [pin.value, again.value];
      pin.value = ''; again.value = '';
      try {
        const added = await withManager(() => ipc.addOperator(name.value, role.value, typed[0], typed[1]));
        await reload();
        await redraw(t('operatorAdded', { name: added.name, id: added.id }));
      } catch (e) {
        const problems = e.problems || [];
        problems.forEach((p) => {
          const el = inputs[p.path];
          if (!el) return;
          el.classList.add('invalid');
          const msg = $(`${el.id}-msg`);
          msg.className = 'field-msg error';
          msg.textContent = k.problemText(p);
        });
        if (!problems.length) { out.className = 'field-msg error'; out.textContent = k.errorText(e); }
        const first = problems.map((p) => inputs[p.path]).find(Boolean);
        (first || name).focus();
      }
    });
    parts.push(form, out, k.el('p', 'note', t('operatorsHelp')));
    box.replaceChildren(...parts);
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

  return { init, withManager, manage, refreshTexts: renderChip };
})();
