// The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core), against a real receiver over HTTPS (dashboard_browser_test.sh sets it up):
//   node dashboard.mjs CONFIG.json
// CONFIG: {url, month, chromium, out_dir, operator: {id, token, node, jwk_file, state},
//   other: {operator, node, day}, admin_token, report: {up, down, unmeasured, up_late,
//   uptime_percent}, none_day}
// As the operator: the login form (a wrong token first), the fleet page with their node and
// not the other operator's, the node page of the known month (the heat map's cells sum to the
// uptime report's figures), a cell followed to its records (a kid, "verified", a compact JWS
// that jose verifies), the day's NDJSON downloaded and every line verified with jose against
// the node's public JWK, the other operator's node, records and statement refused (404) by
// URL, logout. As the admin: a link checker over every same-origin href reachable from /.
// Prints "ok: ..." or "FAIL: ..." per check (as lib/assert.sh does), the screenshots' paths,
// and exits 1 when a check failed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { compactVerify, importJWK } from 'jose';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const base = config.url;
let failures = 0;
const ok = (what) => console.log(`ok: ${what}`);
const fail = (what) => {
  console.log(`FAIL: ${what}`);
  failures++;
};
const check = (what, condition, seen = '') => (condition ? ok(what) : fail(`${what}${seen === '' ? '' : `: got ${seen}`}`));
const shorten = (value) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 160 ? `${text.slice(0, 160)}...` : text;
};
const eq = (what, expected, actual) =>
  check(`${what} = ${shorten(actual)}`, expected === actual, `${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
const shots = [];
const shot = async (page, name, fullPage = true) => {
  const path = join(config.out_dir, `${name}.png`);
  await page.screenshot({ path, fullPage });
  shots.push(path);
};

const jwk = JSON.parse(readFileSync(config.operator.jwk_file, 'utf8'));
const key = await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'EdDSA');
// Verifies a compact JWS with the node's key: its header's kid, or an error text.
const verify = async (jws) => {
  try {
    const { payload, protectedHeader } = await compactVerify(jws, key, { algorithms: ['EdDSA'] });
    JSON.parse(new TextDecoder().decode(payload));
    return protectedHeader.kid === jwk.kid ? null : `kid ${protectedHeader.kid}, not ${jwk.kid}`;
  } catch (e) {
    return String(e);
  }
};

const browser = await chromium.launch({
  executablePath: config.chromium,
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  await asOperator();
  await linkChecker();
} catch (e) {
  fail(`the browser run stopped: ${e.stack || e}`);
} finally {
  await browser.close();
}
for (const path of shots) console.log(`screenshot: ${path}`);
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);

// Logs in through the form; returns the page (at wherever the form sent it).
async function logIn(context, token, next = '/') {
  const page = await context.newPage();
  const first = await page.goto(`${base}${next}`);
  check(`${next} without a session is sent to the login form (${page.url()})`,
    new URL(page.url()).pathname === '/login' && first.ok(), `${first.status()} at ${page.url()}`);
  eq('the login form has a hidden "next"', 1, await page.locator('form[action="/login"] input[name="next"][type="hidden"]').count());
  await page.fill('form[method="post"][action="/login"] input[name="token"][type="password"]', token);
  const navigated = page.waitForNavigation({ waitUntil: 'load' });
  await page.click('form[action="/login"] button[type="submit"]:has-text("Log in")');
  await navigated;
  return page;
}

async function asOperator() {
  const op = config.operator;
  const other = config.other;
  const context = await browser.newContext({ ignoreHTTPSErrors: true, acceptDownloads: true });
  context.setDefaultTimeout(15000);

  // A wrong token: the form again, saying so, and no session.
  let page = await logIn(context, 'fr_not-a-token-at-all');
  eq('a wrong token stays on the login form', '/login', new URL(page.url()).pathname);
  check('... saying the token is not valid', (await page.textContent('body')).includes('token not valid'));
  check('... and no session cookie', !(await context.cookies()).some((c) => c.name === '__Host-fleet_session'));
  await page.close();

  // The operator's token: the fleet page.
  page = await logIn(context, op.token);
  eq(`logged in as ${op.id}: at the fleet page`, `${base}/`, page.url());
  const cookie = (await context.cookies()).find((c) => c.name === '__Host-fleet_session');
  check('the session cookie is __Host-, HttpOnly, Secure, SameSite=Strict, Path=/',
    cookie && cookie.httpOnly && cookie.secure && cookie.sameSite === 'Strict' && cookie.path === '/',
    JSON.stringify(cookie));
  const fleetHtml = await page.content();
  check(`the fleet page has ${op.id}'s section`, (await page.locator(`section[data-operator="${op.id}"]`).count()) === 1);
  const row = page.locator(`section[data-operator="${op.id}"] table.fleet tr[data-node="${op.node}"]`);
  eq(`... with ${op.node}'s row`, 1, await row.count());
  eq(`... linking to its page`, 1, await row.locator(`a[href="/nodes/${op.node}"]`).count());
  // Its last record is in the known month, long past: silent, or never_seen beyond the 35
  // days node_states.h looks back (the script says which).
  eq(`... ${op.node}'s state`, op.state, await row.getAttribute('data-state'));
  check(`... shown as text`, (await row.textContent()).replace('_', ' ').includes(op.state.replace('_', ' ')));
  check('... with its month-to-date uptime and budget', (await row.locator('td.uptime').count()) === 1 &&
    (await row.locator('td.budget').count()) === 1);
  eq(`no section of ${other.operator}`, 0, await page.locator(`[data-operator="${other.operator}"]`).count());
  eq(`no row of ${other.node}`, 0, await page.locator(`[data-node="${other.node}"]`).count());
  check(`${other.node} and ${other.operator} are nowhere in the page`,
    !fleetHtml.includes(other.node) && !fleetHtml.includes(other.operator));
  check('the layout: a "Fleet" link and a logout form',
    (await page.locator('nav a:has-text("Fleet")').count()) >= 1 &&
    (await page.locator('form[action="/logout"]').count()) === 1);
  await shot(page, 'fleet');

  // The node page of the known month: the heat map against the uptime report.
  const nodeResponse = await page.goto(`${base}/nodes/${op.node}?month=${config.month}`);
  eq(`the node page of ${config.month}`, 200, nodeResponse.status());
  eq('the uptime figure', config.report.uptime_percent.toFixed(2),
    (await page.textContent('#uptime-percent')).trim());
  eq('the heat map is an image labelled for screen readers', 'img',
    await page.getAttribute('svg#heatmap', 'role'));
  check('... with aria-labelledby', !!(await page.getAttribute('svg#heatmap', 'aria-labelledby')));
  const cells = await page.$$eval('svg#heatmap rect.cell', (rects) =>
    rects.map((r) => ({
      day: r.getAttribute('data-day'),
      hour: r.getAttribute('data-hour'),
      cls: r.getAttribute('class'),
      up: Number(r.getAttribute('data-up')),
      late: Number(r.getAttribute('data-late')),
      down: Number(r.getAttribute('data-down')),
      unmeasured: Number(r.getAttribute('data-unmeasured')),
      href: r.parentElement && r.parentElement.tagName.toLowerCase() === 'a'
        ? r.parentElement.getAttribute('href') : null,
    })));
  const [year, month] = config.month.split('-').map(Number);
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  eq('one cell per day and hour', days * 24, cells.length);
  const distinct = new Set(cells.map((c) => `${c.day}T${c.hour}`));
  eq('... each day and hour once', days * 24, distinct.size);
  const sum = (k) => cells.reduce((s, c) => s + c[k], 0);
  check('every cell has numbers', cells.every((c) => [c.up, c.late, c.down, c.unmeasured].every(Number.isInteger)));
  eq('sum of the cells\' data-up = the uptime report\'s up', config.report.up, sum('up'));
  eq('sum of data-down = the report\'s down', config.report.down, sum('down'));
  eq('sum of data-unmeasured = the report\'s unmeasured', config.report.unmeasured, sum('unmeasured'));
  eq('sum of data-late = the report\'s up_late', config.report.up_late, sum('late'));
  check('no cell holds more than 60 minutes', cells.every((c) => c.up + c.down + c.unmeasured <= 60));
  const none = cells.filter((c) => c.day === config.none_day);
  check(`the hours before the node was registered (${config.none_day}) are "cell none", all 0`,
    none.length === 24 && none.every((c) => /\bnone\b/.test(c.cls) && c.up + c.late + c.down + c.unmeasured === 0),
    JSON.stringify(none.slice(0, 2)));
  check('cells link to their hour\'s records', cells.filter((c) => c.up > 0).every((c) =>
    c.href === `/nodes/${op.node}/records?hour=${c.day}T${String(c.hour).padStart(2, '0')}`),
  JSON.stringify(cells.find((c) => c.up > 0)));
  const tableRows = await page.locator('table#heatmap-table tr').count();
  check(`the heat map's table for screen readers has a row per day (${tableRows} rows)`, tableRows >= days);
  for (const id of ['incidents', 'remediations', 'tasks']) {
    eq(`the node page has table#${id}`, 1, await page.locator(`table#${id}`).count());
  }
  await shot(page, 'node');

  // Follow a cell with up and down minutes (else any with up ones) to its records.
  const target = cells.find((c) => c.up > 0 && c.down > 0) || cells.find((c) => c.up > 0);
  const hour = String(target.hour).padStart(2, '0');
  await Promise.all([
    page.waitForURL(`**/nodes/${op.node}/records?hour=${target.day}T${hour}`),
    page.click(`svg#heatmap rect.cell[data-day="${target.day}"][data-hour="${target.hour}"]`),
  ]);
  eq('a cell followed to its records page', `${base}/nodes/${op.node}/records?hour=${target.day}T${hour}`, page.url());
  const records = await page.$$eval('table#records tr[data-epoch][data-seq]', (rows) =>
    rows.map((r) => ({
      epoch: r.getAttribute('data-epoch'),
      seq: r.getAttribute('data-seq'),
      type: r.querySelector('td.type')?.textContent.trim(),
      kid: r.querySelector('td.kid')?.textContent.trim(),
      verified: r.querySelector('td.verified')?.textContent.trim(),
      jws: r.querySelector('code.jws')?.textContent.trim(),
    })));
  check(`the hour's records back its ${target.up + target.down} counted minutes (${records.length} rows)`,
    records.length >= target.up + target.down);
  const first = records[0] || {};
  eq('a record row shows the node\'s kid', jwk.kid, first.kid);
  eq('... "verified"', 'verified', first.verified);
  check('... and a compact JWS', /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(first.jws || ''), first.jws);
  check('every row verified, with the node\'s kid', records.every((r) => r.verified === 'verified' && r.kid === jwk.kid));
  eq('the JWS shown verifies with jose and the node\'s JWK', null, await verify(first.jws || ''));
  await shot(page, 'records', false);  // its JWS make a full page tens of MB

  // The day's NDJSON, downloaded as a browser does, each line verified with jose.
  const link = page.locator('a.download');
  eq('a download link for the day', `/nodes/${op.node}/records.ndjson?day=${target.day}`, await link.getAttribute('href'));
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  eq('the download\'s file name', `${op.node}-${target.day}.ndjson`, download.suggestedFilename());
  const saved = join(config.out_dir, download.suggestedFilename());
  await download.saveAs(saved);
  const lines = readFileSync(saved, 'utf8').split('\n').filter((l) => l.length > 0);
  check(`the day holds at least the hour's records (${lines.length} lines)`, lines.length >= records.length);
  let bad = null;
  for (const [i, line] of lines.entries()) {
    const error = await verify(line);
    if (error) { bad = `line ${i + 1}: ${error}`; break; }
  }
  eq(`jose verifies each of the ${lines.length} lines with the node's JWK`, null, bad);
  check('the JWS shown on the records page is among the day\'s lines', lines.includes(first.jws));
  const ndjson = await context.request.get(`${base}/nodes/${op.node}/records.ndjson?day=${target.day}`);
  eq('the NDJSON\'s content type', 'application/x-ndjson', (ndjson.headers()['content-type'] || '').split(';')[0]);

  // The other operator's node, records and statement, by URL: 404, exactly as unknown ones
  // (other.unknown_node and other.unknown_operator name none, and are as long).
  const probes = [
    [`/nodes/${other.node}?month=${config.month}`, other.node, other.unknown_node],
    [`/nodes/${other.node}/records?day=${other.day}`, other.node, other.unknown_node],
    [`/nodes/${other.node}/records?hour=${other.day}T12`, other.node, other.unknown_node],
    [`/statements/${other.operator}/${config.month}`, other.operator, other.unknown_operator],
  ];
  for (const [path, name, unknown] of probes) {
    const response = await page.goto(`${base}${path}`);
    eq(`${op.id} opens ${path} in the browser`, 404, response.status());
    const text = await response.text();
    const twin = await context.request.get(`${base}${path.replace(name, unknown)}`);
    eq('... as one that does not exist', `404 ${text.replaceAll(name, 'X')}`,
      `${twin.status()} ${(await twin.text()).replaceAll(unknown, 'X')}`);
    check('... showing nothing of it (no record, no other operator)',
      !text.includes('eyJ') && (name === other.operator || !text.includes(other.operator)));
  }
  const download404 = await context.request.get(`${base}/nodes/${other.node}/records.ndjson?day=${other.day}`);
  eq(`${op.id} downloads ${other.node}'s records`, 404, download404.status());
  check('... and gets no record', !(await download404.text()).includes('eyJ'));
  // The operator's own statement: the payout lines with their deciding figures, and exports.
  const own = await page.goto(`${base}/statements/${op.id}/${config.month}`);
  eq(`${op.id}'s own statement`, 200, own.status());
  check('... a payout table with the figure that decided each line',
    (await page.locator('table#payout').count()) === 1 && (await page.locator('table#payout td.figure').count()) >= 1);
  for (const ext of ['csv', 'json']) {
    const href = `/statements/${op.id}/${config.month}.${ext}`;
    eq(`... links its ${ext.toUpperCase()}`, 1, await page.locator(`a[href="${href}"]`).count());
    eq(`... which answers`, 200, (await context.request.get(`${base}${href}`)).status());
  }

  // Logout: back to the login form, and the session is gone.
  await page.goto(`${base}/`);
  await Promise.all([
    page.waitForURL('**/login**'),
    page.click('form[action="/logout"] button, form[action="/logout"] [type="submit"]'),
  ]);
  eq('logout sends to the login form', '/login', new URL(page.url()).pathname);
  check('... the session cookie is gone', !(await context.cookies()).some((c) => c.name === '__Host-fleet_session'));
  await page.goto(`${base}/`);
  eq('after logout / asks to log in again', '/login', new URL(page.url()).pathname);
  await context.close();
}

