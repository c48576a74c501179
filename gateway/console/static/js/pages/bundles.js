// Bundles: the list (newest first, paged), and one bundle with its manifest, deploy and delete.
import { html, useState, useLoad, useAction, ActionStatus, ErrorBox, Loading, Empty, fmtDate, fmtNumber, fmtBytes, rightsHint } from '../ui.js';
import { api, get } from '../api.js';
import { href, navigate } from '../router.js';
import { useRights, DeployForm } from './common.js';

function uploadHint(appId) {
  return html`<pre>liveupdate bundle upload ${appId} 1.0.0 ./dist --channel production</pre>`;
}

function Flags({ bundle }) {
  return html`${bundle.signed_by && html`<span class="badge ok" title="ed25519 signature verified at registration">signed by ${bundle.signed_by}</span>`}
    ${bundle.encrypted && html`<span class="badge warn" title="Encrypted for the plugin (key id ${bundle.key_id})">encrypted</span>`}
    ${bundle.external_url && html`<span class="badge">external</span>`}
    ${bundle.deleted_at && html`<span class="badge warn">deleted</span>`}`;
}

export function BundlesPage({ appId, query }) {
  const cursor = query.get('cursor') || '';
  const bundles = useLoad(() => get(['apps', appId, 'bundles'], { cursor, limit: 50 }), [appId, cursor]);
  return html`<main>
    <h1>Bundles</h1>
    ${bundles.loading && html`<${Loading} what="bundles" />`}
    <${ErrorBox} error=${bundles.error} />
    ${bundles.data && bundles.data.bundles.length === 0 && html`<${Empty}>
      <p>No bundle yet. Upload your web build from a terminal (or CI):</p>${uploadHint(appId)}</${Empty}>`}
    ${bundles.data && bundles.data.bundles.length > 0 && html`<div class="table-wrap"><table>
      <thead><tr><th>Version</th><th>Created</th><th class="num">Size</th><th class="num">Files</th><th>Signed / encrypted</th><th>Channels</th><th class="hide-narrow">Comment</th></tr></thead>
      <tbody>${bundles.data.bundles.map((b) => html`<tr>
        <td><a href=${href('apps', appId, 'bundles', b.version)}>${b.version}</a></td>
        <td>${fmtDate(b.created_at)}</td>
        <td class="num">${b.archive_bytes === null ? html`<span class="muted">external</span>` : fmtBytes(b.archive_bytes)}</td>
        <td class="num">${fmtNumber(b.manifest_count)}</td>
        <td><${Flags} bundle=${b} /></td>
        <td>${b.channels.length ? b.channels.map((c) => html`<a class="badge" href=${href('apps', appId, 'channels', c)}>${c}</a>`) : html`<span class="muted">none</span>`}</td>
        <td class="hide-narrow">${b.comment || ''}</td>
      </tr>`)}</tbody></table></div>
      <p class="row">
        ${cursor && html`<a href=${href('apps', appId, 'bundles')}>Newest</a>`}
        ${bundles.data.next_cursor && html`<a href=${href('apps', appId, 'bundles') + '?cursor=' + encodeURIComponent(bundles.data.next_cursor)}>Older bundles</a>`}
      </p>`}
  </main>`;
}

export function BundlePage({ appId, version }) {
  const rights = useRights(appId);
  const bundle = useLoad(() => get(['apps', appId, 'bundles', version]), [appId, version]);
  const files = useLoad(() => get(['apps', appId, 'bundles', version, 'files']), [appId, version]);
  const channels = useLoad(() => get(['apps', appId, 'channels']), [appId]);
  const remove = useAction();
  const [showFiles, setShowFiles] = useState(false);
  const b = bundle.data;
  const deleteHint = rightsHint(rights, 'write')
    || (b && b.channels.length ? `Deployed to ${b.channels.join(', ')}: deploy another bundle there first.` : '');
  const doDelete = async () => {
    if (!window.confirm(`Delete bundle ${version}? Devices on it keep running it; it can no longer be deployed.`)) return;
    const done = await remove.run(() => api('DELETE', ['apps', appId, 'bundles', version]), `Bundle ${version} deleted.`);
    if (done) navigate(href('apps', appId, 'bundles'));
  };
  return html`<main>
    <h1>Bundle ${version}</h1>
    <p><a href=${href('apps', appId, 'bundles')}>← All bundles</a></p>
    ${bundle.loading && html`<${Loading} what="the bundle" />`}
    <${ErrorBox} error=${bundle.error} />
    ${b && html`<section class="panel"><dl class="facts">
      <dt>Created</dt><dd>${fmtDate(b.created_at)}</dd>
      <dt>Checksum</dt><dd class="mono">${b.checksum || '—'}</dd>
      <dt>Zip size</dt><dd>${b.archive_bytes === null ? 'unknown (hosted elsewhere)' : fmtBytes(b.archive_bytes)}</dd>
      <dt>Files</dt><dd>${fmtNumber(b.manifest_count)}</dd>
      <dt>Signature</dt><dd>${b.signed_by ? `signed by ${b.signed_by}` : 'not signed'}</dd>
      <dt>Encrypted</dt><dd>${b.encrypted ? `yes (key id ${b.key_id})` : 'no'}</dd>
      <dt>Minimum update version</dt><dd>${b.min_update_version || '—'}</dd>
      <dt>Comment</dt><dd>${b.comment || '—'}</dd>
      <dt>Link</dt><dd>${b.link && /^https?:\/\//i.test(b.link) ? html`<a href=${b.link} rel="noopener noreferrer" target="_blank">${b.link}</a>` : b.link || '—'}</dd>
      <dt>Channels</dt><dd>${b.channels.length ? b.channels.map((c) => html`<a class="badge" href=${href('apps', appId, 'channels', c)}>${c}</a>`) : 'none'}</dd>
    </dl></section>
    ${!b.deleted_at && html`<h2>Deploy</h2>
      <${DeployForm} appId=${appId} version=${version} rights=${rights} channels=${channels.data && channels.data.channels.map((c) => c.name)} onDone=${bundle.reload} />
      <h2>Delete</h2>
      <div class="row"><button class="danger" type="button" onClick=${doDelete} disabled=${Boolean(deleteHint) || remove.busy} title=${deleteHint}>Delete bundle</button>
        ${deleteHint && html`<span class="muted">${deleteHint}</span>`}</div>
      <${ActionStatus} action=${remove} />`}
    <h2>Manifest</h2>
    <${ErrorBox} error=${files.error} />
    ${files.data && files.data.files.length === 0 && html`<p class="muted">No manifest: devices download the zip.</p>`}
    ${files.data && files.data.files.length > 0 && html`<p><button type="button" onClick=${() => setShowFiles(!showFiles)} aria-expanded=${showFiles}>
        ${showFiles ? 'Hide' : 'Show'} ${files.data.files.length} files</button></p>
      ${showFiles && html`<div class="table-wrap"><table><thead><tr><th>File</th><th>SHA-256</th></tr></thead>
        <tbody>${files.data.files.map((f) => html`<tr><td class="mono">${f.file_name}</td><td class="mono">${f.file_hash}</td></tr>`)}</tbody></table></div>`}`}`}
  </main>`;
}
