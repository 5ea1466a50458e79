// What Kassa's web page keeps over a day of demo sales, read without WebDriver (issue #25).
//
// Starts the Kassa binary with WebKitGTK's remote inspector (WEBKIT_INSPECTOR_HTTP_SERVER) and
// drives demo sales through the inspector protocol's Runtime.evaluate: the same steps as
// benches/desktop.rs (a line, a QR charge, paid on the demo sandbox over HTTP, the receipt
// printed to a loopback test printer, a new sale, a whole refund every 20th sale). After some of
// the sales it reads the PSS of Kassa's process tree, asks for a full garbage collection
// (Heap.gc), reads it again, and takes a heap snapshot (Heap.snapshot): JavaScript objects by
// class, their count and bytes, to tell what the script heap keeps from what WebKit keeps.
//
//   xvfb-run -a node --experimental-websocket benches/web-heap.mjs target/release/kassa [sales] [out-dir]
//
// Needs a display and a keyring like the app (scripts/kassa.sh bench runs it with both).
// A measurement, not a test: it prints figures and asserts nothing about time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const [bin, salesArg = '500', outArg = 'target/bench/web-heap'] = process.argv.slice(2);
if (!bin) { console.error('usage: web-heap.mjs KASSA_BINARY [SALES] [OUT_DIR]'); process.exit(2); }
const sales = Number(salesArg);
// To split the day's growth between its parts: KASSA_PROBE_REFUND_EVERY=0 makes no refunds
// (no visit to history), KASSA_PROBE_PRINT=0 prints no receipt.
const refundEvery = Number(process.env.KASSA_PROBE_REFUND_EVERY ?? 20);
const printing = process.env.KASSA_PROBE_PRINT !== '0';
const out = path.resolve(outArg);
fs.mkdirSync(out, { recursive: true });
const checkpoints = [1, 10, 100, 200, 300, 400, 500, 1000].filter((n) => n <= sales);
if (checkpoints.at(-1) !== sales) checkpoints.push(sales);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The receipt printer: counts receipts that arrived whole (ending with the cut, GS V).
let printed = 0;
const printer = net.createServer((s) => {
  const parts = [];
  s.on('data', (b) => parts.push(b));
  s.on('end', () => { if (Buffer.concat(parts).includes(Buffer.from([0x1d, 0x56]))) printed += 1; });
});
await new Promise((r) => printer.listen(0, '127.0.0.1', r));
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-web-heap-'));
fs.writeFileSync(path.join(data, 'settings.json'), JSON.stringify({ 'printer.url': `tcp://127.0.0.1:${printer.address().port}` }));
const port = await new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const app = spawn(bin, [], {
  env: { ...process.env, KASSA_DATA_DIR: data, WEBKIT_INSPECTOR_HTTP_SERVER: `127.0.0.1:${port}` },
  stdio: ['ignore', 'ignore', 'inherit'],
});
process.on('exit', () => { try { app.kill('SIGTERM'); } catch (_) {} });

// ---- process tree and PSS ----
function processes() {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      return [{ pid: Number(pid), comm: stat.slice(stat.indexOf('(') + 1, close), ppid: Number(stat.slice(close + 2).split(' ')[1]) }];
    } catch (_) { return []; }
  });
}
function pss() {
  const all = processes();
  const tree = all.filter((p) => p.pid === app.pid);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((p) => p.ppid === tree[i].pid));
  const parts = {};
  let total = 0;
  let anon = 0;
  const anonParts = {};
  for (const p of tree) {
    try {
      const rollup = fs.readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
      const kib = Number(/^Pss:\s+(\d+)/m.exec(rollup)[1]);
      parts[p.comm] = (parts[p.comm] || 0) + kib;
      total += kib;
      // Anonymous memory is the process's own (heaps, caches): unlike PSS it does not move
      // when other programs map the same libraries.
      const a = Number(/^Anonymous:\s+(\d+)/m.exec(rollup)[1]);
      anonParts[p.comm] = (anonParts[p.comm] || 0) + a;
      anon += a;
    } catch (_) { /* gone */ }
  }
  return { total, parts, anon, anonParts };
}
const mb = (kib) => (kib * 1024 / 1e6).toFixed(1);

