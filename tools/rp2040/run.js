#!/usr/bin/env node
// Run MicroPython code on an emulated Raspberry Pi Pico (RP2040, the real rp2 firmware on
// rp2040js; tools/rp2040/emulator.js). The project's copy of ../shared/firmware/rp2040/run.js,
// same options and output, plus --report.
//
// Usage: node tools/rp2040/run.js [--firmware FILE.uf2] [--max-emu-s N] [--max-wall-s N] [--quiet]
//                    [--timestamps] [--put LOCAL:REMOTE]... [--chunk BYTES] [--keep-going]
//                    [--no-flash-write] [--report FILE] ITEM...
//   ITEM: script.py | -c CODE | --soft-reset      (run in the order given, all in one boot)
//
// The firmware's REPL is reached over emulated USB CDC. Each script / -c CODE is sent through the
// raw REPL (Ctrl-A, code, Ctrl-D); its stdout goes to stdout, a traceback to stderr. Items share
// the interpreter (globals, imported modules, heap) unless a --soft-reset item sits between them.
// --put copies a host file, or a directory tree, into the board's littlefs filesystem before the
// items run (mkdir, then base64 chunks appended by small raw-REPL scripts, then a size+sha256 check
// of every file); a soft reset follows the copy, so the first item starts with a just-booted heap.
// --report FILE also writes the board's stdout and stderr (tracebacks) to FILE.
// Exit code: 0 on success, 1 if a script raised (the run stops there unless --keep-going),
// 2 on timeout / runner error (a failed copy included).
// A summary (emulated cycles, emulated time, wall time) is printed to stderr unless --quiet:
// one line per item, "script N/M NAME: emulated S s (...)".
import { openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, posix, join } from 'node:path';
import { Board } from './emulator.js';

const USAGE =
  'usage: node tools/rp2040/run.js [--firmware FILE.uf2] [--max-emu-s N] [--max-wall-s N] [--quiet]\n' +
  '                   [--timestamps] [--put LOCAL:REMOTE]... [--chunk BYTES] [--keep-going]\n' +
  '                   [--no-flash-write] [--report FILE]\n' +
  '                   ITEM...    (ITEM: script.py | -c CODE | --soft-reset, run in order in one boot)';
const args = process.argv.slice(2);
let firmware = null;
let maxEmuSeconds = 600;
let maxWallSeconds = 600;
let quiet = false;
let timestamps = false;
let keepGoing = false;
let flashWrite = true;
let chunkBytes = 3072;
let report = null;
const puts = []; // [local, remote]
const items = []; // {kind: 'script'|'code'|'reset', name, code}
function usageExit(msg) {
  if (msg) console.error(`run.js: ${msg}`);
  console.error(USAGE);
  process.exit(2);
}
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--firmware') firmware = args[++i];
  else if (a === '--max-emu-s') maxEmuSeconds = Number(args[++i]);
  else if (a === '--max-wall-s') maxWallSeconds = Number(args[++i]);
  else if (a === '--quiet') quiet = true;
  else if (a === '--timestamps') timestamps = true;
  else if (a === '--keep-going') keepGoing = true;
  else if (a === '--no-flash-write') flashWrite = false;
  else if (a === '--chunk') chunkBytes = Number(args[++i]);
  else if (a === '--report') report = openSync(args[++i], 'w');
  else if (a === '--put') {
    const spec = args[++i] || '';
    const k = spec.lastIndexOf(':');
    if (k <= 0 || k === spec.length - 1) usageExit(`--put needs LOCAL:REMOTE, got ${JSON.stringify(spec)}`);
    puts.push([spec.slice(0, k), spec.slice(k + 1)]);
  } else if (a === '-c') {
    if (i + 1 >= args.length) usageExit('-c needs code');
    items.push({ kind: 'code', name: '-c', code: Buffer.from(args[++i]) });
  } else if (a === '--soft-reset') items.push({ kind: 'reset', name: '--soft-reset' });
  else if (a === '-h' || a === '--help') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('--')) usageExit(`unknown option ${a}`);
  else {
    let code;
    try {
      code = readFileSync(a);
    } catch (e) {
      usageExit(`cannot read ${a}: ${e.message}`);
    }
    items.push({ kind: 'script', name: a, code });
  }
}
if (!items.some((it) => it.kind !== 'reset') && puts.length === 0) usageExit();
if (!(chunkBytes >= 48 && chunkBytes <= 65536)) usageExit('--chunk must be 48..65536');

function out(stream, buf) {
  stream.write(buf);
  if (report !== null) writeSync(report, buf);
}

