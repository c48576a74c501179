// `make bench-console`: the console in Debian's chromium against a gateway serving one app with a
// million devices (.ci/bench-console prepares it). Prints, for each view, the time from navigation
// to the view being drawn (data loaded, no progress indicator, its table or charts present),
// median and worst of BENCH_RUNS runs, and the bytes the first load transfers (compressed, as sent).
import puppeteer from 'puppeteer-core';

const BASE = process.env.CONSOLE_URL;
const KEY = process.env.CONSOLE_KEY;
const APP = process.env.CONSOLE_APP_ID;
const RUNS = Number(process.env.BENCH_RUNS || 7);
const enc = encodeURIComponent;

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });

async function firstLoadBytes() {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  const urls = new Map();
  const sizes = { console: 0, api: 0, files: 0 };
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId) || '';
    if (url.includes('/v1/')) sizes.api += e.encodedDataLength;
    else { sizes.console += e.encodedDataLength; sizes.files += 1; }
  });
  await page.evaluateOnNewDocument((k) => sessionStorage.setItem('liveupdate.apiKey', k), KEY);
  await page.goto(`${BASE}/console/apps/${enc(APP)}`, { waitUntil: 'networkidle0' });
  await context.close();
  return sizes;
}

async function timeView(name, path, ready) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800 });
  await page.evaluateOnNewDocument((k) => sessionStorage.setItem('liveupdate.apiKey', k), KEY);
  const times = [];
  for (let run = 0; run <= RUNS; run += 1) {
    await page.goto('about:blank');
    const started = performance.now();
    await page.goto(BASE + path);
    await page.waitForFunction(ready, { polling: 'raf', timeout: 60000 });
    if (run > 0) times.push(performance.now() - started); // the first run warms caches
  }
  await page.close();
  times.sort((a, b) => a - b);
  return { name, median: times[Math.floor(times.length / 2)], worst: times[times.length - 1] };
}

// A page expression: the view is drawn once nothing loads and `count` of `selector` are there.
const drawn = (selector, count) => `!document.querySelector('.progress') && document.querySelectorAll(${JSON.stringify(selector)}).length >= ${count}`;
const sizes = await firstLoadBytes();
const results = [
  await timeView('apps overview (1,000,000 devices counted)', '/console', drawn('main table tbody tr', 1)),
  await timeView('dashboard, 30 days (4 charts)', `/console/apps/${enc(APP)}`, drawn('figure.chart canvas', 4)),
  await timeView('device list, first page of 50', `/console/apps/${enc(APP)}/devices`, drawn('table.devices tbody tr', 50)),
  await timeView('device list, a page deep in the id order', `/console/apps/${enc(APP)}/devices?cursor=00000000-0000-4000-8000-0000000c3500`, drawn('table.devices tbody tr', 50)),
  await timeView('device list filtered (android, page of 50)', `/console/apps/${enc(APP)}/devices?platform=android`, drawn('table.devices tbody tr', 50)),
  await timeView('channel with its devices by bundle (1,000,000)', `/console/apps/${enc(APP)}/channels/production`, drawn('table.share tbody tr', 1)),
  await timeView('events, newest 100 of 200,000 today', `/console/apps/${enc(APP)}/events`, drawn('main table tbody tr', 100)),
];
await browser.close();

const pad = (text, width) => String(text).padEnd(width);
console.log(`\nconsole render times (navigation to drawn, ${RUNS} runs after a warm-up)`);
for (const r of results) console.log(`${pad(r.name, 52)} median ${r.median.toFixed(0).padStart(5)} ms   worst ${r.worst.toFixed(0).padStart(5)} ms`);
console.log(`\nfirst load of the dashboard: console files ${(sizes.console / 1024).toFixed(1)} KiB transferred (${sizes.files} responses, compressed), API answers ${(sizes.api / 1024).toFixed(1)} KiB`);
