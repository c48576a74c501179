// API keys: list, create (the secret is shown once), revoke. Organization admin rights.
import { html, useState, useLoad, useAction, ActionStatus, ErrorBox, Loading, Empty, fmtDate } from '../ui.js';
import { api, get } from '../api.js';

export function KeysPage() {
  const keys = useLoad(() => get(['keys']), []);
  const [name, setName] = useState('');
  const [mode, setMode] = useState('read');
  const [apps, setApps] = useState('');
  const [secret, setSecret] = useState(null);
  const create = useAction();
  const revoke = useAction();
  const submit = async (event) => {
    event.preventDefault();
    setSecret(null);
    const limited = apps.split(/[\s,]+/).filter(Boolean);
    const created = await create.run(() => api('POST', ['keys'], { body: { name: name.trim(), mode, apps: limited.length ? limited : undefined } }));
    if (created) { setSecret(created); setName(''); setApps(''); keys.reload(); }
  };
  const doRevoke = async (key) => {
    if (!window.confirm(`Revoke key "${key.name}" (${key.prefix}…)? Anything using it stops working at once.`)) return;
    if (await revoke.run(() => api('DELETE', ['keys', String(key.id)]), `Key ${key.name} revoked.`)) keys.reload();
  };
  return html`<main>
    <h1>API keys</h1>
    ${keys.loading && html`<${Loading} what="keys" />`}
    <${ErrorBox} error=${keys.error} />
    ${keys.error && keys.error.status === 403 && html`<p class="muted">Managing keys needs an <code>all</code> key of the organization.</p>`}
    ${secret && html`<div class="notice" role="status"><p>Key <strong>${secret.name}</strong> created. Copy it now: it is not shown again.</p>
      <pre class="secret">${secret.key}</pre></div>`}
    ${keys.data && keys.data.keys.length === 0 && html`<${Empty}>No key.</${Empty}>`}
    ${keys.data && keys.data.keys.length > 0 && html`<div class="table-wrap"><table>
      <thead><tr><th>Name</th><th>Key</th><th>Mode</th><th>Apps</th><th class="hide-narrow">Last used</th><th>State</th><th></th></tr></thead>
      <tbody>${keys.data.keys.map((k) => html`<tr>
        <td>${k.name}</td><td class="mono">${k.prefix}…</td><td>${k.mode}</td><td>${k.apps ? k.apps.join(', ') || 'none' : 'all'}</td>
        <td class="hide-narrow">${fmtDate(k.last_used_at)}</td>
        <td>${k.revoked_at ? html`<span class="badge warn">revoked</span>` : html`<span class="badge ok">live</span>`}</td>
        <td>${!k.revoked_at && html`<button class="danger" type="button" onClick=${() => doRevoke(k)} disabled=${revoke.busy}>Revoke</button>`}</td>
      </tr>`)}</tbody></table></div>`}
    <${ActionStatus} action=${revoke} />
    ${keys.data && html`<h2>Create a key</h2>
    <form class="row" onSubmit=${submit}>
      <label>Name<input required value=${name} onInput=${(e) => setName(e.target.value)} /></label>
      <label>Mode<select value=${mode} onChange=${(e) => setMode(e.target.value)}>
        <option value="read">read: reads</option><option value="upload">upload: also uploads bundles</option>
        <option value="write">write: also deploys and changes</option><option value="all">all: also manages keys</option></select></label>
      <label>Only these apps (blank: all)<input value=${apps} placeholder="com.example.app" onInput=${(e) => setApps(e.target.value)} /></label>
      <button class="primary" type="submit" disabled=${create.busy}>Create key</button>
    </form>
    <${ActionStatus} action=${create} />`}
  </main>`;
}
