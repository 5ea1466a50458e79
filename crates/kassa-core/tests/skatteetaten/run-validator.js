// Kassa's harness for Skatteetaten's own signature validator (`signature-validator.js` from the
// public repository Skatteetaten/saf-t, kept beside the clone in ../shared/fiscal/), written for
// the fiscal research (notes §B.4) and run by tests/skatteetaten_validator.rs.
//
// Runs Skatteetaten's signature-validator.js (browser code) unchanged under Node.
// Provides what its page would: the DOM fields it reads/writes, alert(), and the libraries it
// expects as globals (jsrsasign: KJUR, KEYUTIL, hex2b64, b64tohex; jsSHA 2.x; linebrk; and
// lapo's Base64.unarmor / ASN1.decode, which the validator only uses as "is this PEM/DER" checks).
//
// usage: node run-validator.js <validator.js> rsa  <text-file> <private-pem> <public-pem> <signature-b64-file>
//        node run-validator.js <validator.js> hmac <text-file> <key-text> <signature-b64-file>
// Exit 0 only when the validator itself says the signature is OK and its own signature equals ours.
'use strict';
const fs = require('fs');
const vm = require('vm');
const rs = require('jsrsasign');
const jsSHA = require('jssha');

const [validatorPath, method, textFile, ...rest] = process.argv.slice(2);
const fields = { text: fs.readFileSync(textFile, 'utf8'), signature: '', signatureCRS: '', secretKey: '' };
let sigFile;
if (method === 'rsa') {
  fields.metode = 'SHA1withRSA';
  fields.privateKey = fs.readFileSync(rest[0], 'utf8');
  fields.publicKey = fs.readFileSync(rest[1], 'utf8');
  sigFile = rest[2];
} else if (method === 'hmac') {
  fields.metode = 'HmacSHA1';
  fields.privateKey = rest[0];
  fields.publicKey = '';
  sigFile = rest[1];
} else {
  throw new Error('method must be rsa or hmac');
}
const ours = fs.readFileSync(sigFile, 'utf8').trim();

const alerts = [];
const element = (id) => {
  if (!(id in fields)) fields[id] = '';
  return {
    get value() { return fields[id]; },
    set value(v) { fields[id] = v; },
    style: {},
    innerHTML: '',
  };
};
const sandbox = {
  document: { getElementById: element },
  alert: (m) => alerts.push(String(m)),
  KJUR: rs.KJUR,
  KEYUTIL: rs.KEYUTIL,
  hex2b64: rs.hex2b64,
  b64tohex: rs.b64tohex,
  // Tom Wu's linebrk(s, n): the page shows the signature in lines of n characters.
  linebrk: (s, n) => s.match(new RegExp('.{1,' + n + '}', 'g')).join('\n'),
  utf8tob64: (s) => Buffer.from(s, 'utf8').toString('base64'),
  jsSHA,
  Base64: {
    unarmor: (pem) => {
      const m = /-----BEGIN [^-]+-----([A-Za-z0-9+/=\s]+)-----END [^-]+-----/.exec(pem);
      if (!m) throw new Error('not PEM');
      return Buffer.from(m[1].replace(/\s+/g, ''), 'base64');
    },
  },
  ASN1: {
    decode: (der) => {
      if (!rs.ASN1HEX.isASN1HEX(der.toString('hex'))) throw new Error('not DER');
      return {};
    },
  },
  Tipped: { create: () => {} },
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(validatorPath, 'utf8'), sandbox, { filename: validatorPath });

// 1. The validator signs the text itself (RSA_SHA1 / HMAC_SHA1 via genererSignatur).
sandbox.genererSignatur();
const theirs = fields.signature.replace(/\s+/g, '');
// 2. It verifies our signature as "signature from the cash register" (verifySignature).
fields.signatureCRS = ours;
sandbox.verifySignature();

console.log('validator alerts:', JSON.stringify(alerts));
console.log('validator signature equals ours:', theirs === ours);
const ok = theirs === ours && alerts[alerts.length - 1] === 'Signaturen er OK';
console.log(ok ? 'OK' : 'FAILED');
process.exit(ok ? 0 : 1);
