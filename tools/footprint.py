"""What each feature profile costs a board: .mpy bytes installed and live heap after
`import nxsecure`, measured on the 32-bit static unix MicroPython v1.27
(../shared/firmware/unix/micropython-v1.27.0-unix-i386-static: a board's object sizes).

    python tools/footprint.py [--profile NAME] [--modules] [--features] [--json]

For each profile of tools/profiles.py: its files are compiled with mpy-cross into
build/profiles/<name>/ (the tree `make deploy PROFILE=<name>` copies to a board's /lib),
then a fresh interpreter with that tree as its only library runs
    gc.collect(); a = gc.mem_alloc(); import nxsecure; gc.collect(); gc.mem_alloc() - a
--modules adds each module's own share: with an empty nxsecure/__init__, the modules are
imported one at a time in the profile's order and the growth after each is its cost
(including what it pulls in that was not loaded yet).
--features adds, for each optional feature of tools/profiles.py FEATURES and each profile,
what turning it on costs: the .mpy bytes of its files the profile does not already
install, and the live heap its module adds when imported after `import nxsecure`.
"""
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import profiles  # noqa: E402
import mpy_sizes  # noqa: E402


# the live heap an import leaves: %s is what is imported before measuring, %s the import
_MEASURE = """
import gc
%s
gc.collect()
gc.collect()
a = gc.mem_alloc()
import %s
gc.collect()
gc.collect()
print('HEAP', gc.mem_alloc() - a)
"""


def micropython32():
    """The 32-bit unix MicroPython, found as tools/mp_unix.py finds it."""
    import mp_unix
    try:
        return mp_unix.binary(32)
    except FileNotFoundError as e:
        raise SystemExit("footprint: %s" % e)


def stage(name, out_root=None):
    """Compile a profile's files into build/profiles/<name>/; -> (dir, {rel .py: mpy bytes})."""
    out = os.path.join(out_root or os.path.join(ROOT, "build", "profiles"), name)
    shutil.rmtree(out, ignore_errors=True)
    binary = mpy_sizes.mpy_cross_binary()
    sizes = {}
    for rel in profiles.profiles()[name]:
        dst, err = mpy_sizes.compile_one(binary, rel, out)
        if dst is None:
            raise SystemExit("footprint: mpy-cross failed on %s: %s" % (rel, err))
        sizes[rel] = os.path.getsize(dst)
    return out, sizes


def run_mp(tree, code, heap="4m"):
    # the tree by a relative path (the interpreter runs in it): the path strings it keeps
    # live (sys.path, module file names) do not grow with the checkout's location, which
    # otherwise moved the heap figure by a 16-byte block from one clone to another
    env = dict(os.environ, MICROPYPATH=".")
    p = subprocess.run([micropython32(), "-X", "heapsize=" + heap, "-c", code], env=env,
                       capture_output=True, text=True, timeout=120, cwd=tree)
    if p.returncode != 0:
        raise RuntimeError("MicroPython failed: %s%s" % (p.stdout, p.stderr))
    return p.stdout


# A profile that installs the server has it live once the application creates one: the
# package loads nxsecure/server.py on first use of a server name (a client never does),
# so the figure counts it in, as it did when `import nxsecure` loaded the server itself.
_SERVER = "nxsecure.NX_SECURE_DTLS_SERVER"


def import_heap(tree, server=True):
    """Live heap after `import nxsecure` (and, with server, the server's first use where
    the tree has the server)."""
    server = server and os.path.exists(os.path.join(tree, "nxsecure", "server.mpy"))
    out = run_mp(tree, _MEASURE % ("", "nxsecure\n" + (_SERVER if server else "")))
    return int([ln for ln in out.splitlines() if ln.startswith("HEAP ")][-1].split()[1])


