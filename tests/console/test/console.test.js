// The web console in Debian's chromium, against the gateway and database tests/tests/console.rs
// seeded: pages, flows, rights, escaping, CSP and where the API key goes. Screenshots of every page
// (light and dark, laptop and phone) go to CONSOLE_SCREENSHOTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through tests/tests/console.rs (make test)`);
  return value;
};
const BASE = env('CONSOLE_URL');
const APP = env('CONSOLE_APP_ID');
const ADMIN_KEY = env('CONSOLE_ADMIN_KEY');
const READ_KEY = env('CONSOLE_READ_KEY');
const DEVICE = env('CONSOLE_DEVICE_ID');
const MARKUP = env('CONSOLE_MARKUP');
const WORK = env('CONSOLE_WORK');
const SHOTS = env('CONSOLE_SCREENSHOTS');
const CLI = env('LIVEUPDATE_CLI_BIN');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const VIEWPORTS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844, isMobile: true, hasTouch: true } };
const enc = encodeURIComponent;
const PAGES = [
  ['apps', '/console'],
  ['dashboard', `/console/apps/${enc(APP)}`],
  ['bundles', `/console/apps/${enc(APP)}/bundles`],
  ['bundle', `/console/apps/${enc(APP)}/bundles/1.0.0`],
  ['channels', `/console/apps/${enc(APP)}/channels`],
  ['channel', `/console/apps/${enc(APP)}/channels/production`],
  ['devices', `/console/apps/${enc(APP)}/devices`],
  ['device', `/console/apps/${enc(APP)}/devices/${DEVICE}`],
  ['preview', `/console/apps/${enc(APP)}/preview?device=${DEVICE}`],
  ['events', `/console/apps/${enc(APP)}/events`],
  ['keys', '/console/keys'],
];

let browser;
const everyRequestUrl = [];

before(async () => {
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
});

after(async () => {
  if (browser) await browser.close();
});

/**
 * A tab with everything that went wrong recorded: console errors, page errors, failed requests,
 * HTTP errors (kept apart: some tests expect the API to refuse) and CSP violations.
 */
async function open({ scheme = 'light', viewport = 'laptop', key = null } = {}) {
  const page = await browser.newPage();
  await page.setViewport(VIEWPORTS[viewport]);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
  const problems = { console: [], page: [], failed: [], http: [] };
  page.on('console', (message) => { if (message.type() === 'error') problems.console.push(message.text()); });
  page.on('pageerror', (error) => problems.page.push(error.message));
  page.on('requestfailed', (request) => problems.failed.push(`${request.url()} ${request.failure()?.errorText}`));
  page.on('request', (request) => everyRequestUrl.push(request.url()));
  page.on('response', (response) => { if (response.status() >= 400) problems.http.push(`${response.status()} ${response.url()}`); });
  // Confirmations are accepted; an alert would be markup from the database run as script.
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'alert') problems.page.push(`alert: ${dialog.message()}`);
    dialog.accept();
  });
  await page.evaluateOnNewDocument(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  if (key) await page.evaluateOnNewDocument((k) => sessionStorage.setItem('liveupdate.apiKey', k), key);
  return { page, problems };
}

/** Navigates and waits until nothing is loading. */
async function visit(page, path) {
  await page.goto(BASE + path, { waitUntil: 'networkidle0' });
  await settle(page);
}

async function settle(page) {
  await page.waitForFunction(() => !document.querySelector('.progress') && !document.querySelector('p.loading'));
}

async function text(page) {
  return page.evaluate(() => document.body.innerText);
}

async function clickButton(page, label) {
  const handle = await page.waitForSelector(`::-p-xpath(//button[normalize-space()=${JSON.stringify(label)}])`);
  await handle.click();
}

async function waitForText(page, wanted) {
  await page.waitForFunction((w) => document.body.innerText.includes(w), {}, wanted);
}

