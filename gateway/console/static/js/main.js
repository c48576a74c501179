// The console's shell: sign-in, navigation, and the route table.
import { html, render, useState, useEffect, ErrorBox } from './ui.js';
import { session, onSignedOut, get, forgetOverview } from './api.js';
import { useLocation, navigate, href } from './router.js';
import { AppsPage } from './pages/apps.js';
import { DashboardPage } from './pages/dashboard.js';
import { BundlesPage, BundlePage } from './pages/bundles.js';
import { ChannelsPage, ChannelPage } from './pages/channels.js';
import { DevicesPage, DevicePage } from './pages/devices.js';
import { PreviewPage } from './pages/preview.js';
import { KeysPage } from './pages/keys.js';
import { EventsPage } from './pages/events.js';

function SignIn({ reason, onSignedIn }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    session.signIn(key.trim());
    try {
      await get(['apps']);
      onSignedIn();
    } catch (failure) {
      session.signOut();
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return html`<main>
    <form class="panel signin" onSubmit=${submit}>
      <h1>liveupdate console</h1>
      <p>Sign in with a management API key (<code>lu_…</code>). It is kept in this tab only
        (sessionStorage) and sent to this server in the <code>x-api-key</code> header.</p>
      ${reason && html`<div class="error" role="alert">${reason}</div>`}
      <label>API key
        <input type="password" name="api-key" autocomplete="off" required value=${key}
          onInput=${(e) => setKey(e.target.value)} autofocus /></label>
      <p><button class="primary" type="submit" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button></p>
      <${ErrorBox} error=${error} />
      <p class="muted">No key yet? An administrator creates one with
        <code>SELECT key FROM liveupdate.create_api_key(organization_id, 'console', 'write')</code>
        or in this console's API keys page.</p>
    </form>
  </main>`;
}

const APP_SECTIONS = [
  ['', 'Dashboard'], ['bundles', 'Bundles'], ['channels', 'Channels'], ['devices', 'Devices'],
  ['preview', 'What would a device get?'], ['events', 'Events'],
];

function Header({ appId, section, onSignOut }) {
  const current = (is) => (is ? 'page' : undefined);
  return html`<header class="top">
    <a class="brand" href="/console">liveupdate</a>
    <nav aria-label="Main">
      <a href="/console" aria-current=${current(!appId && section === 'apps')}>Apps</a>
      ${appId && APP_SECTIONS.map(([path, label]) => html`<a href=${href('apps', appId, ...(path ? [path] : []))}
          aria-current=${current(section === (path || 'dashboard'))}>${label}</a>`)}
      <a href="/console/keys" aria-current=${current(section === 'keys')}>API keys</a>
    </nav>
    <button type="button" onClick=${onSignOut}>Sign out</button>
  </header>`;
}

function NotFound() {
  return html`<main><h1>Nothing here</h1><p>This console page does not exist. <a href="/console">Back to the apps</a>.</p></main>`;
}

/** The page for a path: [section, app id, view]. */
function route(path, query) {
  const parts = path.split('/').slice(1).map(decodeURIComponent); // ['console', ...]
  if (parts[0] !== 'console') return ['none', null, html`<${NotFound} />`];
  const rest = parts.slice(1);
  if (rest.length === 0) return ['apps', null, html`<${AppsPage} />`];
  if (rest.length === 1 && rest[0] === 'keys') return ['keys', null, html`<${KeysPage} />`];
  if (rest[0] !== 'apps' || rest.length < 2) return ['none', null, html`<${NotFound} />`];
  const appId = rest[1];
  const [section, item] = [rest[2] || 'dashboard', rest[3]];
  const views = {
    dashboard: () => html`<${DashboardPage} appId=${appId} />`,
    bundles: () => (item ? html`<${BundlePage} appId=${appId} version=${item} />` : html`<${BundlesPage} appId=${appId} query=${query} />`),
    channels: () => (item ? html`<${ChannelPage} appId=${appId} name=${item} />` : html`<${ChannelsPage} appId=${appId} />`),
    devices: () => (item ? html`<${DevicePage} appId=${appId} deviceId=${item} />` : html`<${DevicesPage} appId=${appId} query=${query} />`),
    preview: () => html`<${PreviewPage} appId=${appId} query=${query} />`,
    events: () => html`<${EventsPage} appId=${appId} query=${query} />`,
  };
  const view = views[section];
  if (!view || rest.length > 4 || (item && !['bundles', 'channels', 'devices'].includes(section))) {
    return ['none', appId, html`<${NotFound} />`];
  }
  return [section, appId, view()];
}

function Console() {
  const [signedIn, setSignedIn] = useState(() => Boolean(session.key()));
  const [reason, setReason] = useState(null);
  const { path, query } = useLocation();
  useEffect(() => onSignedOut((message) => {
    session.signOut();
    forgetOverview();
    setReason(`Signed out: ${message}`);
    setSignedIn(false);
  }), []);
  if (!signedIn) {
    return html`<${SignIn} reason=${reason} onSignedIn=${() => { setReason(null); setSignedIn(true); }} />`;
  }
  const signOut = () => {
    session.signOut();
    forgetOverview();
    setReason(null);
    setSignedIn(false);
    navigate('/console');
  };
  const [section, appId, view] = route(path, query);
  return html`<${Header} appId=${appId} section=${section} onSignOut=${signOut} />${view}`;
}

const root = document.getElementById('app');
root.textContent = '';
render(html`<${Console} />`, root);
