// Channels: the list, and one channel with its flags, deploy, progressive rollout, failure guard
// and deploy history (with rollback).
import { html, useState, useEffect, useLoad, useAction, ActionStatus, ErrorBox, Loading, Empty, fmtDate, fmtNumber, fmtPercent, rightsHint } from '../ui.js';
import { api, get } from '../api.js';
import { href } from '../router.js';
import { useRights } from './common.js';

/** Every flag of a channel, with what it does. */
const FLAGS = [
  ['public', 'Public', 'Devices that name no channel get this one (one public channel per platform).'],
  ['allow_device_self_set', 'Devices may choose it', 'Devices may switch themselves to it (setChannel) and name it as their defaultChannel.'],
  ['ios', 'iOS', 'Serves iOS devices.'],
  ['android', 'Android', 'Serves Android devices.'],
  ['electron', 'Electron', 'Serves Electron desktop apps.'],
  ['allow_emulator', 'Emulators', 'Serves emulators and simulators.'],
  ['allow_device', 'Physical devices', 'Serves real devices.'],
  ['allow_dev', 'Development builds', 'Serves debug builds of the native app (is_prod false).'],
  ['allow_prod', 'Production builds', 'Serves store builds of the native app.'],
  ['disable_auto_update_under_native', 'Never below native', 'Refuses a bundle older than the native app\'s own version.'],
];
const AUTO_UPDATE = [
  ['none', 'Any version (no limit)'], ['major', 'Not across a major version'], ['minor', 'Not across a minor version'],
  ['patch', 'Only patch updates'], ['version_number', 'Not below min_update_version'],
];

function platforms(c) {
  return ['ios', 'android', 'electron'].filter((p) => c[p]).join(', ') || 'none';
}

function CreateChannel({ appId, rights, onCreated }) {
  const [name, setName] = useState('');
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const submit = async (event) => {
    event.preventDefault();
    const done = await action.run(() => api('POST', ['apps', appId, 'channels'], { body: { name: name.trim() } }), `Channel ${name.trim()} created.`);
    if (done) { setName(''); onCreated(); }
  };
  return html`<form class="row" onSubmit=${submit}>
    <label>New channel<input required value=${name} onInput=${(e) => setName(e.target.value)} placeholder="beta" /></label>
    <button type="submit" disabled=${Boolean(hint) || action.busy} title=${hint}>Create channel</button>
    ${hint && html`<span class="muted">${hint}</span>`}
    <${ActionStatus} action=${action} />
  </form>`;
}

export function ChannelsPage({ appId }) {
  const rights = useRights(appId);
  const channels = useLoad(() => get(['apps', appId, 'channels']), [appId]);
  return html`<main>
    <h1>Channels</h1>
    ${channels.loading && html`<${Loading} what="channels" />`}
    <${ErrorBox} error=${channels.error} />
    ${channels.data && channels.data.channels.length === 0 && html`<${Empty}>
      <p>No channel yet. Devices get updates from a channel: create <code>production</code>, make it public,
      and deploy a bundle to it. From a terminal: <code>liveupdate channel create ${appId} production --public true</code></p></${Empty}>`}
    ${channels.data && channels.data.channels.length > 0 && html`<div class="table-wrap"><table>
      <thead><tr><th>Channel</th><th>Bundle</th><th>Rollout</th><th class="hide-narrow">Platforms</th><th class="hide-narrow">Since</th></tr></thead>
      <tbody>${channels.data.channels.map((c) => html`<tr>
        <td><a href=${href('apps', appId, 'channels', c.name)}>${c.name}</a> ${c.public && html`<span class="badge ok">public</span>`}</td>
        <td>${c.bundle}</td>
        <td>${c.rollout ? html`${c.rollout.bundle} to ${fmtPercent(c.rollout.basis_points / 10000, 2)}${c.rollout.paused ? ' (paused)' : ''}` : html`<span class="muted">none</span>`}</td>
        <td class="hide-narrow">${platforms(c)}</td>
        <td class="hide-narrow">${fmtDate(c.bundle_changed_at)}</td>
      </tr>`)}</tbody></table></div>`}
    <${CreateChannel} appId=${appId} rights=${rights} onCreated=${channels.reload} />
  </main>`;
}

