// A receipt as the journal holds it (the core's receipt model, laid out once in Rust: no
// receipt layout here), with Print and Save PDF. The first print or PDF is the original; after
// it the buttons make the one copy (marked KOPI, journaled), which staff confirm first.
'use strict';
window.kassaReceipt = (() => {
  const ipc = window.kassaIpc;
  const k = window.kassa;
  const t = (key, vars) => k.t(key, vars);

  /**
   * Fills `box` with receipt `operation` (null: the sales receipt) of session `id`: the
   * paper as it prints, the buttons and a note. `prefix` makes the element ids unique
   * (`paid`, `h`). Resolves once the receipt is shown; a session with no receipt shows the
   * reason instead.
   */
  async function render(box, id, operation, prefix) {
    // A newer render of the same box wins over an answer still on its way.
    const token = String(Date.now() + Math.random());
    box.dataset.token = token;
    box.replaceChildren();
    const paper = k.el('pre', 'receipt-paper');
    paper.id = `${prefix}-receipt-paper`;
    paper.setAttribute('aria-label', t('receiptTitle'));
    const row = k.el('div', 'receipt-actions');
    const print = k.el('button', 'ghost');
    print.type = 'button'; print.id = `${prefix}-print-receipt`;
    const pdf = k.el('button', 'ghost');
    pdf.type = 'button'; pdf.id = `${prefix}-save-receipt-pdf`;
    row.append(print, pdf);
    const note = k.el('p', 'note');
    note.id = `${prefix}-receipt-note`;
    note.setAttribute('role', 'status');
    const side = k.el('div', 'receipt-side');
    side.append(row, note);
    box.append(paper, side);
    let r;
    try {
      r = await ipc.receipt(id, operation);
      if (box.dataset.token !== token) return;
    } catch (e) {
      if (box.dataset.token !== token) return;
      paper.hidden = true; row.hidden = true;
      note.textContent = k.errorText(e);
      return;
    }
    paper.textContent = r.lines.join('\n');
    // Once the original is out, what the buttons make is the copy; staff confirm it.
    let copy = !!r.issued;
    let armed = null;
    const label = () => {
      print.textContent = t(copy ? (armed === 'print' ? 'printCopyConfirm' : 'printCopy') : 'printReceipt');
      pdf.textContent = t(copy ? (armed === 'pdf' ? 'pdfCopyConfirm' : 'pdfCopy') : 'saveReceiptPdf');
    };
    label();
    if (copy) note.textContent = t('receiptIssued', { how: r.issued });
    const run = async (which, call, done) => {
      if (copy && armed !== which) { armed = which; label(); note.textContent = t('copyExplain'); return; }
      print.disabled = true; pdf.disabled = true;
      note.classList.remove('form-error');
      try {
        const out = await call(copy);
        note.textContent = done(out);
        copy = true; armed = null;
      } catch (e) {
        note.classList.add('form-error');
        note.textContent = k.errorText(e);
        if (e.code === 'receipt_issued') { copy = true; armed = null; }
        if (e.code === 'copy_exists') { print.hidden = true; pdf.hidden = true; }
      } finally {
        print.disabled = false; pdf.disabled = false;
        label();
      }
    };
    print.addEventListener('click', () => run('print', (c) => ipc.printReceipt(id, operation, c),
      (out) => t(out.copy_seq ? 'copyPrinted' : 'receiptPrinted', { n: out.number })));
    pdf.addEventListener('click', () => run('pdf', (c) => ipc.saveReceiptPdf(id, operation, c),
      (out) => t('receiptSaved', { n: out.receipt.number, path: out.path })));
  }

  return { render };
})();