def module_heap(name, tree):
    """[(module, bytes)] in the profile's order, with an empty nxsecure/__init__."""
    bare = tree + "-bare"
    shutil.rmtree(bare, ignore_errors=True)
    shutil.copytree(tree, bare)
    binary = mpy_sizes.mpy_cross_binary()
    empty = os.path.join(bare, "empty.py")
    with open(empty, "w") as f:
        f.write("\n")
    subprocess.run([binary, "-o", os.path.join(bare, "nxsecure", "__init__.mpy"), empty],
                   check=True)
    os.remove(empty)
    mods = [rel[:-3].replace("/", ".").replace(".__init__", "")
            for rel in profiles.profiles()[name] if rel != "nxsecure/__init__.py"]
    code = ("import gc\ngc.collect()\nimport nxsecure\ngc.collect()\nlast = gc.mem_alloc()\n"
            "for m in %r:\n"
            "    __import__(m)\n"
            "    gc.collect()\n"
            "    now = gc.mem_alloc()\n"
            "    print('MOD', m, now - last)\n"
            "    last = now\n" % (mods,))
    out = run_mp(bare, code)
    shutil.rmtree(bare, ignore_errors=True)
    return [(ln.split()[1], int(ln.split()[2])) for ln in out.splitlines() if ln.startswith("MOD ")]


def feature_cost(profile, feature):
    """-> (mpy bytes added, heap bytes added) by installing and importing a feature."""
    base = profiles.profiles()[profile]
    extra = [f for f in profiles.FEATURES[feature] if f not in base]
    tree, sizes = stage(profile, os.path.join(ROOT, "build", "profiles-feature"))
    binary = mpy_sizes.mpy_cross_binary()
    mpy = 0
    for rel in extra:
        dst, err = mpy_sizes.compile_one(binary, rel, tree)
        if dst is None:
            raise SystemExit("footprint: mpy-cross failed on %s: %s" % (rel, err))
        mpy += os.path.getsize(dst)
    # a profile that installs the feature already (full): its files' own size
    mpy += sum(sizes.get(rel, 0) for rel in profiles.FEATURES[feature] if rel in base)
    out = run_mp(tree, _MEASURE % ("import nxsecure", profiles.FEATURE_MODULE[feature]))
    heap = int([ln for ln in out.splitlines() if ln.startswith("HEAP ")][-1].split()[1])
    return mpy, heap


def measure(name, modules=False):
    tree, sizes = stage(name)
    r = {"profile": name, "mpy": sum(sizes.values()), "files": len(sizes),
         "heap": import_heap(tree), "budget": profiles.BUDGET[name], "tree": tree}
    if modules:
        r["modules"] = module_heap(name, tree)
        r["mpy_files"] = sizes
    return r


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", choices=profiles.NAMES)
    ap.add_argument("--modules", action="store_true")
    ap.add_argument("--features", action="store_true")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    names = [a.profile] if a.profile else list(profiles.NAMES)
    rows = [measure(n, a.modules) for n in names]
    if a.json:
        print(json.dumps(rows))
        return 0
    print("| profile | live heap after import | budget | .mpy installed | budget |")
    print("|---|---|---|---|---|")
    for r in rows:
        b = r["budget"]
        print("| %s | %d B (%.1f KB) | %d KB %s | %d B (%.1f KB, %d files) | %d KB %s |" % (
            r["profile"], r["heap"], r["heap"] / 1024, b["heap"] // 1024,
            "ok" if r["heap"] <= b["heap"] else "OVER", r["mpy"], r["mpy"] / 1024, r["files"],
            b["mpy"] // 1024, "ok" if r["mpy"] <= b["mpy"] else "OVER"))
    if a.features:
        print("\n| feature | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for feat in profiles.FEATURES:
            cells = []
            for n in names:
                mpy, heap = feature_cost(n, feat)
                cells.append("%d B .mpy, %d B heap" % (mpy, heap))
            print("| %s | %s |" % (feat, " | ".join(cells)))
    for r in rows:
        if "modules" in r:
            print("\n%s, per module (heap after importing it, in the profile's order; .mpy):"
                  % r["profile"])
            for m, n in r["modules"]:
                rel = m.replace(".", "/")
                rel = rel + ".py" if rel + ".py" in r["mpy_files"] else rel + "/__init__.py"
                print("  %-28s %6d B heap  %6d B mpy" % (m, n, r["mpy_files"].get(rel, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
