#!/usr/bin/env node
// An emulated Raspberry Pi Pico on a TCP socket: the real MicroPython rp2 firmware on
// rp2040js (tools/rp2040/emulator.js), its USB CDC serial port relayed byte for byte, so
// that `mpremote connect socket://127.0.0.1:PORT ...` (pyserial's serial_for_url) drives it
// as it drives a Pico on /dev/ttyACM0: `make deploy BOARD=rp2040 PORT=socket://...` and
// `make board-test PORT=socket://...` run unchanged.
//
//   node tools/rp2040/bridge.js [--port N] [--host 127.0.0.1] [--firmware FILE.uf2]
//
// On start it boots the firmware and, once USB is enumerated (the REPL can be reached),
// prints one line, "rp2040_bridge: listening on socket://HOST:PORT". It serves one
// connection at a time for as long as it runs; the board (its RAM and its littlefs flash)
// lives across connections, as a real board does between mpremote runs, but not across
// bridge processes. Everything is the firmware's own: REPL, raw REPL, raw paste, soft reset,
// Ctrl-C. Emulated time runs at most as fast as the host's clock while the board idles
// (so an idle board costs no host CPU) and as fast as the host can emulate when it is busy
// (0.3-0.5x real time here); time.ticks_us() on the board is emulated time at 125 MHz.
// SIGTERM / SIGINT stop it at once, whatever the board is doing.
// Not emulated: WLAN (this is a Pico, not a Pico W), and os.urandom() returns constant
// bytes (the ring oscillator's random bit is not modelled): nxsecure refuses it.
import net from 'node:net';
import { Board } from './emulator.js';

function usage(msg) {
  if (msg) process.stderr.write(`rp2040_bridge: ${msg}\n`);
  process.stderr.write('usage: node tools/rp2040/bridge.js [--port N] [--host H] [--firmware FILE.uf2]\n');
  process.exit(2);
}

const opt = { port: 0, host: '127.0.0.1', firmware: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--port') opt.port = parseInt(argv[++i], 10);
  else if (a === '--host') opt.host = argv[++i];
  else if (a === '--firmware') opt.firmware = argv[++i];
  else if (a === '-h' || a === '--help') usage();
  else usage(`unknown argument ${a}`);
}
if (!Number.isInteger(opt.port) || opt.port < 0 || opt.port > 65535) usage('bad --port');

const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

let board;
try {
  board = await Board.create({ firmware: opt.firmware, pace: true });
} catch (e) {
  usage(e.message);
}

let client = null;
board.onSerialData = (buf) => {
  if (client && !client.destroyed) client.write(Buffer.from(buf));
};

const server = net.createServer((sock) => {
  if (client) {
    sock.end('rp2040_bridge: busy (one connection at a time)\r\n');
    return;
  }
  client = sock;
  sock.setNoDelay(true);
  sock.on('data', (data) => board.send(data));
  const gone = () => {
    if (client === sock) client = null;
  };
  sock.on('close', gone);
  sock.on('error', gone);
});
server.on('error', (e) => {
  process.stderr.write(`rp2040_bridge: ${e.message}\n`);
  process.exit(2);
});

board.onConnected = () => {
  server.listen(opt.port, opt.host, () => {
    const a = server.address();
    process.stdout.write(`rp2040_bridge: listening on socket://${a.address}:${a.port}\n`);
  });
};
board.start();