function FlagsForm({ appId, channel, rights, onSaved }) {
  const [values, setValues] = useState(channel);
  useEffect(() => setValues(channel), [channel]);
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const changed = Object.fromEntries([...FLAGS.map(([f]) => f), 'disable_auto_update']
    .filter((f) => values[f] !== channel[f]).map((f) => [f, values[f]]));
  const submit = async (event) => {
    event.preventDefault();
    const done = await action.run(() => api('PATCH', ['apps', appId, 'channels', channel.name], { body: changed }), 'Settings saved.');
    if (done) onSaved();
  };
  return html`<form onSubmit=${submit}>
    <div class="flags">${FLAGS.map(([field, label, help]) => html`<div>
      <label class="check"><input type="checkbox" checked=${values[field]} disabled=${Boolean(hint)}
        onChange=${(e) => setValues({ ...values, [field]: e.target.checked })} />${label}</label>
      <p class="help">${help}</p></div>`)}
      <div><label>Automatic updates
        <select value=${values.disable_auto_update} disabled=${Boolean(hint)} onChange=${(e) => setValues({ ...values, disable_auto_update: e.target.value })}>
          ${AUTO_UPDATE.map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select></label>
        <p class="help">Which updates devices take by themselves, compared with the version they run.</p></div>
    </div>
    <div class="row"><button class="primary" type="submit" disabled=${Boolean(hint) || action.busy || Object.keys(changed).length === 0} title=${hint}>Save settings</button>
      ${hint && html`<span class="muted">${hint}</span>`}</div>
    <${ActionStatus} action=${action} />
  </form>`;
}

function DeployToChannel({ appId, channel, bundles, rights, onDone }) {
  const [version, setVersion] = useState('');
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const choices = ['builtin', ...bundles.map((b) => b.version)];
  const chosen = version || (bundles[0] ? bundles[0].version : 'builtin');
  const submit = async (event) => {
    event.preventDefault();
    const done = await action.run(() => api('PATCH', ['apps', appId, 'channels', channel.name], { body: { bundle: chosen } }),
      `${channel.name} now serves ${chosen}.`);
    if (done) onDone();
  };
  return html`<form class="row" onSubmit=${submit}>
    <label>Bundle to serve<select value=${chosen} onChange=${(e) => setVersion(e.target.value)}>
      ${choices.map((v) => html`<option value=${v}>${v}</option>`)}</select></label>
    <button class="primary" type="submit" disabled=${Boolean(hint) || action.busy || chosen === channel.bundle} title=${hint}>Deploy</button>
    ${hint && html`<span class="muted">${hint}</span>`}
    <${ActionStatus} action=${action} />
  </form>`;
}

