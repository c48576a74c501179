// The management API (/v1) as the console uses it. The API key lives in sessionStorage only (gone
// when the tab closes), travels in the x-api-key header only, never in a URL.
const STORAGE_KEY = 'liveupdate.apiKey';

export const session = {
  key: () => sessionStorage.getItem(STORAGE_KEY),
  signIn: (key) => sessionStorage.setItem(STORAGE_KEY, key),
  signOut: () => sessionStorage.removeItem(STORAGE_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const signedOutListeners = new Set();
/** Called when the API refuses the key (401): the console goes back to the sign-in page. */
export function onSignedOut(listener) {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** `path` segments are encoded here; `query` values that are '' or undefined are left out. */
export async function api(method, segments, { query, body } = {}) {
  const url = new URL('/v1/' + segments.map(encodeURIComponent).join('/'), location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  const headers = { 'x-api-key': session.key() || '' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' });
  } catch (error) {
    throw new ApiError(0, 'network_error', `The server could not be reached (${error.message}).`);
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const code = answer && answer.error ? answer.error : 'http_' + response.status;
    const message = answer && answer.message ? answer.message : `The server answered ${response.status}.`;
    if (response.status === 401) signedOutListeners.forEach((listener) => listener(message));
    throw new ApiError(response.status, code, message);
  }
  return answer;
}

export const get = (segments, query) => api('GET', segments, { query });

/** The overview of every app the key can see, shared by the pages of one visit. */
let overview = null;
export function appsOverview(refresh = false) {
  if (refresh || !overview) {
    overview = get(['overview']).catch((error) => { overview = null; throw error; });
  }
  return overview;
}
export function forgetOverview() {
  overview = null;
}
