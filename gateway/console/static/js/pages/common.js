// Pieces several app pages share: the caller's rights on the app, and the deploy form.
import { html, useState, useLoad, useAction, ActionStatus, rightsHint } from '../ui.js';
import { api, appsOverview } from '../api.js';

/** The caller's rights on `appId` ('read' … 'admin'), from the apps overview; null while loading. */
export function useRights(appId) {
  const overview = useLoad(() => appsOverview(), [appId]);
  const app = overview.data && overview.data.apps.find((a) => a.app_id === appId);
  return app ? app.rights : overview.data ? 'none' : null;
}

/** Deploys `version` to a channel chosen from the app's channels (write rights). */
export function DeployForm({ appId, version, channels, rights, onDone }) {
  const [channel, setChannel] = useState('');
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const names = channels || [];
  const submit = async (event) => {
    event.preventDefault();
    const target = channel || names[0];
    const done = await action.run(() => api('PATCH', ['apps', appId, 'channels', target], { body: { bundle: version } }),
      `${version} is now deployed to ${target}; devices get it at their next check.`);
    if (done && onDone) onDone();
  };
  if (names.length === 0) return html`<p class="muted">No channel yet: create one on the Channels page to deploy to.</p>`;
  return html`<form class="row" onSubmit=${submit}>
    <label>Deploy ${version} to
      <select value=${channel || names[0]} onChange=${(e) => setChannel(e.target.value)}>
        ${names.map((name) => html`<option value=${name}>${name}</option>`)}
      </select></label>
    <button class="primary" type="submit" disabled=${Boolean(hint) || action.busy} title=${hint}>Deploy</button>
    ${hint && html`<span class="muted">${hint}</span>`}
    <${ActionStatus} action=${action} />
  </form>`;
}