function Rollout({ appId, channel, bundles, rights, onDone }) {
  const hint = rightsHint(rights, 'write');
  const action = useAction();
  const [version, setVersion] = useState('');
  const [percent, setPercent] = useState(channel.rollout ? String(channel.rollout.basis_points / 100) : '5');
  useEffect(() => setPercent(channel.rollout ? String(channel.rollout.basis_points / 100) : '5'), [channel]);
  const share = useLoad(() => get(['apps', appId, 'channels', channel.name, 'devices']), [appId, channel]);
  const basisPoints = () => Math.round(Number(percent) * 100);
  const send = async (body, doneText) => {
    const done = await action.run(() => api('POST', ['apps', appId, 'channels', channel.name, 'rollout'], { body }), doneText);
    if (done) onDone();
  };
  const rollout = channel.rollout;
  const candidates = bundles.filter((b) => b.version !== channel.bundle);
  const chosen = version || (candidates[0] ? candidates[0].version : '');
  return html`<section class="panel">
    ${rollout ? html`<p>Rolling out <strong>${rollout.bundle}</strong> to <strong>${fmtPercent(rollout.basis_points / 10000, 2)}</strong> of the channel's devices${rollout.paused ? html` <span class="badge warn">paused</span>` : ''}; the others get ${channel.bundle}.</p>
      <form class="row" onSubmit=${(e) => { e.preventDefault(); send({ action: 'set', basis_points: basisPoints() }, `Share set to ${percent}%.`); }}>
        <label>Share (%)<input type="number" min="0" max="100" step="0.01" value=${percent} onInput=${(e) => setPercent(e.target.value)} /></label>
        <button type="submit" disabled=${Boolean(hint) || action.busy} title=${hint}>Set share</button>
        ${rollout.paused
          ? html`<button type="button" disabled=${Boolean(hint) || action.busy} title=${hint} onClick=${() => send({ action: 'resume' }, 'Rollout resumed.')}>Resume</button>`
          : html`<button type="button" disabled=${Boolean(hint) || action.busy} title=${hint} onClick=${() => send({ action: 'pause' }, 'Rollout paused: nobody new gets it.')}>Pause</button>`}
        <button class="primary" type="button" disabled=${Boolean(hint) || action.busy} title=${hint}
          onClick=${() => window.confirm(`Promote ${rollout.bundle} to every device of ${channel.name}?`) && send({ action: 'promote' }, `${rollout.bundle} promoted.`)}>Promote to all</button>
        <button class="danger" type="button" disabled=${Boolean(hint) || action.busy} title=${hint}
          onClick=${() => window.confirm(`Abandon the rollout of ${rollout.bundle}? Its devices go back to ${channel.bundle}.`) && send({ action: 'abandon' }, 'Rollout abandoned.')}>Abandon</button>
      </form>`
    : html`<p class="muted">No rollout. Start one to serve a bundle to a share of this channel's devices first (a device's
        place is fixed by its id: raising the share only adds devices).</p>
      ${candidates.length === 0 ? html`<p class="muted">Upload another bundle to roll it out.</p>` : html`
      <form class="row" onSubmit=${(e) => { e.preventDefault(); send({ action: 'start', bundle: chosen, basis_points: basisPoints() }, `Rollout of ${chosen} started at ${percent}%.`); }}>
        <label>Bundle<select value=${chosen} onChange=${(e) => setVersion(e.target.value)}>
          ${candidates.map((b) => html`<option value=${b.version}>${b.version}</option>`)}</select></label>
        <label>Share (%)<input type="number" min="0" max="100" step="0.01" value=${percent} onInput=${(e) => setPercent(e.target.value)} /></label>
        <button class="primary" type="submit" disabled=${Boolean(hint) || action.busy} title=${hint}>Start rollout</button>
      </form>`}`}
    ${hint && html`<p class="muted">${hint}</p>`}
    <${ActionStatus} action=${action} />
    <h3>Devices on each bundle</h3>
    ${share.loading && html`<${Loading} what="devices" />`}
    <${ErrorBox} error=${share.error} />
    ${share.data && (share.data.devices === 0 ? html`<p class="muted">No device of this channel checked in since ${fmtDate(share.data.since)}.</p>` : html`
      <p class="muted">${fmtNumber(share.data.devices)} devices seen since ${fmtDate(share.data.since)}.</p>
      <div class="table-wrap"><table class="share"><thead><tr><th>Bundle</th><th class="num">Devices</th><th class="num">Share</th><th></th></tr></thead>
      <tbody>${share.data.bundles.map((b) => html`<tr><td>${b.version}</td><td class="num">${fmtNumber(b.devices)}</td>
        <td class="num">${fmtPercent(b.share)}</td><td style=${{ width: '40%' }}><div class="bar" style=${{ width: `${Number(b.share) * 100}%` }}></div></td></tr>`)}</tbody></table></div>`)}
  </section>`;
}

