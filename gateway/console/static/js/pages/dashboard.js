// App dashboard: activity, installs and failures, adoption by bundle, bandwidth and storage.
import { html, useState, useEffect, useRef, useLoad, ErrorBox, Loading, Empty, fmtNumber, fmtBytes, fmtPercent, fmtDate } from '../ui.js';
import { get } from '../api.js';
import { href, navigate } from '../router.js';
import uPlot from '../../vendor/uPlot.esm.js';

const RANGES = [
  ['48h', 'Last 48 hours (hourly)'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['90d', 'Last 90 days'], ['365d', 'Last year'],
];
const RANGE_KEY = 'liveupdate.dashboardRange';
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d'];

function day(date) {
  return date.toISOString().slice(0, 10);
}

function rangeQuery(range) {
  const today = new Date();
  const days = { '48h': 2, '7d': 7, '30d': 30, '90d': 90, '365d': 365 }[range] || 30;
  const from = new Date(today.getTime() - (days - 1) * 86400000);
  return { from: day(from), to: day(today), granularity: range === '48h' ? 'hour' : 'day' };
}

/** A uPlot chart that follows its container's width. `onPick(index)` on click. */
function Chart({ title, series, x, y, stacked, bytes, onPick }) {
  const box = useRef(null);
  useEffect(() => {
    const element = box.current;
    const width = () => Math.max(280, element.clientWidth - 16);
    const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;
    const axisColor = dark ? '#9aa4b1' : '#5b6470';
    const gridColor = dark ? '#2c333c' : '#e5e8ec';
    const format = bytes ? (u, values) => values.map((v) => fmtBytes(v)) : undefined;
    const axis = { stroke: axisColor, grid: { stroke: gridColor }, ticks: { stroke: gridColor } };
    // Stacked: each series is drawn as the running total, the later (lower) ones on top.
    let data = y;
    if (stacked) {
      const totals = x.map(() => 0);
      data = y.map((values) => values.map((v, i) => (totals[i] += v || 0)));
      data = data.reverse();
    }
    const labels = stacked ? [...series].reverse() : series;
    const plot = new uPlot({
      width: width(), height: 220,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, values: format, size: bytes ? 70 : 50 }],
      series: [{}, ...labels.map((label, i) => {
        const color = PALETTE[(stacked ? labels.length - 1 - i : i) % PALETTE.length];
        return { label, stroke: color, width: 2, fill: stacked ? color + 'cc' : undefined,
          value: bytes ? (u, v) => fmtBytes(v) : (u, v) => (v === null ? '—' : fmtNumber(v)) };
      })],
      hooks: onPick ? { ready: [(u) => u.over.addEventListener('click', () => {
        if (u.cursor.idx !== null && u.cursor.idx !== undefined) onPick(u.cursor.idx);
      })] } : {},
    }, [x, ...data], element);
    const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    observer.observe(element);
    return () => { observer.disconnect(); plot.destroy(); };
  }, [x, y, series]);
  return html`<figure class="chart" aria-label=${title}><h3>${title}</h3><div ref=${box}></div></figure>`;
}

