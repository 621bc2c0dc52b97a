// Verifies fleet-agent records with the `jose` npm package, as any JOSE consumer would:
//   node verify.mjs JWK_FILE RECORDS_FILE
// Prints one line per record (its line, its payload's size) and exits non-zero on the first
// that fails. It reads no record field; protocol/ does (fleet-agent verify, in the same test).
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK, calculateJwkThumbprint } from 'jose';

const [jwkFile, recordsFile] = process.argv.slice(2);
const jwk = JSON.parse(readFileSync(jwkFile, 'utf8'));
const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'EdDSA');
const lines = readFileSync(recordsFile, 'utf8').split('\n').filter((l) => l.length > 0);
let n = 0;
for (const line of lines) {
  const { payload, protectedHeader } = await compactVerify(line, key, { algorithms: ['EdDSA'] });
  if (protectedHeader.typ !== 'fleet-record+jws' || protectedHeader.kid !== jwk.kid) {
    throw new Error(`record ${n + 1}: unexpected header ${JSON.stringify(protectedHeader)}`);
  }
  JSON.parse(new TextDecoder().decode(payload));  // a JSON payload, or this throws
  console.log(`verified record ${n + 1} (${payload.length} bytes)`);
  n++;
}
console.log(`jose verified ${n} records (thumbprint ${await calculateJwkThumbprint(jwk)})`);
