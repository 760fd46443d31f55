"""Run Python code inside MicroPython v1.27's unix port: the statically linked binaries in
the shared firmware directory ($NXSECURE_SHARED/firmware/unix, by default ../shared beside
the repository, as CI has it; its README says how they were built). The 32-bit build has the object
sizes of an ESP32 or RP2040, so its heap figures stand for theirs, and `-X heapsize` is a
hard limit there: what does not fit raises MemoryError, as on a board.

    python tools/mp_unix.py [options] script.py [args...]     run a script
    python tools/mp_unix.py [options] -c "python code"         run a snippet
    python tools/mp_unix.py [options] --test FILE... [-- runner-args]
        tools/mp_test_runner.py over test modules (e.g. host_tests/portable/test_*.py)

options:
  --bits 32|64     which build (default 32)
  --heap SIZE      -X heapsize (k/m suffix; default 4m)
  --mpy DIR        load nxsecure/ from the compiled .mpy tree in DIR (`make mpy`: build/mpy)
                   instead of the .py sources
  --seed-random    install the TEST-ONLY deterministic random source (tools/mp_test_runner.py)
  --report FILE    also write what MicroPython printed to FILE

The same command-line shape as tools/mp_run.js (the WebAssembly build) and
tools/rp2040/run.js (the emulated RP2040); the test runner is the one file all three
use. Exit status: MicroPython's (1 for an uncaught exception), 2 for a usage error."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")
BINARIES = {32: "micropython-v1.27.0-unix-i386-static", 64: "micropython-v1.27.0-unix-x86_64-static"}


def shared_dir():
    """The shared directory: $NXSECURE_SHARED, else the nearest `shared` with a firmware/
    beside the repository or beside one of its parents (a git worktree sits deeper)."""
    env = os.environ.get("NXSECURE_SHARED")
    if env:
        return os.path.abspath(env)
    here = ROOT
    for _ in range(3):
        here = os.path.dirname(here)
        if os.path.isdir(os.path.join(here, "shared", "firmware")):
            return os.path.join(here, "shared")
    return os.path.join(os.path.dirname(ROOT), "shared")


def binary(bits=32):
    """Path of the unix MicroPython; raises FileNotFoundError with a hint when absent."""
    path = os.path.join(shared_dir(), "firmware", "unix", BINARIES[bits])
    if not os.path.isfile(path):
        raise FileNotFoundError(
            "%s is missing: the shared firmware directory must be beside the repository "
            "(../shared) or named by NXSECURE_SHARED" % path)
    return path


def command(args, bits=32, heap="4m", path=(), mpy=None):
    """(argv, env) to run MicroPython with `args` after the interpreter options: the .mpy
    tree (or the repository's sources) and `path` on sys.path (MICROPYPATH), nothing of
    the user's ~/.micropython."""
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join(list(path) + [os.path.abspath(mpy) if mpy else ROOT])
    args = list(args)
    if args and args[0] == "-c":
        # -c puts the current directory first on sys.path: in a checkout that is the
        # nxsecure/ sources, not the tree asked for
        args[1] = "import sys\nif '' in sys.path: sys.path.remove('')\n" + args[1]
    return [binary(bits), "-X", "heapsize=%s" % heap] + args, env


def test_args(modules, seed_random=True, runner_args=()):
    """The -c program that runs tools/mp_test_runner.py over `modules` (names)."""
    argv = (["--seed-random"] if seed_random else []) + list(runner_args) + list(modules)
    return ["-c", "import mp_test_runner\nmp_test_runner.main(%r)\n" % argv]


def run(args, bits=32, heap="4m", path=(), mpy=None, report=None, timeout=None, cwd=None):
    """Run and capture; returns the CompletedProcess (stdout also written to report)."""
    argv, env = command(args, bits, heap, path, mpy)
    proc = subprocess.run(argv, env=env, cwd=cwd or ROOT, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)
    if report:
        with open(report, "w") as f:
            f.write(proc.stdout)
            f.write(proc.stderr)
    return proc


def main(argv):
    opt = {"bits": 32, "heap": "4m", "mpy": None, "report": None, "seed": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--bits", "--heap", "--mpy", "--report"):
            if i + 1 >= len(argv):
                sys.exit("mp_unix: %s needs a value" % a)
            opt[a[2:]] = int(argv[i + 1]) if a == "--bits" else argv[i + 1]
            i += 2
        elif a == "--seed-random":
            opt["seed"] = True
            i += 1
        else:
            break
    rest = argv[i:]
    if not rest:
        sys.exit(__doc__)
    path = [TOOLS]
    if rest[0] == "--test":
        files, runner = rest[1:], []
        if "--" in files:
            k = files.index("--")
            files, runner = files[:k], files[k + 1:]
        if "--seed-random" in files:            # also accepted here, as mp_run.js does
            files = [f for f in files if f != "--seed-random"]
            opt["seed"] = True
        if not files:
            sys.exit("mp_unix: --test needs at least one test module")
        path = [os.path.dirname(os.path.abspath(f)) for f in files] + path
        args = test_args([os.path.basename(f)[:-3] for f in files], opt["seed"], runner)
    elif rest[0] == "-c":
        args = rest
        if opt["seed"]:
            args = ["-c", "import mp_test_runner\nmp_test_runner.install_test_random()\n"
                    + rest[1]] + rest[2:]
    else:
        args = rest
        if opt["seed"]:
            sys.exit("mp_unix: --seed-random works with -c and --test only")
    try:
        argv_, env = command(args, opt["bits"], opt["heap"], path, opt["mpy"])
    except FileNotFoundError as e:
        sys.exit("mp_unix: %s" % e)
    if opt["report"] is None:
        return subprocess.call(argv_, env=env)
    proc = subprocess.run(argv_, env=env, capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    with open(opt["report"], "w") as f:
        f.write(proc.stdout + proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
