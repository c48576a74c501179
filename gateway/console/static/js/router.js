// Client-side routing under /console: links are ordinary <a href> (keyboard and middle-click work);
// same-tab clicks on console links are handled here without a page load. The gateway answers every
// /console path with the page, so deep links and reloads land on the right view.
import { useState, useEffect } from './ui.js';

const listeners = new Set();

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  listeners.forEach((listener) => listener());
  window.scrollTo(0, 0);
}

export function useLocation() {
  const [location, setLocation] = useState(() => window.location.pathname + window.location.search);
  useEffect(() => {
    const update = () => setLocation(window.location.pathname + window.location.search);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => { listeners.delete(update); window.removeEventListener('popstate', update); };
  }, []);
  const url = new URL(location, window.location.origin);
  return { path: url.pathname.replace(/\/+$/, '') || '/', query: url.searchParams };
}

document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest && event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, window.location.origin);
  if (url.origin !== window.location.origin || !url.pathname.startsWith('/console')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});

/** A console URL: /console/apps/<app>/... with every segment encoded. */
export function href(...segments) {
  return '/console' + segments.map((s) => '/' + encodeURIComponent(s)).join('');
}
