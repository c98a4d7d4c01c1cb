/**
 * The browser suite's harness: one embedded system (with the demo data) and one Chromium for the
 * whole suite, pages that record every error the app logs or throws, an accessibility check (axe-core
 * run inside the page) and screenshots at phone and desktop width under `.e2e-artifacts/`.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { repoRoot } from '../../packages/cli/src/repo-root.ts';
import type { System } from '../../packages/cli/src/system.ts';
import { ensureWebBuild } from '../../packages/cli/src/web-build.ts';
import { startTestSystem } from '../system/support.ts';

export const ARTIFACTS = join(repoRoot, '.e2e-artifacts');
const SCREENSHOTS = join(ARTIFACTS, 'screenshots');

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/** The Chromium to drive: `CHROME_PATH`, else the machine's `chromium`; never a downloaded one. */
export function chromiumPath(): string | undefined {
  if (process.env.CHROME_PATH) return process.env.CHROME_PATH;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** What the suite shares. */
export interface E2E {
  system: System;
  browser: Browser;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Builds the web app if needed, starts the system and the browser. */
export async function startE2E(): Promise<E2E> {
  const executablePath = chromiumPath();
  assert.ok(
    executablePath,
    'Chromium was not found: install it (apt-get install -y chromium) or set CHROME_PATH',
  );
  await ensureWebBuild();
  const handle = await startTestSystem({ skipDemoStock: false });
  const browser = await chromium.launch({
    executablePath,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    system: handle.system,
    browser,
    baseUrl: handle.system.gatewayUrl,
    async stop() {
      await browser.close().catch(() => undefined);
      await handle.stop();
    },
  };
}

/** A browser tab that remembers every error the app logged or threw. */
export interface Tab {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and console errors of the app (not the browser's own failed-request lines). */
  errors: string[];
  /** Answers of 400 and above, and requests that got none: told when a test fails. */
  failedRequests: string[];
  close(): Promise<void>;
}

/** A fresh context (own storage, so its own session) with a page at desktop width. */
export async function openTab(e2e: E2E): Promise<Tab> {
  const context = await e2e.browser.newContext({ baseURL: e2e.baseUrl, viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  const failedRequests: string[] = [];
  page.on('response', (res) => {
    if (res.status() >= 400) failedRequests.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  page.on('requestfailed', (req) => failedRequests.push(`failed ${req.method()} ${req.url()}`));
  page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    // The browser itself logs each failed HTTP request; tests provoke some (a 401, a 409).
    if (/^Failed to load resource/.test(msg.text())) return;
    errors.push(`console: ${msg.text()}`);
  });
  return { page, context, errors, failedRequests, close: () => context.close() };
}

/** Runs `steps` in `tab`; on failure saves a screenshot of where it stopped (`failed-<name>.png`). */
export async function inTab<T>(tab: Tab, name: string, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (err) {
    await tab.page
      .screenshot({ path: join(SCREENSHOTS, `failed-${name}.png`), fullPage: true })
      .catch(() => undefined);
    console.error(
      `${name} stopped at ${tab.page.url()}\napp errors: ${tab.errors.join('; ') || 'none'}\n` +
        `failed requests: ${tab.failedRequests.join('; ') || 'none'}`,
    );
    throw err;
  } finally {
    await tab.close();
  }
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Checks the page as it is now: no serious or critical accessibility violation (axe-core, WCAG 2
 * A and AA rules), no error from the app; then saves screenshots at phone and desktop width.
 */
export async function checkPage(tab: Tab, name: string): Promise<void> {
  const { page } = tab;
  await page.waitForLoadState('networkidle').catch(() => undefined);
  // Evaluated through the debugging protocol, so the page's content security policy stays as it is.
  await page.evaluate(`${axeSource}\n;undefined`);
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
       .then((result) => result.violations)`,
  )) as AxeViolation[];
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map(
      (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
    [],
    `accessibility of ${name}`,
  );
  assert.deepEqual(tab.errors, [], `errors on ${name}`);
  const size = page.viewportSize() ?? DESKTOP;
  for (const [label, viewport] of [
    ['phone', PHONE],
    ['desktop', DESKTOP],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
  }
  await page.setViewportSize(size);
}

/** The demo accounts `bazaar up` generated for this system. */
export function demoAccounts(system: System) {
  const users = system.bootstrapUsers?.users;
  assert.ok(users, 'the system made its demo accounts');
  return users;
}

/** Logs in through the login page. */
export async function logIn(tab: Tab, email: string, password: string): Promise<void> {
  const { page } = tab;
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: /^Log out/ }).waitFor();
}
