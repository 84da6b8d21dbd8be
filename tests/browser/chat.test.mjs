// Two headless Chromium pages chat through the chat_server example; the server is killed
// and restarted, and the pages must reconnect by themselves. Checked on the way, as the README
// says: the server pings the idle pages (its log shows each ping and each pong), drops a
// client that completed the handshake and then never answered (a raw socket here), and the
// pages' waits between attempts follow the backoff policy (growing ceilings, full jitter,
// each wait really waited). Every check is recorded and all failures are reported together.
//
// Run through ./run, which builds the server and sets CHAT_SERVER_BIN (and CHAT_PIDS_FILE,
// where every server PID started here is recorded for its cleanup).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.CHAT_SERVER_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PIDS_FILE = process.env.CHAT_PIDS_FILE;
const WAIT = { timeout: 15_000 };
// Ping idle clients every second, drop them after one more: the browsers answer the pings.
const PING_MS = 1000;
const TIMEOUT_MS = 1000;
// The page's policy (chat.html): the ceiling of wait n is min(10 s, 500 ms * 2^n), written
// out; the wait is uniform in [0, ceiling).
const CEILINGS = [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000];

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
  const child = spawn(BIN, [`127.0.0.1:${port}`, `${PING_MS}`, `${TIMEOUT_MS}`], {
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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** True once `predicate()` holds (polled every 50 ms), false if it still does not after `ms`. */
async function eventually(predicate, ms = 15_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
    if (await predicate()) return true;
  }
  return predicate();
}

/** The numbers of the WebSocket clients that joined `server`, in order. */
const joinedIds = (server) =>
  [...server.log.matchAll(/^chat_server: client (\d+) joined/gm)].map((m) => Number(m[1]));

/** What `server` logged about client `id`, without the "chat_server: client N " prefix. */
function linesOf(server, id) {
  const prefix = `chat_server: client ${id} `;
  return server.log.split('\n').filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
}
const count = (lines, re) => lines.filter((l) => re.test(l)).length;

/**
 * A client that vanished: it opens a WebSocket with a handshake written by hand (the key and
 * accept value of RFC 6455 section 1.3), then never sends a byte, so no ping is answered.
 * Resolves when the server closes the connection, with the response head and every byte
 * after it; `null` if that did not happen within `ms`.
 */
function deadClient(port, ms) {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    let bytes = Buffer.alloc(0);
    const done = (result) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(null), ms);
    socket.on('connect', () =>
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
          'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
          'Sec-WebSocket-Version: 13\r\n\r\n',
      ),
    );
    socket.on('data', (data) => {
      bytes = Buffer.concat([bytes, data]);
    });
    socket.on('end', () => {
      const end = bytes.indexOf('\r\n\r\n');
      const head = end < 0 ? bytes.toString() : bytes.subarray(0, end).toString();
      done({ head, after: end < 0 ? [] : [...bytes.subarray(end + 4)] });
    });
    socket.on('error', (e) => done({ head: `error: ${e.message}`, after: [] }));
  });
}

