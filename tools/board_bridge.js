// An emulated MicroPython board: the REPL of MicroPython 1.27 (the WebAssembly port,
// under Node) behind a TCP socket, so that `mpremote connect socket://127.0.0.1:PORT ...`
// (pyserial's serial_for_url) drives it as it drives a board on a serial port.
//
//   node tools/board_bridge.js [--port N] [--host 127.0.0.1] [--heap 2m] [--flash DIR]
//
//   --port N     TCP port to listen on (default 0: the OS picks one)
//   --flash DIR  load DIR into the board's filesystem at start (like a board whose flash
//                already holds files); without it the board starts with an empty /
//   --heap SIZE  initial GC heap (k/m suffix); this port grows the heap when it runs out
//
// On start it prints one line, "board_bridge: listening on socket://HOST:PORT", then
// serves one connection at a time, for as long as it runs; the board (its files) lives
// across connections, as a real board does between mpremote runs.
//
// What it emulates, and how:
// - The friendly REPL and the raw REPL (Ctrl-A enter, Ctrl-B leave, Ctrl-C clear, Ctrl-D
//   execute) are MicroPython's own, through replInit / replProcessChar.
// - Raw-paste mode (Ctrl-E 'A' Ctrl-A right after the raw REPL's '>'), which mpremote
//   uses for every command, is done here: the port's event-driven REPL lacks it. The
//   bridge answers "R\x01" + window size, grants windows with \x01, acknowledges the
//   final Ctrl-D, runs the code with runPython and frames the result as the raw REPL
//   does: stdout, \x04, the traceback if any, \x04, '>'.
// - Soft reset (Ctrl-D on an empty raw or friendly line) restarts the interpreter: a new
//   MicroPython instance (RAM cleared) gets a copy of the old one's filesystem (flash
//   kept), then "MPY: soft reboot" and the REPL it was in. boot.py and main.py are NOT
//   run (a deployed firmware example would block the emulated board forever).
// - The board runs in a worker thread; the main thread owns the socket and the signals, so
//   SIGTERM / SIGINT stop the bridge at once whatever the board is doing, and output
//   reaches the host while code runs (a line at a time).
// - Ctrl-C interrupts running code (KeyboardInterrupt, as on a board) when that code reads
//   the clock: this port has no interrupt of its own, so the worker checks for a Ctrl-C
//   the main thread has seen each time MicroPython asks the time (every time.sleep_ms /
//   ticks_ms, and so every wait of the stack). A busy loop that never reads the clock
//   cannot be interrupted; input that arrives while code runs is processed after it ends.
// - No os.urandom, no network, no machine module: this is the WebAssembly port. A board
//   program that needs the network (boards/common/net.py) stops with a message saying so.
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

const RAW_PASTE_WINDOW = 2048;

// The port's VFS raises OSError with Emscripten's (WASI) errno numbers, e.g. ENOENT is
// 44 there but 2 in MicroPython's own errno module and on every board; mpremote reads
// the number (or name) from the traceback text. The bridge rewrites a traceback's last
// line "OSError: 44" to what a board prints, "OSError: [Errno 2] ENOENT".
const WASI_ERRNO = {
  2: [13, "EACCES"], 8: [9, "EBADF"], 10: [16, "EBUSY"], 20: [17, "EEXIST"],
  28: [22, "EINVAL"], 29: [5, "EIO"], 31: [21, "EISDIR"], 43: [19, "ENODEV"],
  44: [2, "ENOENT"], 48: [12, "ENOMEM"], 51: [28, "ENOSPC"], 54: [20, "ENOTDIR"],
  55: [39, "ENOTEMPTY"], 58: [95, "EOPNOTSUPP"], 63: [1, "EPERM"],
};

