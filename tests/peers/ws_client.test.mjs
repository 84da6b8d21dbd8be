// Node's `ws` as a client of our echo_server, permessage-deflate negotiated: every message
// (text and binary of 0 B to 16 MiB) must come back byte-exact, and the server must have
// accepted the parameters asked for, so that it compresses under a small window too.
//
// Run through ./run, which starts the server and sets ECHO_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { deflateRawSync, constants } from 'node:zlib';
import WebSocket from 'ws';
import { messages, prng, randomBinary } from './messages.mjs';

const URL = process.env.ECHO_URL;
const SEED = Number(process.env.PEERS_SEED || 0x5eed);
const MESSAGES = messages(SEED);
const TIMEOUT_MS = 60_000;

/** The parameters of a `Sec-WebSocket-Extensions` value's permessage-deflate element. */
function deflateParams(header) {
  const element = (header || '')
    .split(',')
    .map((e) => e.split(';').map((p) => p.trim()))
    .find(([name]) => name === 'permessage-deflate');
  if (!element) return null;
  return Object.fromEntries(element.slice(1).map((p) => {
    const [k, v] = p.split('=');
    return [k, v === undefined ? true : v.replace(/"/g, '')];
  }));
}

/** Open a client with `perMessageDeflate` options; resolves with the socket, the response
 * header and the TCP socket (for byte counts). */
function open(url, perMessageDeflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 64 << 20 });
    let response = null;
    ws.on('upgrade', (res) => {
      response = res;
    });
    ws.once('open', () => resolve({ ws, header: response.headers['sec-websocket-extensions'], tcp: response.socket }));
    ws.once('error', reject);
  });
}

/** The next message on `ws`, or a rejection on close, error or timeout. */
function nextMessage(ws) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(reject, new Error('no echo within 60 s')), TIMEOUT_MS);
    const onMessage = (data, isBinary) => done(resolve, { data, isBinary });
    const onClose = (code, reason) => done(reject, new Error(`closed ${code} ${reason}`));
    const onError = (e) => done(reject, e);
    function done(f, v) {
      clearTimeout(timer);
      ws.off('message', onMessage).off('close', onClose).off('error', onError);
      f(v);
    }
    ws.on('message', onMessage).on('close', onClose).on('error', onError);
  });
}

const digest = (b) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/**
 * Send every message over `first` and compare every echo, then close cleanly; returns what went wrong
 * (one line per message) and the bytes the TCP socket read for each echo. A message that
 * ends the connection is reported and the rest go over a new one, so one failure does not
 * hide the others.
 */
async function echoAll(variant, first) {
  const problems = [];
  const read = {};
  let conn = first;
  for (const m of MESSAGES) {
    if (!conn) conn = await open(URL, variant.options);
    const { ws, tcp } = conn;
    const before = tcp.bytesRead;
    ws.send(m.data, { binary: m.binary });
    let echo;
    try {
      echo = await nextMessage(ws);
    } catch (e) {
      problems.push(`${m.what}: ${e.message}`);
      ws.terminate();
      conn = null;
      continue;
    }
    read[m.what] = tcp.bytesRead - before;
    if (echo.isBinary !== m.binary) problems.push(`${m.what}: echoed as ${echo.isBinary ? 'binary' : 'text'}`);
    else if (!echo.data.equals(m.data)) {
      problems.push(`${m.what}: echo of ${echo.data.length} B differs (sha256 ${digest(echo.data)}, sent ${digest(m.data)})`);
    }
  }
  if (conn) {
    const closed = new Promise((resolve) => conn.ws.once('close', (code) => resolve(code)));
    conn.ws.close(1000, 'done');
    const code = await closed;
    if (code !== 1000) problems.push(`the server answered the close with ${code}`);
  }
  return { problems, read };
}

// Each client asks for different parameters; `expect` is what the server's response must say.
// threshold 0: ws compresses even the empty message (its default leaves out those below 1 KiB).
const VARIANTS = [
  { name: 'ws defaults', options: true, expect: {} },
  {
    name: 'serverMaxWindowBits 10',
    options: { serverMaxWindowBits: 10, threshold: 0 },
    expect: { server_max_window_bits: '10' },
  },
  {
    name: 'serverMaxWindowBits 8 (the smallest)',
    options: { serverMaxWindowBits: 8, threshold: 0 },
    expect: { server_max_window_bits: '8' },
  },
  {
    name: 'clientMaxWindowBits 9',
    options: { clientMaxWindowBits: 9, threshold: 0 },
    expect: { client_max_window_bits: '9' },
  },
  {
    name: 'serverNoContextTakeover and clientNoContextTakeover',
    options: { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 },
    expect: { server_no_context_takeover: true, client_no_context_takeover: true },
  },
];