async function cleanChecks(page, problems, where) {
  assert.deepEqual(problems.console, [], `${where}: console errors`);
  assert.deepEqual(problems.page, [], `${where}: page errors`);
  assert.deepEqual(problems.failed, [], `${where}: failed requests`);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], `${where}: CSP violations`);
  // Markup from the database is text: no element was made from it.
  assert.equal(await page.$('img[src="x"]'), null, `${where}: markup from the database became an element`);
}

/** What POST /updates answers a device running `running`. */
async function check(deviceId, running = '1.0.0') {
  const response = await fetch(`${BASE}/updates`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: APP, device_id: deviceId, platform: 'android', version_name: running,
      version_build: '1.0.0', version_code: '10', version_os: '14', plugin_version: '8.51.14',
      is_emulator: false, is_prod: true, custom_id: '', defaultChannel: '' }),
  });
  return response.json();
}

async function api(method, path, key, body) {
  const response = await fetch(`${BASE}/v1/${path}`, {
    method, headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

test('sign in keeps the key in sessionStorage only, and sign out forgets it', async () => {
  const { page, problems } = await open();
  await visit(page, '/console');
  await page.type('input[name="api-key"]', ADMIN_KEY);
  await clickButton(page, 'Sign in');
  await page.waitForSelector('h1');
  await waitForText(page, 'Active today');
  await settle(page);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('liveupdate.apiKey')), ADMIN_KEY);
  assert.equal(await page.evaluate(() => JSON.stringify(localStorage).includes('lu_')), false);
  assert.ok((await text(page)).includes(`Shop ${MARKUP}`), 'the app name is shown as text');
  await cleanChecks(page, problems, 'sign in');
  await clickButton(page, 'Sign out');
  await page.waitForSelector('input[name="api-key"]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('liveupdate.apiKey')), null);
  // A wrong key is refused in words, with the API's code.
  await page.type('input[name="api-key"]', 'lu_' + '0'.repeat(64));
  await clickButton(page, 'Sign in');
  await waitForText(page, 'invalid_api_key');
  await page.close();
});

test('every page loads cleanly, light and dark, laptop and phone, with screenshots', async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const scheme of ['light', 'dark']) {
    for (const viewport of ['laptop', 'phone']) {
      const { page, problems } = await open({ scheme, viewport, key: ADMIN_KEY });
      for (const [name, path] of PAGES) {
        await visit(page, path);
        assert.equal(await page.$('input[name="api-key"]'), null, `${name}: still signed in`);
        assert.ok(await page.$('main h1'), `${name}: has a heading`);
        await page.screenshot({ path: join(SHOTS, `${name}-${scheme}-${viewport}.png`), fullPage: viewport === 'laptop' });
        await cleanChecks(page, problems, `${name} (${scheme}, ${viewport})`);
        assert.deepEqual(problems.http, [], `${name}: HTTP errors`);
      }
      await page.close();
    }
  }
});

test('the dashboard counts the seeded installs and failures, and a day opens its events', async () => {
  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}`);
  const cards = await page.$$eval('.card', (all) => Object.fromEntries(all.map((c) => [c.querySelector('.label').textContent, c.querySelector('.value').textContent])));
  assert.equal(cards['Installs in range'], '10');
  assert.equal(cards['Failures in range (16.7%)'], '2');
  assert.equal(await page.$$eval('figure.chart canvas', (all) => all.length), 4, 'four charts drawn');
  const today = new Date().toISOString().slice(0, 10);
  const link = await page.waitForSelector(`::-p-xpath(//tr[td[1][.=${JSON.stringify(today)}]]//a[.="events"])`);
  await link.click();
  await page.waitForFunction(() => location.pathname.endsWith('/events') && location.search.includes('from='));
  await settle(page);
  assert.equal(await page.$$eval('main table tbody tr', (rows) => rows.length), 12);
  // Hourly for the last 48 hours; the choice is remembered on the next visit.
  await visit(page, `/console/apps/${enc(APP)}`);
  await page.select('main select', '48h');
  await waitForText(page, 'Active devices per hour');
  await settle(page);
  assert.equal(await page.$$eval('table.periods tbody tr', (rows) => rows.length), 48);
  await visit(page, `/console/apps/${enc(APP)}`);
  assert.equal(await page.$eval('main select', (select) => select.value), '48h');
  await page.select('main select', '30d');
  await settle(page);
  await cleanChecks(page, problems, 'dashboard');
  await page.close();
});