export function DashboardPage({ appId }) {
  const [range, setRange] = useState(() => localStorage.getItem(RANGE_KEY) || '30d');
  const chooseRange = (value) => { localStorage.setItem(RANGE_KEY, value); setRange(value); };
  const app = useLoad(() => get(['apps', appId]), [appId]);
  const stats = useLoad(() => get(['apps', appId, 'stats'], rangeQuery(range)), [appId, range]);
  const periods = stats.data ? stats.data.periods : [];
  const hourly = stats.data && stats.data.granularity === 'hour';
  const x = periods.map((p) => new Date(p.start).getTime() / 1000);
  const versions = [...new Set(periods.flatMap((p) => p.versions.filter((v) => v.devices).map((v) => v.version)))].sort();
  const openEvents = (index) => {
    const start = new Date(periods[index].start);
    const end = new Date(start.getTime() + (hourly ? 3600000 : 86400000));
    navigate(href('apps', appId, 'events') + `?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`);
  };
  const totals = periods.reduce((t, p) => ({ installs: t.installs + p.installs, fails: t.fails + p.fails,
    gets: t.gets + p.gets, bandwidth: t.bandwidth + p.bandwidth_bytes }), { installs: 0, fails: 0, gets: 0, bandwidth: 0 });
  const last = periods.length ? periods[periods.length - 1] : null;
  const storage = [...periods].reverse().find((p) => p.storage_bytes !== null && p.storage_bytes !== undefined);
  return html`<main>
    <h1>${app.data ? app.data.name || appId : appId} <span class="muted mono">${appId}</span></h1>
    <${ErrorBox} error=${app.error} />
    <form class="row" onSubmit=${(e) => e.preventDefault()}>
      <label>Range
        <select value=${range} onChange=${(e) => chooseRange(e.target.value)}>
          ${RANGES.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select></label>
      ${stats.data && html`<span class="muted">Counted up to ${fmtDate(stats.data.fresh_until)}. Click a ${hourly ? 'point' : 'day'} in a chart to see its events.</span>`}
    </form>
    ${stats.loading && html`<${Loading} what="statistics" />`}
    <${ErrorBox} error=${stats.error} />
    ${stats.data && html`
      <div class="cards">
        <div class="card"><div class="value">${fmtNumber(last ? last.active_devices : 0)}</div><div class="label">Active devices, ${hourly ? 'this hour' : 'today'}</div></div>
        <div class="card"><div class="value">${fmtNumber(totals.installs)}</div><div class="label">Installs in range</div></div>
        <div class="card"><div class="value">${fmtNumber(totals.fails)}</div><div class="label">Failures in range (${fmtPercent(totals.fails / ((totals.installs + totals.fails) || 1))})</div></div>
        <div class="card"><div class="value">${fmtBytes(totals.bandwidth)}</div><div class="label">Bandwidth (full downloads)</div></div>
        <div class="card"><div class="value">${fmtBytes(storage ? storage.storage_bytes : null)}</div><div class="label">Storage used</div></div>
      </div>
      ${periods.every((p) => p.events === 0) && html`<${Empty}>
        <p>No device has reported anything in this range yet. Devices report once the app points
        its <code>statsUrl</code> at this server; deploy a first bundle with
        <code>liveupdate bundle upload ${appId} 1.0.0 dist --channel production</code>.</p></${Empty}>`}
      <${Chart} title=${hourly ? 'Active devices per hour' : 'Daily active devices'} series=${['Active devices']}
        x=${x} y=${[periods.map((p) => p.active_devices)]} onPick=${openEvents} />
      <${Chart} title="Installs, failures and rollbacks" series=${['Installs', 'Failures', 'Uninstalls (replaced)']}
        x=${x} y=${[periods.map((p) => p.installs), periods.map((p) => p.fails), periods.map((p) => p.uninstalls)]} onPick=${openEvents} />
      ${versions.length > 0 && !hourly && html`<${Chart} title="Adoption by bundle (devices running it)" stacked=${true} series=${versions}
        x=${x} y=${versions.map((v) => periods.map((p) => { const row = p.versions.find((r) => r.version === v); return row && row.devices ? row.devices : 0; }))}
        onPick=${openEvents} />`}
      <${Chart} title="Bandwidth and storage" bytes=${true} series=${['Bandwidth (full downloads)', 'Served by this gateway', ...(hourly ? [] : ['Storage'])]}
        x=${x} y=${[periods.map((p) => p.bandwidth_bytes), periods.map((p) => p.served_bytes), ...(hourly ? [] : [periods.map((p) => p.storage_bytes)])]} />
      <h2>${hourly ? 'Hours' : 'Days'}</h2>
      <div class="table-wrap"><table class="periods">
        <thead><tr><th>${hourly ? 'Hour' : 'Day'}</th><th class="num">Active</th><th class="num">Installs</th><th class="num">Failures</th><th class="num hide-narrow">Gets</th><th></th></tr></thead>
        <tbody>${[...periods].reverse().map((p) => html`<tr>
          <td>${hourly ? fmtDate(p.start) : p.start.slice(0, 10)}</td><td class="num">${fmtNumber(p.active_devices)}</td>
          <td class="num">${fmtNumber(p.installs)}</td><td class="num">${fmtNumber(p.fails)}</td><td class="num hide-narrow">${fmtNumber(p.gets)}</td>
          <td><a href=${href('apps', appId, 'events') + `?from=${encodeURIComponent(new Date(p.start).toISOString())}&to=${encodeURIComponent(new Date(new Date(p.start).getTime() + (hourly ? 3600000 : 86400000)).toISOString())}`}>events</a></td>
        </tr>`)}</tbody></table></div>`}
  </main>`;
}
