// Apps: every app the key can see, with activity and health.
import { html, useState, useLoad, ErrorBox, Loading, Empty, fmtNumber, fmtPercent, fmtDate, useAction, ActionStatus } from '../ui.js';
import { api, appsOverview } from '../api.js';
import { href } from '../router.js';

function CreateApp({ onCreated }) {
  const [appId, setAppId] = useState('');
  const [name, setName] = useState('');
  const action = useAction();
  const submit = async (event) => {
    event.preventDefault();
    const created = await action.run(() => api('POST', ['apps'], { body: { app_id: appId.trim(), name: name.trim() || undefined } }),
      `App ${appId.trim()} created.`);
    if (created) { setAppId(''); setName(''); onCreated(); }
  };
  return html`<details class="panel">
    <summary>Create an app</summary>
    <form class="row" onSubmit=${submit}>
      <label>App id (reverse domain)<input required value=${appId} placeholder="com.example.app" onInput=${(e) => setAppId(e.target.value)} /></label>
      <label>Name<input value=${name} onInput=${(e) => setName(e.target.value)} /></label>
      <button class="primary" type="submit" disabled=${action.busy}>Create</button>
    </form>
    <${ActionStatus} action=${action} />
  </details>`;
}

export function AppsPage() {
  const apps = useLoad(() => appsOverview(true), []);
  return html`<main>
    <h1>Apps</h1>
    ${apps.loading && html`<${Loading} what="apps" />`}
    <${ErrorBox} error=${apps.error} />
    ${apps.data && apps.data.apps.length === 0 && html`<${Empty}>
      <p>No app is visible to this API key yet. Create one below, or from a terminal:</p>
      <pre>liveupdate app create com.example.app --name "Example"</pre></${Empty}>`}
    ${apps.data && apps.data.apps.length > 0 && html`<div class="table-wrap"><table>
      <thead><tr><th>App</th><th class="num">Active today</th><th class="num">Active 30 days</th>
        <th>Newest bundle</th><th class="num">Failure rate (24 h)</th><th class="hide-narrow">Your rights</th></tr></thead>
      <tbody>${apps.data.apps.map((app) => html`<tr>
        <td><a href=${href('apps', app.app_id)}>${app.name || app.app_id}</a><br /><span class="muted mono">${app.app_id}</span></td>
        <td class="num">${fmtNumber(app.active_today)}</td>
        <td class="num">${fmtNumber(app.active_30_days)}</td>
        <td>${app.newest_bundle ? html`<a href=${href('apps', app.app_id, 'bundles', app.newest_bundle.version)}>${app.newest_bundle.version}</a>
          <br /><span class="muted">${fmtDate(app.newest_bundle.created_at)}</span>` : html`<span class="muted">none yet</span>`}</td>
        <td class="num">${fmtPercent(app.last_day.failure_rate)}<br /><span class="muted">${fmtNumber(app.last_day.fails)} of ${fmtNumber(app.last_day.installs + app.last_day.fails)}</span></td>
        <td class="hide-narrow"><span class="badge">${app.rights}</span></td>
      </tr>`)}</tbody></table></div>`}
    <${CreateApp} onCreated=${apps.reload} />
  </main>`;
}