test('markup in a bundle comment and a custom id is shown as text', async () => {
  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}/bundles/1.0.0`);
  assert.ok((await text(page)).includes(MARKUP));
  await visit(page, `/console/apps/${enc(APP)}/devices/${DEVICE}`);
  assert.ok((await text(page)).includes(MARKUP));
  await cleanChecks(page, problems, 'escaping');
  await page.close();
});

test('deploy a bundle uploaded with the CLI, then roll it back from the history', async () => {
  const build = join(WORK, 'build-2.0.0');
  mkdirSync(build, { recursive: true });
  writeFileSync(join(build, 'index.html'), '<!doctype html><title>2.0.0</title>');
  execFileSync(CLI, ['bundle', 'upload', APP, '2.0.0', build, '--comment', 'from the CLI'],
    { env: { ...process.env, LIVEUPDATE_SERVER: BASE, LIVEUPDATE_API_KEY: ADMIN_KEY, HOME: WORK }, stdio: 'pipe' });
  const device = '00000000-0000-4000-8000-0000000000d1';
  assert.equal((await check(device)).error, 'no_new_version_available');

  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}/bundles/2.0.0`);
  await page.select('form.row select', 'production');
  await clickButton(page, 'Deploy');
  await waitForText(page, '2.0.0 is now deployed to production');
  assert.equal((await check(device)).version, '2.0.0');

  await visit(page, `/console/apps/${enc(APP)}/channels/production`);
  assert.equal(await page.$eval('.current-bundle', (e) => e.textContent), '2.0.0');
  await clickButton(page, 'Roll back 2.0.0');
  await waitForText(page, 'Rolled back.');
  await page.waitForFunction(() => document.querySelector('.current-bundle')?.textContent === '1.0.0');
  await page.waitForFunction(() => document.querySelector('table.history tbody tr td:nth-child(4)')?.textContent === 'rollback');
  assert.equal((await check(device)).error, 'no_new_version_available');
  await cleanChecks(page, problems, 'deploy and rollback');
  await page.close();
});

test('a rollout at 50% shows the share of devices on each bundle', async () => {
  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}/channels/production`);
  const share = await page.$('xpath/.//label[contains(., "Share (%)")]/input');
  await share.click({ clickCount: 3 });
  await share.type('50');
  await clickButton(page, 'Start rollout');
  await waitForText(page, 'Rollout of 2.0.0 started at 50%.');
  await waitForText(page, 'Rolling out 2.0.0 to 50.00%');

  // 40 devices check in; those offered 2.0.0 install it and check in again running it.
  let offered = 0;
  for (let i = 0; i < 40; i += 1) {
    const id = `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`;
    if ((await check(id)).version === '2.0.0') {
      offered += 1;
      await check(id, '2.0.0');
    }
  }
  assert.ok(offered > 0 && offered < 40, `a share of the devices was offered 2.0.0 (${offered} of 40)`);
  // Device state is written in batches: wait until the gateway flushed all 40.
  for (;;) {
    const { body } = await api('GET', `apps/${enc(APP)}/channels/production/devices`, ADMIN_KEY);
    if (body.devices === 40 && (body.bundles.find((b) => b.version === '2.0.0')?.devices || 0) === offered) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await page.reload({ waitUntil: 'networkidle0' });
  await settle(page);
  const rows = await page.$$eval('table.share tbody tr', (trs) => trs.map((tr) => [...tr.cells].slice(0, 3).map((td) => td.textContent)));
  const rollout = rows.find((row) => row[0] === '2.0.0');
  assert.deepEqual(rollout, ['2.0.0', String(offered), `${(offered / 40 * 100).toFixed(1)}%`]);
  await page.screenshot({ path: join(SHOTS, 'channel-rollout-light-laptop.png'), fullPage: true });
  await clickButton(page, 'Abandon');
  await waitForText(page, 'Rollout abandoned.');
  await cleanChecks(page, problems, 'rollout');
  await page.close();
});

test('an override on a device id never seen changes its answer', async () => {
  const unseen = '00000000-0000-4000-a000-00000000beef';
  assert.equal((await check(unseen, '0.0.1')).version, '1.0.0', 'production serves 1.0.0');
  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}/devices`);
  await page.type('form.override input', unseen);
  await page.select('form.override select', 'beta');
  await clickButton(page, 'Set override');
  await waitForText(page, `Device ${unseen} now gets its updates from beta.`);
  assert.equal((await check(unseen, '0.0.1')).version, '1.1.0', 'the override sends it to beta');
  // The dry run agrees, and records nothing.
  await visit(page, `/console/apps/${enc(APP)}/preview?device=${unseen}`);
  await page.waitForFunction((id) => document.querySelector('input[name="device_id"]')?.value === id, {}, unseen);
  const version = await page.$('input[name="version_name"]');
  await version.click({ clickCount: 3 });
  await version.type('0.0.1');
  await clickButton(page, 'Ask');
  await waitForText(page, 'Update to 1.1.0');
  await waitForText(page, 'by its channel override');
  await cleanChecks(page, problems, 'override');
  await page.close();
});

