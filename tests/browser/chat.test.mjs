// Two headless Chromium pages chat through the chat_server example; the server is killed
// and restarted, and the pages must reconnect by themselves.
//
// Run through ./run, which builds the server and sets CHAT_SERVER_BIN (and CHAT_PIDS_FILE,
// where every server PID started here is recorded for its cleanup).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.CHAT_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PIDS_FILE = process.env.CHAT_PIDS_FILE;
const WAIT = { timeout: 15_000 };
// Ping idle clients every second, drop them after one more: the browsers answer the pings.
const PING_MS = '1000';
const TIMEOUT_MS = '1000';

const servers = new Set();
let context = null;
let profile = null;

/** A free port on 127.0.0.1 (the OS picks one; we release it for the server). */
function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Start the chat server on `port`; resolves once it listens. */
function startServer(port) {
  const child = spawn(BIN, [`127.0.0.1:${port}`, PING_MS, TIMEOUT_MS], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  servers.add(child);
  if (PIDS_FILE) appendFileSync(PIDS_FILE, `${child.pid}\n`);
  child.log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('chat_server did not start')), 10_000);
    child.stdout.on('data', (data) => {
      child.log += data;
      if (child.log.includes('open http://')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`chat_server exited with ${code}:\n${child.log}`)));
  });
}

/** Kill the server without a goodbye, as a crash or a restart would. */
function killServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  }).then(() => servers.delete(child));
}

async function cleanup() {
  for (const child of servers) await killServer(child);
  if (context) await context.close().catch(() => {});
  context = null;
  if (profile) rmSync(profile, { recursive: true, force: true });
  profile = null;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => cleanup().finally(() => process.exit(1)));
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
}

async function sees(page, text) {
  await page.locator('#log li', { hasText: text }).first().waitFor(WAIT);
}

const state = (page) => page.locator('body').getAttribute('data-state');

test('two pages chat, survive a server restart, and reconnect by themselves', async () => {
  assert.ok(BIN, 'CHAT_SERVER_BIN must point at the chat_server example binary');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  try {
    let server = await startServer(port);
    profile = mkdtempSync(join(tmpdir(), 'rfc6455-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
    const [alice, bob] = [await context.newPage(), await context.newPage()];
    for (const page of [alice, bob]) {
      await page.goto(url);
      await page.locator('body[data-state="open"]').waitFor(WAIT);
    }
    const nick = async (page) => page.locator('#nick').textContent();
    const [aliceNick, bobNick] = [await nick(alice), await nick(bob)];

    await say(alice, 'hello from alice');
    await sees(bob, `${aliceNick}: hello from alice`);
    await sees(alice, `${aliceNick}: hello from alice`);
    await say(bob, 'hi alice');
    await sees(alice, `${bobNick}: hi alice`);

    // Idle for a few ping intervals: the browsers answer the server's pings, nobody is
    // dropped, and the pages stay open.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(await state(alice), 'open');
    assert.equal(await state(bob), 'open');
    assert.doesNotMatch(server.log, /dropped as dead/);

    // The server dies: the pages notice (1006) and start retrying with backoff.
    await killServer(server);
    for (const page of [alice, bob]) {
      await page.locator('body[data-state="reconnecting"]').waitFor(WAIT);
      assert.match(await page.locator('#state').textContent(), /code 1006/);
    }
    // Down for a moment, long enough for some retries to fail.
    await new Promise((r) => setTimeout(r, 1_500));
    const restartedAt = Date.now();
    server = await startServer(port);
    for (const page of [alice, bob]) {
      await page.locator('body[data-state="open"]').waitFor(WAIT);
    }
    console.log(`both pages reconnected ${Date.now() - restartedAt} ms after the restart`);

    await say(bob, 'back again');
    await sees(alice, `${bobNick}: back again`);
    await say(alice, 'welcome back');
    await sees(bob, `${aliceNick}: welcome back`);
    // Messages from before the restart are still on screen; the new room only relays.
    await sees(bob, 'hello from alice');

    if (process.env.CHAT_SCREENSHOT) await bob.screenshot({ path: process.env.CHAT_SCREENSHOT });
    assert.match(server.log, /client joined, 2 online/);
  } finally {
    await cleanup();
  }
});
