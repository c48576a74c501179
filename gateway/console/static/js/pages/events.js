// Events: an app's raw device events, filtered and paged; CSV export of everything that matches.
import { html, useState, useLoad, useAction, ActionStatus, ErrorBox, Loading, Empty, fmtDate } from '../ui.js';
import { get } from '../api.js';
import { href, navigate } from '../router.js';

const FILTERS = ['action', 'device_id', 'version', 'from', 'to'];
const COLUMNS = ['received_at', 'device_id', 'action', 'version_name', 'old_version_name', 'platform', 'plugin_version', 'is_prod', 'is_emulator', 'device_time'];
const EXPORT_LIMIT = 100000;

function csvCell(value) {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Quoted always; a leading =, +, - or @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(text) ? "'" + text : text;
  return '"' + safe.replace(/"/g, '""') + '"';
}

export function EventsPage({ appId, query }) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) || '']));
  const cursor = query.get('cursor') || '';
  const events = useLoad(() => get(['apps', appId, 'events'], { ...filters, cursor, limit: 100 }), [appId, query.toString()]);
  const [form, setForm] = useState(filters);
  const exporting = useAction();
  const [progress, setProgress] = useState(0);
  const apply = (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
    navigate(href('apps', appId, 'events') + (params.toString() ? '?' + params : ''));
  };
  const exportCsv = () => exporting.run(async () => {
    const lines = [COLUMNS.join(',') + ',metadata'];
    let next = null;
    setProgress(0);
    do {
      const page = await get(['apps', appId, 'events'], { ...filters, cursor: next || '', limit: 1000 });
      for (const e of page.events) lines.push([...COLUMNS.map((c) => csvCell(e[c])), csvCell(e.metadata)].join(','));
      setProgress(lines.length - 1);
      next = page.next_cursor;
    } while (next && lines.length <= EXPORT_LIMIT);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' }));
    link.download = `${appId}-events.csv`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }, `Exported events.`);
  const withCursor = (c) => {
    const params = new URLSearchParams(query);
    if (c) params.set('cursor', c); else params.delete('cursor');
    return href('apps', appId, 'events') + '?' + params;
  };
  const input = (field, label, size = 14, placeholder = '') => html`<label>${label}<input value=${form[field]} size=${size} placeholder=${placeholder}
    onInput=${(e) => setForm({ ...form, [field]: e.target.value })} /></label>`;
  return html`<main>
    <h1>Events</h1>
    <form class="row" onSubmit=${apply}>
      ${input('action', 'Action', 14, 'set, download_fail…')}
      ${input('device_id', 'Device id', 38)}
      ${input('version', 'Bundle', 10)}
      ${input('from', 'From (ISO time)', 22, '2026-01-01T00:00:00Z')}
      ${input('to', 'To (ISO time)', 22)}
      <button type="submit">Apply filters</button>
      <button type="button" onClick=${exportCsv} disabled=${exporting.busy}>Export CSV</button>
    </form>
    ${exporting.busy && html`<p class="progress" role="status">Exporting… ${progress} events so far</p>`}
    <${ActionStatus} action=${{ ...exporting, busy: false }} />
    ${events.loading && html`<${Loading} what="events" />`}
    <${ErrorBox} error=${events.error} />
    ${events.data && events.data.events.length === 0 && html`<${Empty}><p>No event matches. Devices send events to <code>/stats</code> as they download and install bundles.</p></${Empty}>`}
    ${events.data && events.data.events.length > 0 && html`<div class="table-wrap"><table>
      <thead><tr><th>Received</th><th>Action</th><th>Bundle</th><th>Device</th><th class="hide-narrow">Platform</th></tr></thead>
      <tbody>${events.data.events.map((e) => html`<tr><td>${fmtDate(e.received_at)}</td><td>${e.action}</td><td>${e.version_name}</td>
        <td><a class="mono" href=${href('apps', appId, 'devices', e.device_id)}>${e.device_id}</a></td><td class="hide-narrow">${e.platform || ''}</td></tr>`)}</tbody></table></div>`}
    <p class="row">${cursor && html`<a href=${withCursor('')}>Newest</a>`}${events.data && events.data.next_cursor && html`<a href=${withCursor(events.data.next_cursor)}>Older events</a>`}</p>
  </main>`;
}
