// "What would this device get?": a dry run of POST /updates for a request filled in here or taken
// from a known device. The server records nothing.
import { html, useState, useEffect, useAction, ActionStatus, ErrorBox, fmtPercent } from '../ui.js';
import { api, get } from '../api.js';

const EMPTY = { device_id: '', platform: 'android', version_name: 'builtin', version_build: '1.0.0', plugin_version: '7.0.0',
  defaultChannel: '', is_prod: true, is_emulator: false, custom_id: '' };

const VIA = {
  override: 'its channel override',
  default_channel: 'the channel it names (defaultChannel)',
  public: 'the public channel of its platform',
  none: 'no channel',
};

function requestOf(form) {
  const request = { ...form };
  for (const field of ['defaultChannel', 'custom_id']) if (!request[field]) delete request[field];
  return request;
}

function Answer({ result }) {
  const { answer, why } = result;
  let verdict;
  if (answer.error) {
    verdict = html`<p><strong>No update:</strong> ${answer.message || ''} <code>${answer.error}</code></p>`;
  } else if (answer.version === 'builtin') {
    verdict = html`<p><strong>Back to the built-in bundle</strong> (the channel serves builtin).</p>`;
  } else if (answer.version) {
    verdict = html`<p><strong>Update to ${answer.version}</strong>${answer.manifest ? ` (${answer.manifest.length} files by manifest)` : ''}.</p>`;
  } else {
    verdict = html`<p>${answer.message || 'No update.'}</p>`;
  }
  return html`<section class="panel preview-answer" aria-live="polite">
    ${verdict}
    <dl class="facts">
      <dt>Channel</dt><dd>${why.channel ? html`<strong>${why.channel}</strong>, by ${VIA[why.via]}` : VIA.none}</dd>
      ${why.channel && html`<dt>Channel serves</dt><dd>${why.channel_bundle}</dd>`}
      ${why.rollout && html`<dt>Rollout</dt><dd>${why.rollout.bundle} to ${fmtPercent(why.rollout.basis_points / 10000, 2)}${why.rollout.paused ? ' (paused)' : ''};
        this device's bucket is ${why.rollout.device_bucket === null ? 'unknown' : why.rollout.device_bucket} of 10,000, so it is ${why.rollout.inside ? 'inside' : 'outside'}${why.rollout.already_on_it ? '; it already runs the rollout\'s bundle and stays on it' : ''}</dd>`}
    </dl>
    <details><summary>The answer /updates would send</summary><pre>${JSON.stringify(answer, null, 2)}</pre></details>
  </section>`;
}

export function PreviewPage({ appId, query }) {
  const [form, setForm] = useState(EMPTY);
  const [result, setResult] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const action = useAction();
  const fill = async (deviceId) => {
    setLoadError(null);
    try {
      const d = await get(['apps', appId, 'devices', deviceId]);
      setForm({ device_id: d.device_id, platform: d.platform, version_name: d.version, version_build: d.version_build,
        plugin_version: d.plugin_version, defaultChannel: d.default_channel || '', is_prod: d.is_prod,
        is_emulator: d.is_emulator, custom_id: d.custom_id || '' });
    } catch (error) {
      if (error.status === 404) setForm({ ...EMPTY, device_id: deviceId });
      else setLoadError(error);
    }
  };
  const fromQuery = query.get('device');
  useEffect(() => { if (fromQuery) fill(fromQuery); }, [appId, fromQuery]);
  const submit = async (event) => {
    event.preventDefault();
    setResult(null);
    const answer = await action.run(() => api('POST', ['apps', appId, 'preview'], { body: { request: requestOf(form) } }));
    if (answer) setResult(answer);
  };
  const text = (field, label, size = 14) => html`<label>${label}<input name=${field} value=${form[field]} size=${size}
    onInput=${(e) => setForm({ ...form, [field]: e.target.value })} /></label>`;
  return html`<main>
    <h1>What would this device get?</h1>
    <p class="muted">Fill in a device's update check, or load a known device, to see what <code>POST /updates</code> would
      answer and why. Nothing is recorded.</p>
    <${ErrorBox} error=${loadError} />
    <form onSubmit=${submit}>
      <div class="row">
        ${text('device_id', 'Device id', 38)}
        <button type="button" onClick=${() => form.device_id && fill(form.device_id.trim())}>Load this device</button>
      </div>
      <div class="row">
        <label>Platform<select name="platform" value=${form.platform} onChange=${(e) => setForm({ ...form, platform: e.target.value })}>
          <option value="ios">iOS</option><option value="android">Android</option><option value="electron">Electron</option></select></label>
        ${text('version_name', 'Bundle it runs', 10)}
        ${text('version_build', 'Native version', 10)}
        ${text('plugin_version', 'Plugin version', 10)}
        ${text('defaultChannel', 'defaultChannel', 12)}
        <label class="check"><input type="checkbox" checked=${form.is_prod} onChange=${(e) => setForm({ ...form, is_prod: e.target.checked })} />Production build</label>
        <label class="check"><input type="checkbox" checked=${form.is_emulator} onChange=${(e) => setForm({ ...form, is_emulator: e.target.checked })} />Emulator</label>
      </div>
      <p><button class="primary" type="submit" disabled=${action.busy}>Ask</button></p>
    </form>
    <${ActionStatus} action=${action} />
    ${result && html`<${Answer} result=${result} />`}
  </main>`;
}
