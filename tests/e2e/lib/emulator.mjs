// The emulator the page signs in to (E2E_EMULATOR_URL, started by
// `cargo xtask test`), driven the way an admin's scripts would: ROPC tokens
// and Graph calls, plus its control API for resets and inspection.

export const EMULATOR_URL = process.env.E2E_EMULATOR_URL;
export const TENANT = 'contoso.onmicrosoft.com';
export const CLIENT_ID = '3c9f1e2a-7d4b-4a8e-b6c5-1f0e9d8c7b6a';
export const PASSWORD = 'Demo-Passw0rd!';

async function ok(response, what) {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

/** A Graph (or ARM) token for a demo user through ROPC (the client is a public client). */
export async function userToken(user = 'admin', scope = 'https://graph.microsoft.com/.default') {
  const body = new URLSearchParams({
    grant_type: 'password',
    client_id: CLIENT_ID,
    username: `${user}@${TENANT}`,
    password: PASSWORD,
    scope,
  });
  const r = await fetch(`${EMULATOR_URL}/login/${TENANT}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  return (await ok(r, 'ROPC token')).access_token;
}

export async function graph(method, path, token, body) {
  const r = await fetch(`${EMULATOR_URL}/graph/v1.0${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return ok(r, `Graph ${method} ${path}`);
}

/** A fresh demo tenant (request log cleared). */
export async function reset() {
  await ok(await fetch(`${EMULATOR_URL}/_emulator/reset`, { method: 'POST' }), 'reset');
}

/**
 * Registers `uri` as a spa redirect URI of the page's sign-in client, as an
 * admin would: read the application, PATCH old + new.
 */
export async function registerRedirectUri(uri) {
  const token = await userToken('admin');
  const found = await graph('GET', `/applications?$filter=${encodeURIComponent(`appId eq '${CLIENT_ID}'`)}`, token);
  const app = found.value[0];
  const uris = app.spa?.redirectUris ?? [];
  if (!uris.includes(uri)) {
    await graph('PATCH', `/applications/${app.id}`, token, { spa: { redirectUris: [...uris, uri] } });
  }
}

export async function state() {
  return ok(await fetch(`${EMULATOR_URL}/_emulator/state`), 'state');
}

export async function requests() {
  return (await ok(await fetch(`${EMULATOR_URL}/_emulator/requests`), 'requests')).value;
}

/** Signs in from the page's header as `user` through the emulator's pages. */
export async function signIn(page, user = 'admin') {
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.href.startsWith(EMULATOR_URL));
  await page.locator(`#pick-${user}`).click();
  // Consent is asked only when the client lacks it.
  const back = page.waitForURL((u) => !u.href.startsWith(EMULATOR_URL), { timeout: 30_000 });
  const consent = page.locator('#consent-accept');
  await Promise.race([back, consent.waitFor({ timeout: 30_000 }).then(() => consent.click()).catch(() => {})]);
  await back;
  await page.locator('#signed-in-account').waitFor({ timeout: 30_000 });
}

/** Fault settings: `{ spec: 'latency=300ms' }` or JSON fields such as `{ latencyMs: 0 }`. */
export async function faults(settings) {
  const r = await fetch(`${EMULATOR_URL}/_emulator/faults`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(settings),
  });
  return ok(r, 'faults');
}