// --- files to copy: [local path, remote path] ----------------------------------------------
const SKIP = new Set(['__pycache__', 'node_modules']);
const files = [];
function collect(local, remote) {
  let st;
  try {
    st = statSync(local);
  } catch (e) {
    usageExit(`--put: ${e.message}`);
  }
  if (st.isDirectory()) {
    for (const name of readdirSync(local).sort()) {
      if (name.startsWith('.') || SKIP.has(name)) continue;
      collect(join(local, name), posix.join(remote, name));
    }
  } else if (st.isFile()) files.push([local, remote]);
}
for (const [local, remote0] of puts) {
  let remote = remote0.startsWith('/') ? remote0 : '/' + remote0;
  let st;
  try {
    st = statSync(local);
  } catch (e) {
    usageExit(`--put: ${e.message}`);
  }
  if (st.isFile() && remote.endsWith('/')) remote += basename(local);
  collect(local, posix.normalize(remote));
}

// --- the raw-REPL jobs: copy, (soft reset), then the items -----------------------------------
const py = (s) => JSON.stringify(s); // a JSON string is a valid Python string literal (ASCII)
const jobs = [];
let putBytes = 0;
if (files.length) {
  const dirs = new Set();
  for (const [, r] of files) {
    for (let d = posix.dirname(r); d !== '/' && d !== '.'; d = posix.dirname(d)) dirs.add(d);
  }
  const dirList = [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  jobs.push({
    kind: 'put',
    code: Buffer.from(
      'import os\n' +
        `for _d in [${dirList.map(py).join(', ')}]:\n` +
        '    try:\n        os.mkdir(_d)\n    except OSError as _e:\n' +
        '        if _e.args[0] != 17:\n            raise\n',
    ),
  });
  const expect = [];
  for (const [local, remote] of files) {
    const data = readFileSync(local);
    putBytes += data.length;
    expect.push(`${remote} ${data.length} ${createHash('sha256').update(data).digest('hex')}`);
    for (let off = 0; off === 0 || off < data.length; off += chunkBytes) {
      const b64 = data.subarray(off, off + chunkBytes).toString('base64');
      jobs.push({
        kind: 'put',
        code: Buffer.from(
          `from binascii import a2b_base64 as _a\n_f = open(${py(remote)}, ${off ? "'ab'" : "'wb'"})\n` +
            `_f.write(_a(${py(b64)}))\n_f.close()\n`,
        ),
      });
    }
  }
  jobs.push({
    kind: 'put',
    verify: expect.join('\n'),
    code: Buffer.from(
      'import os, hashlib, binascii\n_b = bytearray(512)\n' +
        `for _p in [${files.map(([, r]) => py(r)).join(', ')}]:\n` +
        '    _h = hashlib.sha256()\n    _f = open(_p, "rb")\n    _n = 0\n' +
        '    while True:\n        _k = _f.readinto(_b)\n        if not _k:\n            break\n' +
        '        _n += _k\n        _h.update(memoryview(_b)[:_k])\n    _f.close()\n' +
        '    print(_p, _n, binascii.hexlify(_h.digest()).decode())\n',
    ),
  });
  jobs.push({ kind: 'reset', name: '(after --put)' });
}
for (const it of items) jobs.push(it);
const nScripts = items.filter((it) => it.kind !== 'reset').length;

// --- raw REPL protocol ----------------------------------------------------------------------
let board;
try {
  board = await Board.create({ firmware, flashWrite });
} catch (e) {
  usageExit(e.message);
}
const clock = board.clock;
const send = (bytes) => board.send(bytes);
const RAW_PROMPT = 'raw REPL; CTRL-B to exit\r\n>';
let state = 'boot';
let rx = '';
let exitCode = null;
let atLineStart = true;
let jobIndex = -1;
let job = null;
let captured = ''; // stdout of a put job
let jobErr = ''; // stderr of the current job
let scriptNo = 0;
const runStats = []; // one per script / -c item
let put0 = null;
let putEnd = null;

function startNextJob() {
  jobIndex++;
  if (jobIndex >= jobs.length) {
    state = 'done';
    return;
  }
  job = jobs[jobIndex];
  if (job.kind === 'put' && put0 === null) put0 = board.snapshot();
  if (job.kind === 'reset') {
    // Ctrl-D on an empty raw-REPL line: soft reset (new heap, boot.py again; files stay)
    rx = '';
    state = 'enter-raw';
    send(Uint8Array.from([0x04]));
    return;
  }
  if (job.kind !== 'put') {
    scriptNo++;
    job.stats = { name: job.name, no: scriptNo };
    runStats.push(job.stats);
  }
  rx = '';
  captured = '';
  jobErr = '';
  state = 'wait-ok';
  send(job.code);
  send(Uint8Array.from([0x04]));
  if (job.stats) job.stats.start = board.snapshot();
}

function jobFinished() {
  // called after the second 0x04 of an executed job
  if (job.stats) job.stats.end = board.snapshot();
  if (job.kind === 'put') {
    if (jobErr) {
      process.stderr.write(`runner: --put failed:\n${jobErr}\n`);
      exitCode = 2;
      state = 'done';
      return;
    }
    if (job.verify !== undefined) {
      putEnd = board.snapshot();
      const got = captured.replace(/\r/g, '').trim();
      if (got !== job.verify) {
        process.stderr.write(`runner: --put check failed\nexpected:\n${job.verify}\nboard:\n${got}\n`);
        exitCode = 2;
        state = 'done';
        return;
      }
    }
  } else if (jobErr) {
    exitCode = 1;
    if (!keepGoing) {
      state = 'done';
      return;
    }
  }
  rx = '';
  state = 'prompt';
}

board.onConnected = () => {
  state = 'enter-raw';
  rx = '';
  send(Uint8Array.from([0x03, 0x03, 0x01])); // Ctrl-C Ctrl-C Ctrl-A
};

function emitStdout(b) {
  if (job.kind === 'put') {
    captured += String.fromCharCode(b);
    return;
  }
  if (timestamps && atLineStart) out(process.stdout, `[emu ${(clock.nanos / 1e3).toFixed(1)} us] `);
  atLineStart = b === 0x0a;
  out(process.stdout, Buffer.from([b]));
}

board.onSerialData = (buf) => {
  for (const b of buf) {
    const ch = String.fromCharCode(b);
    if (state === 'enter-raw') {
      rx += ch;
      if (rx.endsWith(RAW_PROMPT)) startNextJob();
      else if (rx.length > 4096) rx = rx.slice(-64);
    } else if (state === 'prompt') {
      if (ch === '>') startNextJob();
    } else if (state === 'wait-ok') {
      rx += ch;
      if (rx.endsWith('OK')) {
        rx = '';
        state = 'stdout';
      } else if (rx.length > 2 && !'OK'.startsWith(rx.slice(-2))) {
        process.stderr.write(`runner: unexpected raw REPL reply: ${JSON.stringify(rx)}\n`);
      }
    } else if (state === 'stdout') {
      if (b === 0x04) state = 'stderr';
      else emitStdout(b);
    } else if (state === 'stderr') {
      if (b === 0x04) jobFinished();
      else {
        jobErr += ch;
        if (job.kind !== 'put') out(process.stderr, Buffer.from([b]));
      }
    }
    if (state === 'done') {
      board.stop();
      return;
    }
  }
};

// --- summary ----------------------------------------------------------------------------------
function span(label, a, b) {
  const s = (b.t - a.t) / 1e9;
  const w = b.w - a.w;
  const c = b.c - a.c;
  return `${label}: emulated ${s.toFixed(6)} s (${c} cycles executed + ${((b.i - a.i) / 1e9).toFixed(6)} s idle), wall ${w.toFixed(3)} s, ${(s / w).toFixed(3)}x real time, ${(c / w / 1e6).toFixed(1)} M emulated cycles per wall second`;
}
function finish(code) {
  if (!quiet) {
    const emuS = clock.nanos / 1e9;
    const wallS = board.wallSeconds();
    let msg = `[rp2040js] total: emulated ${emuS.toFixed(6)} s (${board.execCycles} cycles executed + ${(board.idleNanos / 1e9).toFixed(6)} s idle), wall ${wallS.toFixed(3)} s`;
    if (put0 !== null && putEnd !== null) {
      const fs = board.flashStats;
      msg += `\n[rp2040js] ${span(`put ${files.length} files (${putBytes} bytes; flash erased ${fs.erasedBytes} B, programmed ${fs.programmedBytes} B so far)`, put0, putEnd)}`;
    }
    for (const st of runStats) {
      if (!st.start || !st.end) continue;
      const label = nScripts === 1 && files.length === 0 ? 'script' : `script ${st.no}/${nScripts} ${st.name}`;
      msg += `\n[rp2040js] ${span(`${label} (Ctrl-D sent .. end of output)`, st.start, st.end)}`;
    }
    process.stderr.write(msg + '\n');
  }
  process.exit(code);
}

board.onBatch = () => {
  if (state === 'done') {
    finish(exitCode ?? 0);
    return false;
  }
  if (clock.nanos / 1e9 > maxEmuSeconds || board.wallSeconds() > maxWallSeconds) {
    process.stderr.write(`runner: timeout (state=${state}, connected=${!!board.connected}, job ${jobIndex + 1}/${jobs.length})\n`);
    finish(2);
    return false;
  }
  return true;
};
board.start();