const GUARD_FIELDS = [
  ['deploy_action', 'After a deploy', ['rollback', 'alert', 'off'], 'What the guard does when a new deployment fails too often: roll back to the previous one, only record an alert, or nothing.'],
  ['rollout_action', 'During a rollout', ['pause', 'rollback', 'alert', 'off'], 'What it does when a rollout\'s bundle fails too often: pause it, abandon it, alert, or nothing.'],
];
const GUARD_NUMBERS = [
  ['max_failure_rate', 'Max failure rate (%)', 100, 'Acts when the failing share\'s lower bound passes this.'],
  ['confidence', 'Confidence (%)', 100, 'How sure the guard must be (Wilson score bound).'],
  ['min_attempts', 'Min devices trying', 1, 'No judgement before this many devices installed or failed it.'],
  ['min_failures', 'Min failing devices', 1, 'No judgement before this many failed.'],
  ['window_minutes', 'Window (minutes)', 1, 'How far back each judgement looks.'],
  ['watch_minutes', 'Watch (minutes)', 1, 'How long after a deploy it is watched.'],
  ['cooldown_minutes', 'Cooldown (minutes)', 1, 'Quiet time after a decision.'],
];

function Guard({ appId, channel, rights }) {
  const guard = useLoad(() => get(['apps', appId, 'channels', channel.name, 'guard'], { limit: 20 }), [appId, channel.name]);
  const [values, setValues] = useState(null);
  useEffect(() => {
    if (!guard.data) return;
    const s = guard.data.settings;
    setValues(Object.fromEntries([...GUARD_FIELDS.map(([f]) => [f, s[f]]),
      ...GUARD_NUMBERS.map(([f, , scale]) => [f, String(Math.round(s[f] * scale * 1000) / 1000)])]));
  }, [guard.data]);
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const submit = async (event) => {
    event.preventDefault();
    const body = Object.fromEntries([...GUARD_FIELDS.map(([f]) => [f, values[f]]),
      ...GUARD_NUMBERS.map(([f, , scale]) => [f, scale === 1 ? Math.round(Number(values[f])) : Number(values[f]) / scale])]);
    const done = await action.run(() => api('PUT', ['apps', appId, 'channels', channel.name, 'guard'], { body }), 'Guard settings saved.');
    if (done) guard.reload();
  };
  return html`<section class="panel">
    ${guard.loading && html`<${Loading} what="the guard" />`}
    <${ErrorBox} error=${guard.error} />
    ${values && html`<form onSubmit=${submit}>
      <div class="flags">
        ${GUARD_FIELDS.map(([field, label, options, help]) => html`<div><label>${label}
          <select value=${values[field]} disabled=${Boolean(hint)} onChange=${(e) => setValues({ ...values, [field]: e.target.value })}>
            ${options.map((o) => html`<option value=${o}>${o}</option>`)}</select></label><p class="help">${help}</p></div>`)}
        ${GUARD_NUMBERS.map(([field, label, , help]) => html`<div><label>${label}
          <input type="number" step="any" value=${values[field]} disabled=${Boolean(hint)} onInput=${(e) => setValues({ ...values, [field]: e.target.value })} /></label>
          <p class="help">${help}</p></div>`)}
      </div>
      <div class="row"><button type="submit" disabled=${Boolean(hint) || action.busy} title=${hint}>Save guard settings</button>${hint && html`<span class="muted">${hint}</span>`}</div>
      <${ActionStatus} action=${action} />
    </form>`}
    <h3>Decisions</h3>
    ${guard.data && (guard.data.decisions.length === 0 ? html`<p class="muted">No decision yet: the guard has not acted on this channel.</p>` : html`
      <div class="table-wrap"><table><thead><tr><th>When</th><th>Judged</th><th>Action</th><th>Outcome</th><th class="num">Failing / tried</th><th class="num">Lower bound</th></tr></thead>
      <tbody>${guard.data.decisions.map((d) => html`<tr><td>${fmtDate(d.decided_at)}</td><td>${d.target} of ${d.version_name}</td><td>${d.action}</td>
        <td>${d.outcome}</td><td class="num">${fmtNumber(d.failures)} / ${fmtNumber(d.attempts)}</td><td class="num">${fmtPercent(d.lower_bound)} (limit ${fmtPercent(d.max_failure_rate)})</td></tr>`)}</tbody></table></div>`)}
  </section>`;
}