test('two pages chat, are kept alive, survive a server restart, and reconnect with backoff', async () => {
  assert.ok(BIN, 'CHAT_SERVER_BIN must point at the chat_server example binary');
  const problems = [];
  const check = (ok, what) => {
    if (!ok) problems.push(what);
  };
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
    // Chromium offers permessage-deflate and the server accepts it (the page shows what
    // the 101 agreed on).
    const extensions = (page) => page.locator('body').getAttribute('data-extensions');
    for (const [name, page] of [['alice', alice], ['bob', bob]]) {
      const agreed = await extensions(page);
      check(/^permessage-deflate(;|$)/.test(agreed || ''), `${name} negotiated permessage-deflate: ${agreed}`);
      if (name === 'alice') console.log(`Chromium's extensions: ${agreed}`);
    }
    const nick = async (page) => page.locator('#nick').textContent();
    const [aliceNick, bobNick] = [await nick(alice), await nick(bob)];

    await say(alice, 'hello from alice');
    await sees(bob, `${aliceNick}: hello from alice`);
    await sees(alice, `${aliceNick}: hello from alice`);
    await say(bob, 'hi alice');
    await sees(alice, `${bobNick}: hi alice`);
    // A line long enough for the server to compress (Chromium compresses every line): it
    // must arrive whole, the same on both pages.
    const long = Array.from({ length: 300 }, (_, i) => `word${i % 17} élan`).join(' ');
    await say(alice, long);
    const full = `${aliceNick}: ${long}`;
    for (const [name, page] of [['alice', alice], ['bob', bob]]) {
      const shown = await eventually(() =>
        page.evaluate((text) => [...document.querySelectorAll('#log li')].some((li) => li.textContent === text), full),
      );
      check(shown, `${name} shows the ${Buffer.byteLength(full)}-byte line whole`);
    }
    const pageIds = joinedIds(server);
    check(pageIds.length === 2, `two pages joined, log says ${pageIds}`);

    // Idle: the server pings both pages, the browsers answer, nobody is dropped. Meanwhile a
    // third client joins and goes silent: one ping, then it is dropped.
    const dead = deadClient(port, 15_000);
    const answered = await eventually(() =>
      pageIds.every((id) => count(linesOf(server, id), /^answered a ping$/) >= 2),
    );
    check(answered, `each page answered two pings; log:\n${server.log}`);
    for (const id of pageIds) {
      const lines = linesOf(server, id);
      const pings = lines.filter((l) => /^pinged at \d+ ms$/.test(l)).map((l) => Number(l.split(' ')[2]));
      check(pings.length >= 2, `client ${id} was pinged twice: ${lines}`);
      // The next ping comes after a whole interval of silence, which started at the pong.
      const gaps = pings.slice(1).map((t, i) => t - pings[i]);
      check(gaps.every((g) => g >= PING_MS), `client ${id}: pings ${PING_MS} ms apart at least: ${pings}`);
      check(count(lines, /dropped|left/) === 0, `client ${id} stayed: ${lines}`);
    }
    check((await state(alice)) === 'open' && (await state(bob)) === 'open', 'both pages open');

    const gone = await dead;
    check(gone !== null, 'the silent client was dropped within 15 s');
    if (gone) {
      check(gone.head.startsWith('HTTP/1.1 101 '), `101 for the silent client: ${gone.head}`);
      check(gone.head.includes('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='), gone.head);
      // Exactly one frame before the end: an unmasked ping with the 4-byte sequence number 0.
      check(
        JSON.stringify(gone.after) === JSON.stringify([0x89, 0x04, 0, 0, 0, 0]),
        `one ping (89 04 00 00 00 00), then the end: got ${gone.after}`,
      );
    }
    const deadId = joinedIds(server).find((id) => !pageIds.includes(id));
    // The server logs the drop once its side of the connection is closed too.
    await eventually(() => linesOf(server, deadId).some((l) => l.startsWith('dropped')), 5_000);
    const deadLines = deadId === undefined ? [] : linesOf(server, deadId);
    check(count(deadLines, /^pinged at \d+ ms$/) === 1, `one ping for the silent client: ${deadLines}`);
    const silence = deadLines.map((l) => /^dropped as dead .*nothing received for (\d+) ms/.exec(l)).find(Boolean);
    check(silence, `the silent client dropped as dead: ${deadLines}`);
    if (silence) {
      // Not before a whole interval and timeout of silence; the upper bound is coarse, for
      // a loaded machine.
      const ms = Number(silence[1]);
      check(ms >= PING_MS + TIMEOUT_MS && ms < PING_MS + TIMEOUT_MS + 5000, `dropped after ${ms} ms`);
    }

    // The server dies: the pages notice (1006) and start retrying with backoff.
    await killServer(server);
    // The state text moves on to the next attempt as soon as the first wait ends, and that
    // wait may be a few milliseconds (jitter in [0, 500)), so the code is read from the record
    // the page keeps of each decided wait, not from the text on screen.
    for (const page of [alice, bob]) {
      await page.waitForFunction(() => window.reconnects.length >= 1, null, WAIT);
      const first = await page.evaluate(() => window.reconnects[0]);
      assert.equal(first.code, 1006, `the first close the page saw: ${JSON.stringify(first)}`);
    }
    // Down until each page has failed three times (four waits decided).
    const retried = await eventually(async () =>
      (await Promise.all([alice, bob].map((p) => p.evaluate(() => window.reconnects.length)))).every(
        (n) => n >= 4,
      ),
    );
    check(retried, 'each page decided four waits while the server was down');
    const restartedAt = Date.now();
    server = await startServer(port);
    for (const page of [alice, bob]) {
      await page.locator('body[data-state="open"]').waitFor(WAIT);
    }
    console.log(`both pages reconnected ${Date.now() - restartedAt} ms after the restart`);
    for (const [name, page] of [['alice', alice], ['bob', bob]]) {
      const agreed = await extensions(page);
      check(/^permessage-deflate(;|$)/.test(agreed || ''), `${name} negotiated permessage-deflate again: ${agreed}`);
    }

    // The waits: wait n under the n-th ceiling of the table, each waited in full, all of
    // them different fractions of their ceilings (jitter).
    const fractions = [];
    for (const [name, page] of [['alice', alice], ['bob', bob]]) {
      const waits = await page.evaluate(() => window.reconnects);
      check(waits.length >= 4, `${name}: ${waits.length} waits`);
      waits.forEach((w, n) => {
        const what = `${name} wait ${n}: ${JSON.stringify(w)}`;
        check(w.n === n && w.code === 1006, what);
        check(w.ceiling === CEILINGS[n], `${what}: ceiling ${CEILINGS[n]} expected`);
        check(w.delay >= 0 && w.delay < CEILINGS[n], `${what}: not in [0, ${CEILINGS[n]})`);
        // setTimeout truncates to whole milliseconds and never fires early; performance.now()
        // is coarsened to 0.1 ms: 2 ms of slack.
        check(w.firedAt - w.scheduledAt >= w.delay - 2, `${what}: the next attempt came early`);
        fractions.push(w.delay / w.ceiling);
      });
    }
    check(new Set(fractions).size === fractions.length, `jittered waits differ: ${fractions}`);

    await say(bob, 'back again');
    await sees(alice, `${bobNick}: back again`);
    await say(alice, 'welcome back');
    await sees(bob, `${aliceNick}: welcome back`);
    // Messages from before the restart are still on screen; the new room only relays.
    await sees(bob, 'hello from alice');

    if (process.env.CHAT_SCREENSHOT) await bob.screenshot({ path: process.env.CHAT_SCREENSHOT });
    check(/client \d+ joined, 2 online/.test(server.log), `both pages rejoined:\n${server.log}`);
  } finally {
    await cleanup();
  }
  assert.deepEqual(problems, []);
});
