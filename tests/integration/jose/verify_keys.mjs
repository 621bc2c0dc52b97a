// Verifies one node's records across its key rotations with the `jose` npm package:
//   node verify_keys.mjs KEYS_JSON RECORDS_FILE
// KEYS_JSON: the node's keys in the order the receiver registered them (fleet-receiver nodes
// list --json, .keys); RECORDS_FILE: its records in chain order, one compact JWS a line. Each
// record must verify with the key its kid names, and that key must be the node's current one:
// only a key_rotate moves to the next key, and its proof (typ fleet-key-proof+jws) must verify
// with that next key and claim this node, the old kid, the new kid and the record's t.
import { readFileSync } from 'node:fs';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';

const [keysFile, recordsFile] = process.argv.slice(2);
const keys = JSON.parse(readFileSync(keysFile, 'utf8'));
const imported = new Map();
for (const k of keys) {
  imported.set(k.kid, await importJWK({ kty: k.jwk.kty, crv: k.jwk.crv, x: k.jwk.x }, 'EdDSA'));
}
const text = new TextDecoder();
const lines = readFileSync(recordsFile, 'utf8').split('\n').filter((l) => l.length > 0);
let current = 0;
let n = 0;
for (const line of lines) {
  n++;
  const { kid } = decodeProtectedHeader(line);
  const index = keys.findIndex((k) => k.kid === kid);
  if (index !== current) throw new Error(`record ${n}: kid ${kid} is key ${index}, not the current key ${current}`);
  const { payload, protectedHeader } = await compactVerify(line, imported.get(kid), { algorithms: ['EdDSA'] });
  if (protectedHeader.typ !== 'fleet-record+jws') throw new Error(`record ${n}: typ ${protectedHeader.typ}`);
  const record = JSON.parse(text.decode(payload));
  if (record.type !== 'key_rotate') continue;
  const next = keys[current + 1];
  if (!next || record.new_jwk.kid !== next.kid || record.new_jwk.x !== next.jwk.x) {
    throw new Error(`record ${n}: a key_rotate to ${record.new_jwk.kid}, not the next registered key`);
  }
  const proof = await compactVerify(record.proof, imported.get(next.kid), { algorithms: ['EdDSA'] });
  const claims = JSON.parse(text.decode(proof.payload));
  if (proof.protectedHeader.typ !== 'fleet-key-proof+jws' || claims.node !== record.node ||
      claims.old_kid !== kid || claims.new_kid !== next.kid || claims.t !== record.t) {
    throw new Error(`record ${n}: the proof claims ${JSON.stringify(claims)}`);
  }
  console.log(`record ${n}: key_rotate ${kid} -> ${next.kid}, both signatures verified`);
  current++;
}
if (current !== keys.length - 1) throw new Error(`the records reach key ${current} of ${keys.length}`);
console.log(`jose verified ${n} records over ${keys.length} keys`);
