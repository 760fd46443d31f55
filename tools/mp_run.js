// Run Python code inside a real MicroPython (the WebAssembly port) under Node.
//
//   node tools/mp_run.js [options] script.py [args...]      run a script as __main__
//   node tools/mp_run.js [options] -c "python code"          run a snippet
//   node tools/mp_run.js [options] --test FILE... [-- runner-args]
//        run tools/mp_test_runner.py over test modules (e.g. host_tests/portable/test_*.py)
//
// options:
//   --heap SIZE      initial GC heap, k/m suffix (default 4m; this port grows the heap
//                    when it runs out, so this is not a hard limit)
//   --pystack WORDS  Python stack size in words (default 8192)
//   --mpy DIR        load nxsecure/ from compiled .mpy files in DIR (as made
//                    by `make mpy`, e.g. build/mpy) instead of the .py sources
//   --report FILE    also write everything MicroPython prints to FILE
//   --seed-random    install the TEST-ONLY deterministic random source (the runner's
//                    SHA-256 counter DRBG) through port.set_random_source: this port
//                    has no os.urandom
//   --put LOCAL:REMOTE  copy a host file into MicroPython's filesystem first (e.g. a
//                    recording the script reads; may be given more than once)
//
// The repo's nxsecure/ package goes to /lib in MicroPython's filesystem, test
// modules (with the other files of their directory) to /tests, the script's directory to
// /app. Note: this port frees memory only between top-level executions, so a script or
// snippet (one execution) never gets memory back; tests run one execution per step. Exit status: the script's SystemExit code, 1 for an uncaught Python exception,
// 2 for a usage or loader error.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const PACKAGES = ["nxsecure"];
const SKIP_DIRS = new Set(["__pycache__", ".pytest_cache", ".hypothesis", "node_modules"]);

function usage(msg) {
  if (msg) process.stderr.write(`mp_run: ${msg}\n`);
  process.stderr.write(
    "usage: node tools/mp_run.js [--heap 4m] [--pystack N] [--mpy DIR] [--report FILE] [--seed-random]\n" +
      "         [--put LOCAL:REMOTE]...\n" +
      "         (script.py [args...] | -c CODE | --test [--seed-random] FILE... [-- runner-args])\n",
  );
  process.exit(2);
}

function parseSize(text) {
  const m = /^(\d+)([kKmM]?)$/.exec(text || "");
  if (!m) usage(`bad size: ${text}`);
  const mult = { "": 1, k: 1024, m: 1024 * 1024 }[m[2].toLowerCase()];
  return parseInt(m[1], 10) * mult;
}

function parseArgs(argv) {
  const opt = { heap: 4 * 1024 * 1024, pystack: 8192, mpy: null, report: null,
                seedRandom: false, mode: null, code: null, script: null, args: [],
                tests: [], runnerArgs: [], puts: [] };
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === "--heap") opt.heap = parseSize(argv[++i]);
    else if (a === "--pystack") opt.pystack = parseSize(argv[++i]);
    else if (a === "--mpy") opt.mpy = argv[++i];
    else if (a === "--report") opt.report = argv[++i];
    else if (a === "--seed-random") opt.seedRandom = true;
    else if (a === "--put") {
      const v = argv[++i] || "";
      const k = v.lastIndexOf(":");
      if (k <= 0 || k === v.length - 1) usage("--put needs LOCAL:REMOTE");
      opt.puts.push([v.slice(0, k), v.slice(k + 1)]);
    } else if (a === "-c") { opt.mode = "code"; opt.code = argv[++i]; opt.args = argv.slice(i + 1); break; }
    else if (a === "--test") {
      opt.mode = "test";
      for (i++; i < argv.length; i++) {
        if (argv[i] === "--") { opt.runnerArgs = argv.slice(i + 1); break; }
        if (argv[i] === "--seed-random") opt.seedRandom = true;
        else opt.tests.push(argv[i]);
      }
      break;
    } else if (a === "-h" || a === "--help") usage();
    else if (a.startsWith("-")) usage(`unknown option ${a}`);
    else { opt.mode = "script"; opt.script = a; opt.args = argv.slice(i + 1); break; }
    i++;
  }
  if (!opt.mode) usage("nothing to run");
  if (opt.mode === "code" && opt.code === undefined) usage("-c needs code");
  if (opt.mode === "test" && opt.tests.length === 0) usage("--test needs at least one test file");
  return opt;
}

// Copy a host directory tree into the MicroPython filesystem.
function copyTree(FS, src, dst, filter) {
  FS.mkdirTree(dst);
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const s = path.join(src, ent.name);
    const d = `${dst}/${ent.name}`;
    if (ent.isDirectory()) {
      if (!SKIP_DIRS.has(ent.name) && !ent.name.startsWith(".")) copyTree(FS, s, d, filter);
    } else if (ent.isFile() && filter(ent.name)) {
      FS.writeFile(d, fs.readFileSync(s));
    }
  }
}

const notBytecodeCache = (name) => !name.endsWith(".pyc");

function pyStr(s) {
  return JSON.stringify(s); // a JSON string is a valid Python string literal
}

// This port collects garbage only at the start of a top-level execution (a gc.collect()
// inside one just schedules it), so each test runs in executions of its own: without
// that nothing would be freed for the whole run.
function runTests(mp) {
  mp.runPython("import gc, mp_test_runner\n_mp_n = mp_test_runner.start(sys.argv[1:])\n");
  const n = mp.globals.get("_mp_n");
  for (let i = 0; i < n; i++) {
    mp.runPython("gc.collect()");
    mp.runPython(`mp_test_runner.run_test(${i})`);
    mp.runPython("gc.collect()");
    mp.runPython("mp_test_runner.report_test()");
  }
  mp.runPython("gc.collect()");
  mp.runPython("mp_test_runner.finish()");
}