// As the admin, every same-origin href reachable from / (200 pages at most, at most 8 of one
// shape: a path with its numbers and ids folded, and its query's names), none 4xx/5xx.
async function linkChecker() {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  context.setDefaultTimeout(15000);
  const page = await logIn(context, config.admin_token);
  eq('logged in as the admin', `${base}/`, page.url());
  const html = await page.content();
  check(`the admin sees both operators' nodes`, html.includes(config.operator.node) && html.includes(config.other.node));
  const origin = new URL(base).origin;
  const shape = (u) => `${u.pathname.replace(/\/nodes\/[^/]+/, '/nodes/N').replace(/\/statements\/[^/]+\/[^/.]+/, '/statements/O/M')}` +
    `?${[...u.searchParams.keys()].sort().join('&')}`;
  const seen = new Set([`${origin}/`]);
  const perShape = new Map();
  const queue = [{ url: `${origin}/`, from: '(start)' }];
  const broken = [];
  const external = new Set();
  let visited = 0;
  let scripts = 0;
  while (queue.length && visited < 200) {
    const { url, from } = queue.shift();
    visited++;
    const response = await context.request.get(url, { maxRedirects: 5 });
    if (response.status() >= 400) {
      broken.push(`${url} (${response.status()}, linked from ${from})`);
      continue;
    }
    if (!(response.headers()['content-type'] || '').startsWith('text/html')) continue;
    await page.goto(url);
    scripts += await page.locator('script').count();
    const hrefs = await page.$$eval('a[href], area[href]', (links) =>
      links.map((a) => new URL(a.getAttribute('href'), document.baseURI).href));
    for (const href of hrefs) {
      const u = new URL(href);
      u.hash = '';
      if (u.origin !== origin) { external.add(u.href); continue; }
      if (seen.has(u.href)) continue;
      seen.add(u.href);
      const s = shape(u);
      const n = perShape.get(s) || 0;
      if (n >= 8) continue;
      perShape.set(s, n + 1);
      queue.push({ url: u.href, from: url });
    }
  }
  console.log(`link checker: ${visited} URLs fetched, ${seen.size} distinct links seen; shapes: ${[...perShape.keys()].join(' ')}`);
  check(`no link answers 4xx/5xx (${visited} checked)`, broken.length === 0, broken.slice(0, 10).join('; '));
  check('the crawl reached node pages and records', [...perShape.keys()].some((s) => s.startsWith('/nodes/N?')) &&
    [...perShape.keys()].some((s) => s.startsWith('/nodes/N/records')), [...perShape.keys()].join(' '));
  check('no link leaves the receiver (no CDN)', external.size === 0, [...external].slice(0, 5).join(' '));
  eq('no <script> in any page', 0, scripts);
  writeFileSync(join(config.out_dir, 'links.txt'), [...seen].join('\n') + '\n');
  await context.close();
}