// ---- the inspector: one page target, messages wrapped for it ----
let ws;
for (let i = 0; ; i++) {
  try {
    const html = await (await fetch(`http://127.0.0.1:${port}/`)).text();
    const m = /ws=' \+ window\.location\.host \+ '([^']+)'/.exec(html);
    if (m) { ws = new WebSocket(`ws://127.0.0.1:${port}${m[1]}`); break; }
  } catch (_) { /* not listening yet */ }
  if (i > 200) throw new Error('no inspectable Kassa page');
  await sleep(100);
}
let target;
let next = 1;
const listeners = new Set();
const pending = new Map();
const targetReady = new Promise((resolve) => {
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.method === 'Target.targetCreated') { target = msg.params.targetInfo.targetId; resolve(); }
    if (msg.method === 'Target.dispatchMessageFromTarget') {
      const inner = JSON.parse(msg.params.message);
      if (inner.method) { for (const l of listeners) l(inner); return; }
      const p = pending.get(inner.id);
      if (p) { pending.delete(inner.id); inner.error ? p.reject(new Error(JSON.stringify(inner.error))) : p.resolve(inner.result); }
    }
  };
});
await new Promise((r) => { ws.onopen = r; });
await targetReady;
function send(method, params = {}) {
  const id = next++;
  ws.send(JSON.stringify({ id: 100000 + id, method: 'Target.sendMessageToTarget', params: { targetId: target, message: JSON.stringify({ id, method, params }) } }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
let steps = 0;
async function evaluate(body) {
  // WebKit's Runtime.evaluate does not wait for a promise (and Runtime.awaitPromise did not find
  // the promise's injected script here): the step keeps its outcome in the page, read back by
  // value every 20 ms, then dropped.
  const n = steps++;
  const start = `(window.__kassaSteps = window.__kassaSteps || {}, (async () => { ${body} })()
    .then((v) => { window.__kassaSteps[${n}] = { v }; }, (e) => { window.__kassaSteps[${n}] = { e: String(e && e.message || e) }; }), 0)`;
  const p = await send('Runtime.evaluate', { expression: start, returnByValue: true });
  if (p.wasThrown) throw new Error(p.result.description);
  for (;;) {
    const r = await send('Runtime.evaluate', { expression: `(() => { const o = (window.__kassaSteps || {})[${n}]; if (o) delete window.__kassaSteps[${n}]; return o; })()`, returnByValue: true });
    if (r.wasThrown) throw new Error(r.result.description);
    const o = r.result.value;
    if (o && 'e' in o) throw new Error(o.e);
    if (o) return o.v;
    await sleep(20);
  }
}

// ---- the day's steps, as in benches/desktop.rs ----
const HELPERS = `
  window.__kassaDay = window.__kassaDay || {
    until(f, what, ms = 15000) {
      const t0 = performance.now();
      return new Promise((resolve, reject) => {
        const tick = () => {
          let v = null;
          try { v = f(); } catch (_) { v = null; }
          if (v) resolve(v);
          else if (performance.now() - t0 > ms) reject(new Error('the page never got to: ' + what));
          else setTimeout(tick, 10);
        };
        tick();
      });
    },
    shown: (id) => { const e = document.getElementById(id); return e && e.offsetParent !== null; },
  };`;
const PRELUDE = 'const d = window.__kassaDay, $ = (id) => document.getElementById(id);';
const saleToQr = (name) => `${PRELUDE}
  const before = document.querySelectorAll('#cart-lines tr').length;
  $('f-name').value = ${JSON.stringify(name)}; $('f-qty').value = '1'; $('f-price').value = '49,90';
  $('f-vat').value = '25'; $('line-form').requestSubmit();
  await d.until(() => document.querySelectorAll('#cart-lines tr').length === before + 1 && !$('charge').disabled, 'the line in the cart');
  const old = $('qr').firstElementChild;
  $('charge').click();
  await d.until(() => d.shown('choose'), 'the charge dialog');
  const qr = document.querySelector('input[name=presentation][value=qr]');
  if (!qr.checked) qr.click();
  $('start-charge').click();
  return await d.until(() => { const q = $('qr'); return q.offsetParent !== null && q.firstElementChild && q.firstElementChild !== old ? $('link-text').value : null; }, 'the QR');`;
const PAID_PRINT_NEW_SALE = `${PRELUDE} const printReceipt = ${printing};
  await d.until(() => d.shown('paid'), 'the paid screen');
  const print = await d.until(() => { const b = $('paid-print-receipt'); return b && b.offsetParent !== null && !b.disabled && b.textContent ? b : null; }, 'the receipt with its Print button');
  d.last = $('paid-receipt').dataset.session;
  if (!printReceipt) { $('paid-new-sale').click(); await d.until(() => document.querySelectorAll('#cart-lines tr').length === 0 && $('checkout').hidden, 'an empty cart'); return; }
  print.click();
  const note = await d.until(() => { const n = $('paid-receipt-note'); return n && n.textContent && !print.disabled ? n : null; }, 'the print answered');
  if (note.classList.contains('form-error')) throw new Error('printing failed: ' + note.textContent);
  $('paid-new-sale').click();
  await d.until(() => document.querySelectorAll('#cart-lines tr').length === 0 && $('checkout').hidden, 'an empty cart');`;
const REFUND_LAST = `${PRELUDE}
  const id = d.last;
  $('tab-history').click();
  const row = await d.until(() => document.querySelector('#history-rows tr[data-id="' + id + '"] td'), 'the sale in history');
  row.click();
  const refund = await d.until(() => d.shown('h-refund') && $('h-refund'), 'the Refund button');
  refund.click();
  const confirm = await d.until(() => $('refund-dialog').open && !$('rf-confirm').disabled && $('rf-confirm'), 'the refund preview');
  confirm.click();
  await d.until(() => !$('refund-dialog').open || ($('rf-error') && $('rf-error').textContent), 'the refund done');
  if ($('refund-dialog').open) throw new Error('refund failed: ' + $('rf-error').textContent);
  $('tab-counter').click();
  await d.until(() => d.shown('f-name'), 'the counter');`;

async function post(url) {
  const r = await fetch(url, { method: 'POST', redirect: 'manual' });
  if (r.status !== 303) throw new Error(`${url}: ${r.status}`);
}

// ---- a heap snapshot, summarised: objects by class, count and bytes ----
function summarise(snapshot) {
  const s = typeof snapshot === 'string' ? JSON.parse(snapshot) : snapshot;
  // JSC's format (version 2): nodes are [id, size, classNameIndex, flags] tuples.
  const byClass = new Map();
  let count = 0;
  let bytes = 0;
  for (let i = 0; i < s.nodes.length; i += 4) {
    const size = s.nodes[i + 1];
    const name = s.nodeClassNames[s.nodes[i + 2]];
    const e = byClass.get(name) || { count: 0, bytes: 0 };
    e.count += 1; e.bytes += size; byClass.set(name, e);
    count += 1; bytes += size;
  }
  return { count, bytes, byClass };
}

// WebKit's own memory by category (the inspector's Memory domain, WebKit's resource-usage
// thread), in MB. WebKitGTK 2.50 fills in only "javascript" (the JS heap with its free space and
// JIT code) and "other" (the rest of the web process); images, layers and page stay 0. Null
// where the domain does not answer.
async function memoryCategories() {
  let got;
  const update = new Promise((resolve) => { got = resolve; });
  const l = (m) => { if (m.method === 'Memory.trackingUpdate') got(m.params.event); };
  listeners.add(l);
  try {
    await send('Memory.startTracking');
    const ev = await Promise.race([update, sleep(5000).then(() => null)]);
    await send('Memory.stopTracking');
    if (!ev) return null;
    return Object.fromEntries(ev.categories.map((c) => [c.type, +(c.size / 1e6).toFixed(2)]));
  } catch (e) {
    return { error: String(e.message || e) };
  } finally {
    listeners.delete(l);
  }
}

const readings = [];
async function checkpoint(sale) {
  await sleep(2000);
  const before = pss();
  await send('Heap.gc');
  await sleep(2000);
  const after = pss();
  const r = await send('Heap.snapshot');
  const summary = summarise(r.snapshotData);
  fs.writeFileSync(path.join(out, `heap-${sale}.json`), r.snapshotData);
  const elements = await evaluate('return document.getElementsByTagName("*").length;');
  const categories = await memoryCategories();
  readings.push({ sale, before, after, summary, elements, categories });
  if (categories) console.error(`  ${sale} sales: WebKit's memory by category: ${JSON.stringify(categories)}`);
  console.error(`  ${sale} sales: PSS ${mb(before.total)} MB, after GC ${mb(after.total)} MB, anonymous ${mb(after.anon)} MB (${Object.entries(after.anonParts).map(([k, v]) => `${k} ${mb(v)}`).join(' · ')}); JS heap ${(summary.bytes / 1e6).toFixed(2)} MB in ${summary.count} objects; ${elements} elements`);
}

await send('Runtime.enable');
// The inspector can answer before the page has loaded (into the window that is replaced then).
for (let i = 0; ; i++) {
  const r = await send('Runtime.evaluate', { expression: "document.readyState === 'complete' && !!document.getElementById('f-name')", returnByValue: true });
  if (r.result.value === true) break;
  if (i > 1500) throw new Error('the counter never loaded');
  await sleep(20);
}
await sleep(2000);
await evaluate(`${HELPERS} await window.__kassaDay.until(() => window.__kassaDay.shown('f-name'), 'the counter', 30000); return 1;`);
await send('Heap.enable');
// How the page's start went (ms since its navigation began): the document, each file it loaded.
const started = await evaluate(`const n = performance.getEntriesByType('navigation')[0] || {};
  return { responseEnd: n.responseEnd, domInteractive: n.domInteractive, domContentLoaded: n.domContentLoadedEventEnd, load: n.loadEventEnd,
    files: performance.getEntriesByType('resource').map((r) => [r.name.replace(/^.*\\//, ''), Math.round(r.startTime), Math.round(r.duration)]) };`);
await checkpoint(0);
const began = Date.now();
let refunds = 0;
for (let i = 1; i <= sales; i++) {
  const url = await evaluate(saleToQr(`Vare ${i}`));
  const [origin, id] = url.split('/dintero/v1/view/');
  await post(`${origin}/dintero/v1/view/${id}/pay`);
  await evaluate(PAID_PRINT_NEW_SALE);
  if (refundEvery && i % refundEvery === 0) { await evaluate(REFUND_LAST); refunds += 1; }
  if (checkpoints.includes(i)) await checkpoint(i);
  else if (i % 50 === 0) console.error(`  ${i} sales`);
}
const wall = (Date.now() - began) / 1000;
await sleep(1000);

// ---- the report ----
// From sale 100 (after the warm-up) when the day is long enough.
const first = readings.find((r) => r.sale === 100 && r !== readings.at(-1)) || readings.find((r) => r.sale === 1) || readings[0];
const last = readings.at(-1);
let md = `## What the page keeps: ${sales} sales without WebDriver${printing ? '' : ', no printing'}${refundEvery ? '' : ', no refunds'} (${refunds} refunds, ${printed} receipts printed, ${wall.toFixed(0)} s)\n\n`;
md += '| after sale | PSS, MB | after a full GC, MB | anonymous after GC, MB | anonymous by process, MB | JS heap, MB | JS objects | elements |\n|---|---|---|---|---|---|---|---|\n';
for (const r of readings) {
  md += `| ${r.sale} | ${mb(r.before.total)} | ${mb(r.after.total)} | ${mb(r.after.anon)} | ${Object.entries(r.after.anonParts).map(([k, v]) => `${k} ${mb(v)}`).join(' · ')} | ${(r.summary.bytes / 1e6).toFixed(2)} | ${r.summary.count} | ${r.elements} |\n`;
}
const diff = [...last.summary.byClass.entries()].map(([name, e]) => {
  const f = first.summary.byClass.get(name) || { count: 0, bytes: 0 };
  return { name, count: e.count - f.count, bytes: e.bytes - f.bytes, total: e.count };
}).filter((d) => d.count !== 0 || d.bytes !== 0).sort((a, b) => Math.abs(b.bytes) - Math.abs(a.bytes)).slice(0, 25);
md += `\nJavaScript objects that grew from sale ${first.sale} to sale ${last.sale} (after a full GC each time):\n\n| class | objects | bytes | objects at the end |\n|---|---|---|---|\n`;
for (const d of diff) md += `| ${d.name} | ${d.count > 0 ? '+' : ''}${d.count} | ${d.bytes > 0 ? '+' : ''}${d.bytes} | ${d.total} |\n`;
md += `\nThe page's start (ms since its navigation began): document received ${started.responseEnd?.toFixed(0)}, DOM interactive ${started.domInteractive?.toFixed(0)}, DOMContentLoaded done ${started.domContentLoaded?.toFixed(0)}, load done ${started.load?.toFixed(0)}; files (start, duration): ${started.files.map(([n, s, d]) => `${n} ${s}+${d}`).join(', ')}.\n`;
md += `\nReceipts at the test printer: ${printed} of ${sales}.\n`;
fs.writeFileSync(path.join(out, 'web-heap.md'), md);
process.stdout.write(md);
ws.close();
app.kill('SIGTERM');
printer.close();
fs.rmSync(data, { recursive: true, force: true });
process.exit(printed === (printing ? sales : 0) ? 0 : 1);