function boardErrno(text) {
  // Only the bare form: "OSError: [Errno 2] ENOENT" is already a board's errno.
  return text.replace(/^OSError: (\d+)$/m, (all, n) => {
    const m = WASI_ERRNO[parseInt(n, 10)];
    return m ? `OSError: [Errno ${m[0]}] ${m[1]}` : all;
  });
}
const BANNER_RAW = "raw REPL; CTRL-B to exit\r\n";

function usage(msg) {
  if (msg) process.stderr.write(`board_bridge: ${msg}\n`);
  process.stderr.write("usage: node tools/board_bridge.js [--port N] [--host H] [--heap 2m] [--flash DIR]\n");
  process.exit(2);
}

function parseArgs(argv) {
  const opt = { port: 0, host: "127.0.0.1", heap: 2 * 1024 * 1024, flash: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port") opt.port = parseInt(argv[++i], 10);
    else if (a === "--host") opt.host = argv[++i];
    else if (a === "--heap") {
      const m = /^(\d+)([kKmM]?)$/.exec(argv[++i] || "");
      if (!m) usage("bad --heap");
      opt.heap = parseInt(m[1], 10) * ({ "": 1, k: 1024, m: 1048576 }[m[2].toLowerCase()]);
    } else if (a === "--flash") opt.flash = argv[++i];
    else if (a === "-h" || a === "--help") usage();
    else usage(`unknown argument ${a}`);
  }
  if (!Number.isInteger(opt.port) || opt.port < 0 || opt.port > 65535) usage("bad --port");
  return opt;
}

// ---- the board's filesystem (its "flash"), kept across soft resets ---------------------
const SKIP_TOP = new Set(["dev", "proc"]);

function snapshotFS(FS, dir = "/", files = []) {
  for (const name of FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    if (dir === "/" && SKIP_TOP.has(name)) continue;
    const p = dir === "/" ? `/${name}` : `${dir}/${name}`;
    const st = FS.stat(p);
    if (FS.isDir(st.mode)) {
      files.push({ path: p, dir: true });
      snapshotFS(FS, p, files);
    } else if (FS.isFile(st.mode)) {
      files.push({ path: p, dir: false, data: FS.readFile(p) });
    }
  }
  return files;
}

function restoreFS(FS, files) {
  for (const f of files) {
    if (f.dir) FS.mkdirTree(f.path);
    else FS.writeFile(f.path, f.data);
  }
}

function hostTree(src, dst = "", files = []) {
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, ent.name);
    const d = `${dst}/${ent.name}`;
    if (ent.isDirectory()) {
      files.push({ path: d, dir: true });
      hostTree(s, d, files);
    } else if (ent.isFile()) files.push({ path: d, dir: false, data: fs.readFileSync(s) });
  }
  return files;
}

class Board {
  constructor(loadMicroPython, heap, interrupt) {
    this.load = loadMicroPython;
    this.heap = heap;
    this.interrupt = interrupt; // Int32Array on shared memory: [0] = 1 after a Ctrl-C
    this.busy = false;          // MicroPython is executing code
    this.mp = null;
    this.out = [];           // bytes produced since the last flush
    this.muted = false;
    this.raw = false;        // in the raw REPL
    this.rawLineEmpty = true;
    this.esc = 0;            // progress through the raw-paste request \x05 'A' \x01
    this.paste = null;       // { chunks: [], got: 0 } while receiving a raw paste
    this.writer = null;      // (Buffer) => void, the connected client's socket
  }

  sink(chunk) {
    if (this.muted) return;
    for (const c of chunk) this.out.push(c);
    // while code runs, pass its output on a line at a time
    if (this.busy && (chunk[chunk.length - 1] === 10 || this.out.length >= 256)) this.flush();
  }

  // Called whenever MicroPython reads the clock (see main()): a Ctrl-C the host sent
  // while code runs becomes a KeyboardInterrupt.
  poll() {
    if (this.busy && this.mp && Atomics.load(this.interrupt, 0)) {
      Atomics.store(this.interrupt, 0, 0);
      this.mp._module._mp_sched_keyboard_interrupt();
    }
  }

