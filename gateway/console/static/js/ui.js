// Shared view helpers. Text is always rendered as text (Preact escapes it); nothing here builds
// HTML from strings, so text from the database can never become markup.
import { html, useState, useEffect, useCallback, useRef } from '../vendor/htm-preact-standalone.module.js';

export { html, useState, useEffect, useCallback, useRef };
export { render, useMemo, useContext, createContext } from '../vendor/htm-preact-standalone.module.js';

/** An API error in words, with the API's code and HTTP status. */
export function ErrorBox({ error }) {
  if (!error) return null;
  const code = error.code || 'network_error';
  return html`<div class="error" role="alert">
    ${error.message || String(error)} <code>${code}</code>${error.status ? html` <span class="muted">(HTTP ${error.status})</span>` : ''}
  </div>`;
}

export function Loading({ what }) {
  return html`<p class="progress" role="status">Loading ${what || ''}…</p>`;
}

export function Empty({ children }) {
  return html`<div class="empty">${children}</div>`;
}

/**
 * Loads `load()` whenever `deps` change: {data, error, loading, reload}. A newer load wins over an
 * older one still in flight.
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    Promise.resolve()
      .then(load)
      .then((data) => { if (mine === generation.current) setState({ data, error: null, loading: false }); },
        (error) => { if (mine === generation.current) setState({ data: null, error, loading: false }); });
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

/**
 * An action button's state: run(fn) shows progress while fn runs, then its error or `done` text.
 */
export function useAction() {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const run = async (fn, doneText) => {
    setState({ busy: true, error: null, done: null });
    try {
      const result = await fn();
      setState({ busy: false, error: null, done: doneText || null });
      return result;
    } catch (error) {
      setState({ busy: false, error, done: null });
      return undefined;
    }
  };
  return { ...state, run };
}

export function ActionStatus({ action }) {
  if (action.busy) return html`<span class="progress" role="status">Working…</span>`;
  if (action.error) return html`<${ErrorBox} error=${action.error} />`;
  if (action.done) return html`<div class="notice" role="status">${action.done}</div>`;
  return null;
}

/** Why a button is disabled for the caller's rights, or '' when allowed. */
export function rightsHint(rights, needed) {
  const order = ['read', 'upload', 'write', 'admin'];
  return order.indexOf(rights) >= order.indexOf(needed) ? ''
    : `Needs ${needed} rights on this app; this API key has ${rights || 'none'}.`;
}

export function fmtDate(value) {
  if (!value) return '—';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function fmtNumber(n) {
  return n === null || n === undefined ? '—' : Number(n).toLocaleString('en-US');
}

export function fmtPercent(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? '—' : `${(Number(fraction) * 100).toFixed(digits)}%`;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = Number(n);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}