test('a read-only key sees buttons disabled and the API refusing', async () => {
  const { page, problems } = await open({ key: READ_KEY });
  await visit(page, `/console/apps/${enc(APP)}/channels/production`);
  for (const label of ['Deploy', 'Roll back 1.0.0', 'Start rollout', 'Save settings', 'Save guard settings']) {
    const button = await page.waitForSelector(`::-p-xpath(//button[normalize-space()=${JSON.stringify(label)}])`);
    assert.equal(await button.evaluate((b) => b.disabled), true, `${label} is disabled`);
  }
  assert.ok((await text(page)).includes('Needs write rights on this app; this API key has read.'));
  const refused = await page.evaluate(async (app) => {
    const response = await fetch(`/v1/apps/${encodeURIComponent(app)}/channels/production`, {
      method: 'PATCH', headers: { 'x-api-key': sessionStorage.getItem('liveupdate.apiKey'), 'content-type': 'application/json' },
      body: JSON.stringify({ bundle: '2.0.0' }),
    });
    return [response.status, (await response.json()).error];
  }, APP);
  assert.deepEqual(refused, [403, 'forbidden']);
  await visit(page, '/console/keys');
  await waitForText(page, 'forbidden');
  assert.deepEqual(problems.console.filter((m) => !m.includes('403')), [], 'only the expected refusals');
  await page.close();
});

test('events filter by device and export as CSV', async () => {
  const { page, problems } = await open({ key: ADMIN_KEY });
  await visit(page, `/console/apps/${enc(APP)}/events?device_id=${DEVICE}`);
  const actions = await page.$$eval('main table tbody tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(actions, ['set']);
  const downloads = join(WORK, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const cdp = await page.createCDPSession();
  await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
  await clickButton(page, 'Export CSV');
  await waitForText(page, 'Exported events.');
  const file = join(downloads, `${APP}-events.csv`);
  while (!existsSync(file)) await new Promise((resolve) => setTimeout(resolve, 50));
  const lines = readFileSync(file, 'utf8').trim().split('\r\n');
  assert.equal(lines.length, 2, 'a header and the device\'s one event');
  assert.ok(lines[0].startsWith('received_at,device_id,action,version_name'));
  assert.ok(lines[1].includes(`"${DEVICE}","set","1.0.0"`), lines[1]);
  await cleanChecks(page, problems, 'events');
  await page.close();
});

test('the API key never appears in a URL', () => {
  assert.ok(everyRequestUrl.length > 50);
  for (const url of everyRequestUrl) {
    assert.ok(!url.includes(ADMIN_KEY) && !url.includes(READ_KEY), `a key in ${url}`);
  }
});