  emit(text) {
    for (const c of Buffer.from(text, "latin1")) this.out.push(c);
  }

  flush() {
    if (!this.out.length) return;
    const buf = Buffer.from(this.out);
    this.out = [];
    if (this.writer) this.writer(buf);
  }

  async boot(files) {
    const mp = await this.load({
      heapsize: this.heap,
      pystack: 8192,
      linebuffer: false,
      stdout: (c) => this.sink(c),
      stderr: (c) => this.sink(c),
    });
    if (files) restoreFS(mp.FS, files);
    this.mp = mp;
    this.muted = true;        // the friendly banner, when we go straight to raw
    mp.replInit();
    this.muted = false;
    if (this.raw) {
      mp.replProcessChar(1);  // prints the raw REPL banner and '>'
      this.rawLineEmpty = true;
    } else {
      this.emit("MicroPython (nxsecure emulated board, WebAssembly port)\r\n>>> ");
    }
  }

  async softReset() {
    const files = snapshotFS(this.mp.FS);
    this.emit("MPY: soft reboot\r\n");
    this.flush();
    await this.boot(files);
  }

  // Run one raw-paste program the way the raw REPL frames its result.
  runPaste(code) {
    let err = "";
    try {
      this.busy = true;
      this.mp.runPython(code);
    } catch (e) {
      if (e && e.name === "PythonError") {
        if (e.type !== "SystemExit") err = boardErrno(e.message).replace(/\r?\n/g, "\r\n");
      } else {
        err = `board_bridge: MicroPython aborted: ${e}\r\n`;
      }
    } finally {
      this.busy = false;
    }
    this.emit("\x04" + err + "\x04>");
    this.rawLineEmpty = true;
  }

  // Feed one byte to MicroPython's REPL; true when it asked for a soft reset.
  replChar(c) {
    if (c === 3) Atomics.store(this.interrupt, 0, 0); // this one reaches the REPL itself
    if (this.raw) {
      if (c === 1 || c === 3) this.rawLineEmpty = true;
      else if (c === 2) this.raw = false;
      else if (c !== 4) this.rawLineEmpty = false;
    } else if (c === 1) {
      this.raw = true;
      this.rawLineEmpty = true;
    }
    let ret;
    this.busy = true;        // a line of the friendly REPL may run code
    try {
      ret = this.mp.replProcessChar(c);
    } finally {
      this.busy = false;
    }
    if (this.raw && c === 4) this.rawLineEmpty = true;
    return ret !== 0;
  }

  // Process bytes from the host, in order. Async only because a soft reset reloads.
  async input(data) {
    for (let i = 0; i < data.length; i++) {
      const c = data[i];
      if (this.paste) {
        if (c === 4) {
          const code = Buffer.concat(this.paste.chunks).toString("utf8");
          this.paste = null;
          this.emit("\x04");
          this.flush();
          this.runPaste(code);
          this.flush();
          continue;
        }
        // Take the run up to the next Ctrl-D in one go.
        let j = i;
        while (j < data.length && data[j] !== 4) j++;
        this.paste.chunks.push(Buffer.from(data.subarray(i, j)));
        const before = Math.floor(this.paste.got / RAW_PASTE_WINDOW);
        this.paste.got += j - i;
        // At least one grant per chunk, sent at once: the host's pyserial socket has
        // Nagle on, and without a reply to carry the ACK its final Ctrl-D would wait for
        // the delayed ACK (40 ms on Linux) on every command. Extra credit is harmless.
        const grants = Math.max(1, Math.floor(this.paste.got / RAW_PASTE_WINDOW) - before);
        for (let g = 0; g < grants; g++) this.emit("\x01");
        this.flush();
        i = j - 1;
        continue;
      }
      if (this.raw && this.rawLineEmpty && this.esc === 0 && c === 5) { this.esc = 1; continue; }
      if (this.esc === 1) {
        if (c === 0x41) { this.esc = 2; continue; }
        this.esc = 0;
        if (await this.feed(5)) continue;
      } else if (this.esc === 2) {
        this.esc = 0;
        if (c === 1) {
          const w = Buffer.alloc(2);
          w.writeUInt16LE(RAW_PASTE_WINDOW);
          this.emit("R\x01" + w.toString("latin1"));
          this.paste = { chunks: [], got: 0 };
          continue;
        }
        await this.feed(5);
        await this.feed(0x41);
      }
      await this.feed(c);
    }
    this.flush();
  }

