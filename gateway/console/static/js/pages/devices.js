// Devices: search, filters and cursor paging; one device with its recent events and its channel
// override (which may also be set for a device id that has not checked in yet).
import { html, useState, useLoad, useAction, ActionStatus, ErrorBox, Loading, Empty, fmtDate, rightsHint } from '../ui.js';
import { api, get } from '../api.js';
import { href, navigate } from '../router.js';
import { useRights } from './common.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FILTERS = ['platform', 'version', 'channel', 'custom_id', 'is_prod', 'is_emulator'];

/** Sets or removes a device's channel override. */
export function OverrideForm({ appId, deviceId, current, rights, onDone, askId }) {
  const channels = useLoad(() => get(['apps', appId, 'channels']), [appId]);
  const [id, setId] = useState(deviceId || '');
  const [channel, setChannel] = useState('');
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const names = channels.data ? channels.data.channels.map((c) => c.name) : [];
  const chosen = channel || current || names[0] || '';
  const target = (askId ? id : deviceId).trim().toLowerCase();
  const set = async (event) => {
    event.preventDefault();
    const done = await action.run(() => api('PUT', ['apps', appId, 'devices', target, 'channel'], { body: { channel: chosen } }),
      `Device ${target} now gets its updates from ${chosen}.`);
    if (done && onDone) onDone();
  };
  const remove = async () => {
    const done = await action.run(() => api('DELETE', ['apps', appId, 'devices', target, 'channel']),
      `Device ${target} follows its own channel again.`);
    if (done && onDone) onDone();
  };
  return html`<form class="row override" onSubmit=${set}>
    ${askId && html`<label>Device id<input class="mono" required value=${id} size="38" placeholder="00000000-0000-0000-0000-000000000000" onInput=${(e) => setId(e.target.value)} /></label>`}
    <label>Channel<select value=${chosen} onChange=${(e) => setChannel(e.target.value)}>
      ${names.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
    <button class="primary" type="submit" disabled=${Boolean(hint) || action.busy || !chosen} title=${hint}>Set override</button>
    ${(current || askId) && html`<button type="button" onClick=${remove} disabled=${Boolean(hint) || action.busy} title=${hint}>Remove override</button>`}
    ${hint && html`<span class="muted">${hint}</span>`}
    <${ActionStatus} action=${action} />
  </form>`;
}

export function DevicesPage({ appId, query }) {
  const rights = useRights(appId);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) || '']));
  const cursor = query.get('cursor') || '';
  const key = query.toString();
  const devices = useLoad(() => get(['apps', appId, 'devices'], { ...filters, cursor, limit: 50 }), [appId, key]);
  const channels = useLoad(() => get(['apps', appId, 'channels']), [appId]);
  const [form, setForm] = useState(filters);
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState(null);
  const apply = (event) => {
    event.preventDefault();
    const params = new URLSearchParams(Object.entries(form).filter(([, v]) => v !== ''));
    navigate(href('apps', appId, 'devices') + (params.toString() ? '?' + params : ''));
  };
  const find = async (event) => {
    event.preventDefault();
    setSearchError(null);
    const text = search.trim();
    if (UUID.test(text)) {
      navigate(href('apps', appId, 'devices', text.toLowerCase()));
      return;
    }
    try {
      const found = await get(['apps', appId, 'devices'], { custom_id: text, limit: 2 });
      if (found.devices.length === 1) navigate(href('apps', appId, 'devices', found.devices[0].device_id));
      else navigate(href('apps', appId, 'devices') + '?custom_id=' + encodeURIComponent(text));
    } catch (error) {
      setSearchError(error);
    }
  };
  const next = devices.data && devices.data.next_cursor;
  const withCursor = (c) => {
    const params = new URLSearchParams(query);
    if (c) params.set('cursor', c); else params.delete('cursor');
    return href('apps', appId, 'devices') + '?' + params;
  };
  const select = (field, options) => html`<select value=${form[field]} onChange=${(e) => setForm({ ...form, [field]: e.target.value })}>
    <option value="">any</option>${options.map(([v, l]) => html`<option value=${v}>${l}</option>`)}</select>`;
  return html`<main>
    <h1>Devices</h1>
    <form class="row" onSubmit=${find} role="search">
      <label>Device id or custom id<input value=${search} size="38" onInput=${(e) => setSearch(e.target.value)} /></label>
      <button type="submit">Find</button>
    </form>
    <${ErrorBox} error=${searchError} />
    <details class="panel" open=${FILTERS.some((f) => filters[f])}>
      <summary>Filters</summary>
      <form class="row" onSubmit=${apply}>
        <label>Platform${select('platform', [['ios', 'iOS'], ['android', 'Android'], ['electron', 'Electron']])}</label>
        <label>Bundle version<input value=${form.version} size="10" onInput=${(e) => setForm({ ...form, version: e.target.value })} /></label>
        <label>Channel override${select('channel', (channels.data ? channels.data.channels : []).map((c) => [c.name, c.name]))}</label>
        <label>Build${select('is_prod', [['true', 'production'], ['false', 'development']])}</label>
        <label>Hardware${select('is_emulator', [['false', 'physical device'], ['true', 'emulator']])}</label>
        <button type="submit">Apply filters</button>
      </form>
    </details>
    ${devices.loading && html`<${Loading} what="devices" />`}
    <${ErrorBox} error=${devices.error} />
    ${devices.data && devices.data.devices.length === 0 && html`<${Empty}>
      <p>${key ? 'No device matches these filters.' : 'No device has checked in yet. Devices appear after their first update check (the app\'s updateUrl pointing at this server).'}</p></${Empty}>`}
    ${devices.data && devices.data.devices.length > 0 && html`<div class="table-wrap"><table class="devices">
      <thead><tr><th>Device</th><th>Platform</th><th>Bundle</th><th class="hide-narrow">Custom id</th><th class="hide-narrow">Channel</th><th>Last seen</th></tr></thead>
      <tbody>${devices.data.devices.map((d) => html`<tr>
        <td><a class="mono" href=${href('apps', appId, 'devices', d.device_id)}>${d.device_id}</a></td>
        <td>${d.platform}${d.is_emulator ? ' (emulator)' : ''}${d.is_prod ? '' : ' dev'}</td>
        <td>${d.version}</td>
        <td class="hide-narrow">${d.custom_id || ''}</td>
        <td class="hide-narrow">${d.channel_override ? html`${d.channel_override} <span class="badge">override</span>` : d.default_channel || ''}</td>
        <td>${fmtDate(d.last_seen_at)}</td></tr>`)}</tbody></table></div>`}
    <p class="row">${cursor && html`<a href=${withCursor('')}>First page</a>`}${next && html`<a href=${withCursor(next)}>Next page</a>`}</p>
    <h2>Assign a channel to any device</h2>
    <p class="muted">Also for a device that has not checked in yet: it gets this channel from its first update check.</p>
    <${OverrideForm} appId=${appId} rights=${rights} askId=${true} />
  </main>`;
}