async function main() {
  // A reader that stops early (| head) is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e) => process.exit(e.code === "EPIPE" ? 0 : 2));
  }
  const opt = parseArgs(process.argv.slice(2));
  let loadMicroPython;
  try {
    ({ loadMicroPython } = await import("@micropython/micropython-webassembly-pyscript"));
  } catch (e) {
    process.stderr.write(`mp_run: cannot load the MicroPython package (run \`make setup\`): ${e.message}\n`);
    process.exit(2);
  }

  // Output: MicroPython hands over one byte at a time; pass it on a line at a time.
  const report = opt.report ? fs.openSync(opt.report, "w") : null;
  const pending = { out: [], err: [] };
  const flush = (which) => {
    const bytes = pending[which];
    if (!bytes.length) return;
    const buf = Buffer.from(bytes);
    pending[which] = [];
    (which === "out" ? process.stdout : process.stderr).write(buf);
    if (report !== null) fs.writeSync(report, buf);
  };
  const sink = (which) => (chunk) => {
    for (const c of chunk) {
      pending[which].push(c);
      if (c === 10) flush(which);
    }
  };

  const mp = await loadMicroPython({
    heapsize: opt.heap,
    pystack: opt.pystack,
    linebuffer: false,
    stdout: sink("out"),
    stderr: sink("err"),
  });
  const FS = mp.FS;

  const base = opt.mpy ? path.resolve(opt.mpy) : ROOT;
  const present = PACKAGES.filter((pkg) => fs.existsSync(path.join(base, pkg)));
  if (present.length === 0) usage(`no ${PACKAGES.join("/ or ")}/ in ${base}${opt.mpy ? " (run `make mpy`)" : ""}`);
  for (const pkg of present) {
    copyTree(FS, path.join(base, pkg), `/lib/${pkg}`, opt.mpy ? (n) => n.endsWith(".mpy") : notBytecodeCache);
  }

  for (const [local, remote] of opt.puts) {
    if (!fs.existsSync(local)) usage(`--put: no such file: ${local}`);
    const dir = path.posix.dirname(remote);
    if (dir && dir !== "/") FS.mkdirTree(dir);
    FS.writeFile(remote, fs.readFileSync(local));
  }

  const pathFront = [];
  let argv;
  let entry;
  // The runner also holds the TEST-ONLY random source that --seed-random installs.
  FS.mkdirTree("/lib");
  FS.writeFile("/lib/mp_test_runner.py", fs.readFileSync(path.join(ROOT, "tools", "mp_test_runner.py")));
  if (opt.mode === "test") {
    const modules = [];
    const dirs = new Set();
    for (const t of opt.tests) {
      if (!fs.existsSync(t) || !t.endsWith(".py")) usage(`not a test module: ${t}`);
      dirs.add(path.dirname(path.resolve(t)));
      modules.push(path.basename(t, ".py"));
    }
    for (const d of dirs) copyTree(FS, d, "/tests", notBytecodeCache);
    pathFront.push("/tests");
    argv = ["mp_test_runner", ...(opt.seedRandom ? ["--seed-random"] : []), ...opt.runnerArgs, ...modules];
    entry = null; // see runTests()
  } else if (opt.mode === "script") {
    if (!fs.existsSync(opt.script)) usage(`no such script: ${opt.script}`);
    copyTree(FS, path.dirname(path.resolve(opt.script)), "/app", (n) => n.endsWith(".py"));
    pathFront.push("/app");
    argv = [opt.script, ...opt.args];
    entry = fs.readFileSync(opt.script, "utf8");
  } else {
    argv = ["-c", ...opt.args];
    entry = opt.code;
  }

  const prologue =
    "import sys\n" +
    `for _p in ${pyStr(["/lib", ...pathFront].reverse())}:\n` +
    "    if _p in sys.path: sys.path.remove(_p)\n" +
    "    sys.path.insert(0, _p)\n" +
    `sys.argv.clear(); sys.argv.extend([${argv.map(pyStr).join(", ")}])\n` +
    "del _p\n" +
    (opt.seedRandom && opt.mode !== "test" ? "import mp_test_runner\nmp_test_runner.install_test_random()\n" : "");

  let status = 0;
  try {
    mp.runPython(prologue);
    if (entry === null) runTests(mp);
    else mp.runPython(entry);
  } catch (e) {
    if (e && e.name === "PythonError") {
      if (e.type === "SystemExit") {
        // The message is a traceback ending in "SystemExit: <arg>" (or no arg).
        const m = /SystemExit:?\s*(.*)\s*$/.exec(e.message.trimEnd());
        const arg = m ? m[1].trim() : "";
        if (arg === "" || arg === "None") status = 0;
        else if (/^-?\d+$/.test(arg)) status = parseInt(arg, 10) & 0xff;
        else { process.stderr.write(arg + "\n"); status = 1; }
      } else {
        flush("out");
        process.stderr.write(e.message.endsWith("\n") ? e.message : e.message + "\n");
        if (report !== null) fs.writeSync(report, e.message);
        status = 1;
      }
    } else {
      flush("out");
      process.stderr.write(`mp_run: MicroPython aborted: ${e && e.stack ? e.stack : e}\n`);
      status = 2;
    }
  }
  flush("out");
  flush("err");
  if (report !== null) fs.closeSync(report);
  process.exitCode = status;
}

main().catch((e) => {
  process.stderr.write(`mp_run: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
