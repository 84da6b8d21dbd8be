// A Node `ws` echo server with permessage-deflate on (ws servers leave it off by default),
// for our echo_client. Usage: node ws_echo_server.mjs NAME [JSON of perMessageDeflate options]
//
// Listens on a free port of 127.0.0.1 and prints `listening on ws://127.0.0.1:PORT`; per
// connection it prints the extension it agreed on (`connection N extensions: ...`, the
// Sec-WebSocket-Extensions it answered with) and, per message, its size and the bytes it
// took on the wire, so the runner can check that our client compressed.
import { WebSocketServer } from 'ws';

const name = process.argv[2] || 'ws';
const options = { threshold: 0, ...JSON.parse(process.argv[3] || '{}') };
const log = (line) => process.stdout.write(`${name}: ${line}\n`);

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: options });
let connections = 0;
const agreed = new WeakMap();
wss.on('headers', (headers, req) => {
  const line = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
  agreed.set(req, line ? line.replace(/^[^:]*:\s*/, '') : 'none');
});
wss.on('connection', (ws, req) => {
  const id = ++connections;
  log(`connection ${id} extensions: ${agreed.get(req)}`);
  const tcp = req.socket;
  let before = tcp.bytesRead;
  ws.on('message', (data, isBinary) => {
    log(`connection ${id} ${isBinary ? 'binary' : 'text'} of ${data.length} B in ${tcp.bytesRead - before} wire bytes`);
    ws.send(data, { binary: isBinary }, () => {
      before = tcp.bytesRead;
    });
  });
  ws.on('close', (code) => log(`connection ${id} closed ${code}`));
  ws.on('error', (e) => log(`connection ${id} error: ${e.message}`));
});
wss.on('listening', () => log(`listening on ws://127.0.0.1:${wss.address().port}`));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