export function DevicePage({ appId, deviceId }) {
  const rights = useRights(appId);
  const device = useLoad(() => get(['apps', appId, 'devices', deviceId]), [appId, deviceId]);
  const events = useLoad(() => get(['apps', appId, 'events'], { device_id: deviceId, limit: 20 }), [appId, deviceId]);
  const d = device.data;
  const unseen = device.error && device.error.status === 404;
  return html`<main>
    <h1 class="mono">${deviceId}</h1>
    <p><a href=${href('apps', appId, 'devices')}>← All devices</a> · <a href=${href('apps', appId, 'preview') + '?device=' + encodeURIComponent(deviceId)}>What would it get?</a></p>
    ${device.loading && html`<${Loading} what="the device" />`}
    ${unseen ? html`<${Empty}><p>This device has not checked in yet. You can still choose its channel below.</p></${Empty}>` : html`<${ErrorBox} error=${device.error} />`}
    ${d && html`<section class="panel"><dl class="facts">
      <dt>Platform</dt><dd>${d.platform} ${d.version_os || ''}${d.is_emulator ? ' (emulator)' : ''}</dd>
      <dt>Build</dt><dd>${d.is_prod ? 'production' : 'development'}${d.install_source ? `, from ${d.install_source}` : ''}</dd>
      <dt>Bundle running</dt><dd>${d.version}</dd>
      <dt>Native version</dt><dd>${d.version_build}${d.version_code ? ` (${d.version_code})` : ''}</dd>
      <dt>Plugin</dt><dd>${d.plugin_version}</dd>
      <dt>Custom id</dt><dd>${d.custom_id || '—'}</dd>
      <dt>defaultChannel</dt><dd>${d.default_channel || '—'}</dd>
      <dt>Channel override</dt><dd>${d.channel_override || 'none'}</dd>
      <dt>First seen</dt><dd>${fmtDate(d.first_seen_at)}</dd>
      <dt>Last seen</dt><dd>${fmtDate(d.last_seen_at)}</dd>
    </dl></section>`}
    <h2>Channel override</h2>
    <${OverrideForm} appId=${appId} deviceId=${deviceId} current=${d && d.channel_override} rights=${rights} onDone=${device.reload} />
    <h2>Recent events</h2>
    <${ErrorBox} error=${events.error} />
    ${events.data && (events.data.events.length === 0 ? html`<p class="muted">No events from this device.</p>` : html`
      <div class="table-wrap"><table><thead><tr><th>Received</th><th>Action</th><th>Bundle</th></tr></thead>
      <tbody>${events.data.events.map((e) => html`<tr><td>${fmtDate(e.received_at)}</td><td>${e.action}</td><td>${e.version_name}</td></tr>`)}</tbody></table></div>`)}
  </main>`;
}