  async feed(c) {
    if (this.replChar(c)) {
      await this.softReset();
      return true;
    }
    return false;
  }
}

async function loadPackage() {
  try {
    return (await import("@micropython/micropython-webassembly-pyscript")).loadMicroPython;
  } catch (e) {
    process.stderr.write(`board_bridge: cannot load the MicroPython package (run \`make setup\`): ${e.message}\n`);
    process.exit(2);
  }
}

// The worker: the board. Bytes from the host arrive as messages, bytes to the host leave
// as messages; {ready: true} once it has booted.
async function boardThread() {
  const { heap, flash, interrupt } = workerData;
  const board = new Board(await loadPackage(), heap, interrupt);
  const now = Date.now;
  Date.now = () => {          // the port's mp_js_ticks_ms / mp_js_time_ms read this
    board.poll();
    return now();
  };
  await board.boot(flash ? hostTree(flash) : null);
  board.out = [];
  board.writer = (buf) => parentPort.postMessage(buf);
  let busy = Promise.resolve();
  parentPort.on("message", (data) => {
    busy = busy.then(() => board.input(Buffer.from(data))).catch((e) => {
      process.stderr.write(`board_bridge: ${e && e.stack ? e.stack : e}\n`);
    });
  });
  parentPort.postMessage({ ready: true });
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  await loadPackage();        // fail here, with the hint, when it is missing
  const interrupt = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(fileURLToPath(import.meta.url),
                            { workerData: { heap: opt.heap, flash: opt.flash, interrupt } });
  // SIGTERM / SIGINT: stop now. Ending the worker can take seconds while it runs a busy
  // loop, so after a short grace the signal is raised again with its default action.
  let stopping = false;
  const stop = (sig) => {
    stopping = true;
    process.removeAllListeners("SIGTERM");
    process.removeAllListeners("SIGINT");
    worker.terminate().then(() => process.exit(0));
    setTimeout(() => process.kill(process.pid, sig), 200);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  let client = null;
  const server = net.createServer((sock) => {
    if (client) {
      sock.end("board_bridge: busy (one connection at a time)\r\n");
      return;
    }
    client = sock;
    sock.setNoDelay(true);
    sock.on("data", (data) => {
      if (data.includes(3)) Atomics.store(interrupt, 0, 1);
      worker.postMessage(data);
    });
    const gone = () => {
      if (client === sock) client = null;
    };
    sock.on("close", gone);
    sock.on("error", gone);
  });
  server.on("error", (e) => {
    process.stderr.write(`board_bridge: ${e.message}\n`);
    process.exit(2);
  });
  worker.on("message", (msg) => {
    if (msg && msg.ready) {
      server.listen(opt.port, opt.host, () => {
        const a = server.address();
        process.stdout.write(`board_bridge: listening on socket://${a.address}:${a.port}\n`);
      });
    } else if (client && !client.destroyed) {
      client.write(Buffer.from(msg));
    }
  });
  worker.on("error", (e) => {
    process.stderr.write(`board_bridge: the board failed: ${e && e.stack ? e.stack : e}\n`);
    process.exit(2);
  });
  worker.on("exit", (code) => process.exit(code && !stopping ? 2 : 0));
}

(isMainThread ? main() : boardThread()).catch((e) => {
  process.stderr.write(`board_bridge: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