function History({ appId, channel, rights, onDone }) {
  const history = useLoad(() => get(['apps', appId, 'channels', channel.name, 'history'], { limit: 50 }), [appId, channel]);
  const action = useAction();
  const hint = rightsHint(rights, 'write');
  const rollback = async () => {
    if (!window.confirm(`Roll ${channel.name} back from ${channel.bundle} to the bundle it had before? Devices follow at their next check.`)) return;
    const done = await action.run(() => api('POST', ['apps', appId, 'channels', channel.name, 'rollback']), 'Rolled back.');
    if (done) onDone();
  };
  return html`<section class="panel">
    <div class="row"><button class="danger" type="button" onClick=${rollback} disabled=${Boolean(hint) || action.busy} title=${hint}>Roll back ${channel.bundle}</button>
      ${hint && html`<span class="muted">${hint}</span>`}</div>
    <${ActionStatus} action=${action} />
    ${history.loading && html`<${Loading} what="history" />`}
    <${ErrorBox} error=${history.error} />
    ${history.data && (history.data.deploys.length === 0 ? html`<p class="muted">Nothing deployed yet.</p>` : html`
      <div class="table-wrap"><table class="history"><thead><tr><th>When</th><th>From</th><th>To</th><th>Why</th><th class="hide-narrow">By</th></tr></thead>
      <tbody>${history.data.deploys.map((d) => html`<tr><td>${fmtDate(d.deployed_at)}</td><td>${d.from || '—'}</td>
        <td>${d.to}${d.to_signed_by ? html` <span class="badge ok">signed</span>` : ''}</td><td>${d.reason}</td><td class="hide-narrow">${d.deployed_by}</td></tr>`)}</tbody></table></div>`)}
  </section>`;
}

export function ChannelPage({ appId, name }) {
  const rights = useRights(appId);
  const channel = useLoad(() => get(['apps', appId, 'channels', name]), [appId, name]);
  const bundles = useLoad(() => get(['apps', appId, 'bundles'], { limit: 100 }), [appId]);
  const c = channel.data;
  const list = bundles.data ? bundles.data.bundles : [];
  return html`<main>
    <h1>Channel ${name}</h1>
    <p><a href=${href('apps', appId, 'channels')}>← All channels</a></p>
    ${channel.loading && !c && html`<${Loading} what="the channel" />`}
    <${ErrorBox} error=${channel.error} />
    ${c && html`
      <section class="panel"><dl class="facts">
        <dt>Serves</dt><dd><strong class="current-bundle">${c.bundle}</strong> since ${fmtDate(c.bundle_changed_at)}</dd>
        <dt>Platforms</dt><dd>${platforms(c)}</dd>
      </dl>
      <${DeployToChannel} appId=${appId} channel=${c} bundles=${list} rights=${rights} onDone=${channel.reload} /></section>
      <h2>Progressive rollout</h2>
      <${Rollout} appId=${appId} channel=${c} bundles=${list} rights=${rights} onDone=${channel.reload} />
      <h2>Deploy history</h2>
      <${History} appId=${appId} channel=${c} rights=${rights} onDone=${channel.reload} />
      <h2>Settings</h2>
      <section class="panel"><${FlagsForm} appId=${appId} channel=${c} rights=${rights} onSaved=${channel.reload} /></section>
      <h2>Failure guard</h2>
      <${Guard} appId=${appId} channel=${c} rights=${rights} />`}
  </main>`;
}