for (const variant of VARIANTS) {
  test(`ws client (${variant.name}) against echo_server: every echo byte-exact`, async () => {
    assert.ok(URL, 'ECHO_URL must be the echo_server URL');
    const started = Date.now();
    const first = await open(URL, variant.options);
    const { ws, header } = first;
    try {
      assert.equal(ws.extensions, 'permessage-deflate', `negotiated: ${header}`);
      const params = deflateParams(header);
      for (const [k, v] of Object.entries(variant.expect)) {
        assert.equal(params[k], v, `${k} in the response "${header}"`);
      }
    } catch (e) {
      ws.terminate();
      throw e;
    }
    const { problems, read } = await echoAll(variant, first);
    // The server compressed: the JSON-like echoes came in fewer bytes than they have (at
    // least a fifth fewer: under the smallest window, 256 bytes, they shrink by about 40 %).
    for (const n of [64 << 10, 1 << 20, 16 << 20]) {
      const what = `text of ${n} B`;
      if (!(read[what] < n * 0.8)) problems.push(`${what} echoed in ${read[what]} bytes: not compressed`);
    }
    const wire = (what) => `${what} in ${read[what]} B (${(read[what] / Number(what.split(' ')[2])).toFixed(3)})`;
    console.log(
      `# ${variant.name}: "${header}"; ${Date.now() - started} ms; echoes read: ` +
        [`text of ${1 << 20} B`, `text of ${16 << 20} B`, `binary of ${1 << 20} B`].map(wire).join(', '),
    );
    assert.deepEqual(problems, []);
  });
}

/**
 * Does ws inflate with the window it negotiated? A hand-written server agrees on
 * server_max_window_bits=10 and then sends one message whose deflate stream (made with a
 * 32 KiB window) copies bytes from 20000 back. ws must refuse it, and must accept the very
 * same frame when the response names no window (15 bits). That makes the small-window runs
 * above meaningful: a distance past our window would fail them.
 *
 * What ws (through zlib) does not enforce: zlib checks a distance against the window plus
 * what the current inflate call has written, and Node's zlib inflates in 16 KiB output
 * chunks, so a too-far distance that stays inside the current chunk passes. The near case
 * is logged (distance 1500 under a 1 KiB window), not asserted: it shows the limit of the
 * check, not our behaviour. Our own inflater is the strict one (tests/deflate_*.rs).
 */
async function oneFrame(extensions, payload) {
  const server = createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key:\s*(\S+)/i.exec(head)[1];
      const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: ${extensions}\r\n\r\n`,
      );
      // FIN | RSV1, binary; a 64-bit length.
      const header = Buffer.alloc(10);
      header[0] = 0xc2;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
      socket.write(Buffer.concat([header, payload]));
      socket.removeAllListeners('data');
      socket.on('data', () => {});
    });
    socket.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${server.address().port}/`;
  try {
    const ws = new WebSocket(url, { perMessageDeflate: true });
    const result = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ timeout: true }), 10_000);
      ws.on('message', (data) => {
        clearTimeout(timer);
        resolve({ data });
      });
      ws.on('error', (e) => {
        clearTimeout(timer);
        resolve({ error: e.message });
      });
    });
    ws.terminate();
    return result;
  } finally {
    server.close();
  }
}

/** A deflate stream (32 KiB window) of `block` twice: the copy is `block.length` back. */
function repeated(block) {
  const data = Buffer.concat([block, block]);
  const stream = deflateRawSync(data, { windowBits: 15, finishFlush: constants.Z_SYNC_FLUSH });
  assert.ok(stream.subarray(-4).equals(Buffer.from([0, 0, 0xff, 0xff])));
  return { data, payload: stream.subarray(0, -4) };
}

test('negative control: ws inflates with the window it negotiated (server_max_window_bits=10)', async () => {
  const far = repeated(randomBinary(prng(7), 20_000));
  assert.ok(far.payload.length < 21_000, 'the stream copies the second half');
  const wide = await oneFrame('permessage-deflate', far.payload);
  assert.ok(wide.data && wide.data.equals(far.data), `accepted with a 15-bit window: ${JSON.stringify(wide.error)}`);
  const narrow = await oneFrame('permessage-deflate; server_max_window_bits=10', far.payload);
  assert.ok(narrow.error, `refused under a 10-bit window: ${narrow.data ? 'delivered' : 'timeout'}`);
  console.log(`# distance 20000 under a 10-bit window: ${narrow.error}`);
  const near = repeated(randomBinary(prng(8), 1500));
  const nearResult = await oneFrame('permessage-deflate; server_max_window_bits=10', near.payload);
  console.log(`# distance 1500 under a 10-bit window (inside one zlib output chunk): ${nearResult.error ? `refused (${nearResult.error})` : 'accepted: ws does not enforce it'}`);
});
