#!/usr/bin/env python3
"""Benchmark driver: measures everything in one run and writes BENCHMARKS.md.

Called by scripts/bench/run.sh after `cargo build --release`. Grid: Q in QS, N in NS,
L = Q, data from `dlgeom-cert gen --classes Q --per-class N/Q --spread 1 --seed 1`.

Per (Q, N):
- `dlgeom-bench eval` (exact evaluation of the global minimizer: cost + gradient + margin,
  also in f64), the numpy float64 and python-flint fmpq_mat references on the same
  network (ref_numpy.py, ref_flint.py), exact results compared with Rust's;
- `dlgeom-bench global` (global plan: build + analyse + certificate) and
  `dlgeom-bench families` (all partial + grouped plans, in parallel as verify does);
- the CLI: `dlgeom-cert verify DATA --out DIR --no-self-check` then
  `dlgeom-cert check DIR --data DATA` (exactly what the run wrote);
- the headline `dlgeom-cert verify` (default options, with its self-check) at Q = 8,
  N = 100 000, L = 8, with peak memory from /usr/bin/time -v.
Every command runs under a timeout; a timeout is recorded as "> T s (timeout)", and larger
N of the same (mode, Q) are then skipped (cost grows with N). Optionally `perf record` on
the slowest mode. Results: WORK/results.jsonl; report: OUT (default BENCHMARKS.md).

Environment: QS="2 4 8", NS="1000 10000 100000", REPEAT=3, T_EVAL=300 (eval, global and
the references), T_MODE=60 (families, CLI verify/check of the grid), T_VERIFY=120 (the
headline verify), PERF=1, WORK=target/bench, OUT=BENCHMARKS.md; REPORT_ONLY=1 rewrites OUT
from the records of the last run without measuring.
"""
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(ROOT, "scripts", "bench")
B = os.path.join(ROOT, "target", "release", "dlgeom-cert")
BB = os.path.join(ROOT, "target", "release", "dlgeom-bench")

env = os.environ.get
QS = [int(x) for x in env("QS", "2 4 8").split()]
NS = [int(x) for x in env("NS", "1000 10000 100000").split()]
REPEAT = int(env("REPEAT", "3"))
T_EVAL = float(env("T_EVAL", "300"))
T_MODE = float(env("T_MODE", "60"))
T_VERIFY = float(env("T_VERIFY", "120"))
PERF = env("PERF", "1") == "1"
WORK = os.path.abspath(env("WORK", os.path.join(ROOT, "target", "bench")))
OUT = os.path.abspath(env("OUT", os.path.join(ROOT, "BENCHMARKS.md")))
HEAD_Q, HEAD_N = 8, 100000

results = []  # every record, also appended to results.jsonl


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def record(rec):
    results.append(rec)
    with open(os.path.join(WORK, "results.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")


def run(cmd, timeout, extra_env=None):
    """Run cmd under /usr/bin/time -v with a timeout. Returns (status, wall_s, peak_kb, stdout)
    with status "ok", "timeout" or "error: ..."."""
    tfile = os.path.join(WORK, "time-v.txt")
    full = ["/usr/bin/time", "-v", "-o", tfile, "timeout", str(int(math.ceil(timeout)))] + cmd
    t0 = time.perf_counter()
    p = subprocess.run(full, capture_output=True, text=True,
                       env=dict(os.environ, **(extra_env or {})))
    wall = time.perf_counter() - t0
    peak = None
    try:
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(tfile).read())
        peak = int(m.group(1)) if m else None
    except OSError:
        pass
    if p.returncode == 124:
        return "timeout", wall, peak, p.stdout
    if p.returncode != 0:
        return f"error: exit {p.returncode}: {p.stderr.strip()[-300:]}", wall, peak, p.stdout
    return "ok", wall, peak, p.stdout


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def measure_tool(mode, q, n, cmd, timeout, extra_env=None):
    """A command printing JSON lines (dlgeom-bench, the references): record each line."""
    log(f"[{time.strftime('%H:%M:%S')}] {mode} Q={q} N={n}")
    st, wall, peak, out = run(cmd, timeout, extra_env)
    lines = json_lines(out) if st == "ok" else []
    if st != "ok" or not lines:
        record({"mode": mode, "q": q, "n": n, "status": st if st != "ok" else "no output",
                "timeout_s": timeout, "wall_s": wall, "peak_kb": peak})
        return None
    for l in lines:
        if "ref" in l:  # the references name themselves; file them under the script name
            l["mode"] = mode
        l.update({"q": q, "n": n, "status": "ok", "process_wall_s": wall, "peak_kb": peak})
        record(l)
    return lines


def measure_cli(mode, q, n, cmd, timeout, budget):
    """A CLI command: wall time of up to REPEAT runs (stopping once `budget` s are spent)."""
    times, peaks = [], []
    while len(times) < REPEAT and (not times or sum(times) < budget):
        log(f"[{time.strftime('%H:%M:%S')}] {mode} Q={q} N={n} run {len(times) + 1}")
        st, wall, peak, _ = run(cmd, timeout)
        if st != "ok":
            record({"mode": mode, "q": q, "n": n, "status": st, "timeout_s": timeout,
                    "wall_s": wall, "peak_kb": peak})
            return None
        times.append(wall)
        peaks.append(peak or 0)
    s = sorted(times)
    med = s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2
    rec = {"mode": mode, "q": q, "n": n, "status": "ok", "runs": len(times), "median_s": med,
           "times_s": times, "peak_kb": max(peaks)}
    record(rec)
    return rec


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def machine():
    model = re.search(r"Model name:\s*(.*)", sh("lscpu"))
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": sh("nproc"),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "memory": sh("free -g | awk '/^Mem:/{print $2\" GiB total, \"$7\" GiB available\"}'"),
        "rustc": sh("rustc --version"),
        "python": platform.python_version(),
        "numpy": sh("python3 -c 'import numpy; print(numpy.__version__)'"),
        "flint": sh("python3 -c 'import flint; print(flint.__version__)'"),
        "kernel": platform.release(),
        "load": sh("cat /proc/loadavg"),
    }


def perf_profile(data):
    """perf record (DWARF call graphs) on `dlgeom-bench families` for at most 40 s; returns
    the top entries of self time and of inclusive time within dlgeom_cert."""
    if not shutil.which("perf"):
        return None
    pdata = os.path.join(WORK, "perf.data")
    log(f"[{time.strftime('%H:%M:%S')}] perf record families {os.path.basename(data)}")
    subprocess.run(["timeout", "-s", "INT", "30", "perf", "record", "-F", "99", "--call-graph",
                    "dwarf,16384", "-o", pdata, BB, "families", data, "--repeat", "1"],
                   capture_output=True, text=True)

    def top(children, pattern, k):
        rep = subprocess.run(
            ["perf", "report", "-i", pdata, "--stdio", "--sort", "symbol", "-g", "none",
             "--children" if children else "--no-children"],
            capture_output=True, text=True).stdout
        rows = []
        for l in rep.splitlines():
            m = re.match(r"\s+([\d.]+)%\s+(?:([\d.]+)%\s+)?\[[.k]\]\s+(.*?)\s*(?:-\s+-\s*)?$", l)
            if m and re.search(pattern, m.group(3)):
                rows.append((float(m.group(1)), m.group(3)))
        return rows[:k]
    return {"self": top(False, r".", 12),
            "inclusive": top(True, r"dlgeom_cert::", 15)}


def fit_exponent(points):
    """Least-squares slope of log t against log N."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else float("nan")


def get(mode, q, n):
    for r in results:
        if r.get("mode") == mode and r["q"] == q and r["n"] == n:
            return r
    return None


def best_numpy(q, n):
    """The faster of the two numpy runs (default BLAS threads / one thread)."""
    c = [r for r in (get("ref_numpy.py", q, n), get("ref_numpy.py-1t", q, n))
         if r and r["status"] == "ok"]
    return min(c, key=lambda r: r["median_s"]) if c else get("ref_numpy.py", q, n)


def fmt_t(r):
    if r is None:
        return "not run"
    if r["status"] == "timeout":
        return f"> {r['timeout_s']:.0f} s (timeout)"
    if r["status"].startswith("skipped"):
        return r["status"]
    if r["status"] != "ok":
        return r["status"][:60]
    t = r["median_s"]
    return f"{t * 1000:.1f} ms" if t < 1 else f"{t:.2f} s"


def fmt_mem(r):
    return f"{r['peak_kb'] / 1024:.0f} MB" if r and r.get("peak_kb") else "–"


def report_only():
    """REPORT_ONLY=1: rewrite OUT from WORK/results.jsonl and WORK/run.json (no measuring),
    e.g. after editing scripts/bench/analysis.md."""
    with open(os.path.join(WORK, "results.jsonl")) as f:
        results.extend(json.loads(l) for l in f if l.strip())
    with open(os.path.join(WORK, "run.json")) as f:
        run_info = json.load(f)
    write_report(run_info["machine"], run_info["profile"])
    log(f"wrote {OUT}")


def main():
    if env("REPORT_ONLY") == "1":
        return report_only()
    os.makedirs(WORK, exist_ok=True)
    open(os.path.join(WORK, "results.jsonl"), "w").close()
    mach = machine()
    log(json.dumps(mach))
    t_start = time.perf_counter()
    datas = {}
    for q in QS:
        for n in NS:
            path = os.path.join(WORK, f"data-q{q}-n{n}.json")
            subprocess.run([B, "gen", "--classes", str(q), "--per-class", str(n // q),
                            "--spread", "1", "--seed", "1", "--out", path, "--force"],
                           check=True, capture_output=True)
            datas[(q, n)] = path
    timed_out = set()  # (mode, q) that timed out at a smaller N

    def skip(mode, q, n):
        if (mode, q) in timed_out:
            record({"mode": mode, "q": q, "n": n,
                    "status": "skipped (timed out at a smaller N)"})
            return True
        return False

    def note(mode, q, r):
        if r is None:
            timed_out.add((mode, q))

    rep = ["--repeat", str(REPEAT), "--budget", "20"]
    for q in QS:
        for n in NS:
            d = datas[(q, n)]
            net = os.path.join(WORK, f"net-q{q}-n{n}.json")
            # 1. exact evaluation and the two references (same network file)
            measure_tool("eval", q, n, [BB, "eval", d, "--network-out", net] + rep, T_EVAL)
            if os.path.exists(net):
                # numpy twice: default BLAS threads, and one BLAS thread (faster on a loaded
                # 2-core machine); the faster of the two is the reference
                for mode, ref, xenv in (("ref_numpy.py", "ref_numpy.py", None),
                                        ("ref_numpy.py-1t", "ref_numpy.py",
                                         {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}),
                                        ("ref_flint.py", "ref_flint.py", None)):
                    measure_tool(mode, q, n, [sys.executable, os.path.join(HERE, ref), d, net,
                                              "--repeat", str(REPEAT), "--budget", "20"],
                                 T_EVAL, xenv)
            # 2. global alone, and the partial + grouped families
            for mode, t in (("global", T_EVAL), ("families", T_MODE)):
                if not skip(mode, q, n):
                    note(mode, q, measure_tool(mode, q, n, [BB, mode, d] + rep, t))
            # 3. CLI verify (no self-check) and check of what it wrote
            outdir = os.path.join(WORK, f"certs-q{q}-n{n}")
            fam = get("families", q, n)
            if fam and fam["status"] == "timeout" and ("cli-verify", q) not in timed_out:
                # verify runs these plans and more: it cannot be faster
                record({"mode": "cli-verify", "q": q, "n": n, "status": "timeout",
                        "timeout_s": T_MODE, "note": "not run: families alone exceeded T"})
                record({"mode": "cli-check", "q": q, "n": n,
                        "status": "skipped (nothing written: verify did not finish)"})
                timed_out.update({("cli-verify", q), ("cli-check", q)})
            elif not skip("cli-verify", q, n):
                shutil.rmtree(outdir, ignore_errors=True)
                v = measure_cli("cli-verify", q, n,
                                [B, "verify", d, "--out", outdir, "--force", "--quiet",
                                 "--no-self-check"], T_MODE, 15)
                note("cli-verify", q, v)
                if v is None:
                    skip("cli-check", q, n) or record(
                        {"mode": "cli-check", "q": q, "n": n,
                         "status": "skipped (nothing written: verify did not finish)"})
                    timed_out.add(("cli-check", q))
                elif not skip("cli-check", q, n):
                    note("cli-check", q, measure_cli(
                        "cli-check", q, n, [B, "check", outdir, "--data", d, "--quiet"],
                        T_MODE, 15))
            else:
                skip("cli-check", q, n)
    # 4. the headline: full verify with self-check, Q = 8, N = 100 000, L = 8
    hd = os.path.join(WORK, f"data-q{HEAD_Q}-n{HEAD_N}.json")
    if not os.path.exists(hd):
        subprocess.run([B, "gen", "--classes", str(HEAD_Q), "--per-class",
                        str(HEAD_N // HEAD_Q), "--spread", "1", "--seed", "1", "--out", hd,
                        "--force"], check=True, capture_output=True)
    outdir = os.path.join(WORK, "certs-headline")
    shutil.rmtree(outdir, ignore_errors=True)
    head = measure_cli("headline-verify", HEAD_Q, HEAD_N,
                       [B, "verify", hd, "--layers", str(HEAD_Q), "--out", outdir, "--force",
                        "--quiet"], T_VERIFY, 0)
    if head is not None:
        measure_cli("headline-check", HEAD_Q, HEAD_N,
                    [B, "check", outdir, "--data", hd, "--quiet"], T_VERIFY, 0)
    else:
        record({"mode": "headline-check", "q": HEAD_Q, "n": HEAD_N,
                "status": "skipped (nothing written: verify did not finish)"})
    prof = None
    if PERF:
        pq = max(QS)
        prof = perf_profile(datas[(pq, NS[0])])
        if prof:
            prof["what"] = f"dlgeom-bench families, Q = {pq}, N = {NS[0]}, first 30 s"
    mach["load_after"] = sh("cat /proc/loadavg")
    mach["total_s"] = time.perf_counter() - t_start
    with open(os.path.join(WORK, "run.json"), "w") as f:
        json.dump({"machine": mach, "profile": prof}, f)
    write_report(mach, prof)
    log(f"wrote {OUT}")


def write_report(mach, prof):
    L = []
    w = L.append
    w("# BENCHMARKS\n")
    w("Generated by `bash scripts/bench/run.sh` (driver `scripts/bench/run.py`; raw records in "
      "`target/bench/results.jsonl`). Timings are medians of up to "
      f"{REPEAT} runs (fewer when a run is long); each command runs under a timeout and a "
      "timeout is reported as \"> T s (timeout)\". Benchmarks are not tests: CI runs only a "
      "tiny smoke size (`tests/bench_smoke.rs`).\n")
    w("To rerun: `pip install numpy python-flint` (references only), then "
      "`bash scripts/bench/run.sh` (environment: `QS`, `NS`, `REPEAT`, `T_EVAL`, `T_MODE`, "
      "`T_VERIFY`, `PERF`; see `scripts/bench/run.py`).\n")
    w("## Machine\n")
    w("| | |\n|---|---|")
    for k in ("date", "nproc", "cpu", "memory", "kernel", "rustc", "python", "numpy", "flint",
              "load", "load_after"):
        w(f"| {k} | {mach.get(k, '?')} |")
    w(f"| whole run | {mach['total_s']:.0f} s |")
    w("\n`load`/`load_after` are /proc/loadavg before and after the run: the machine is shared "
      "(other builds and tests may run at the same time), so absolute times are noisy; every "
      "ratio below compares figures taken in this same run.\n")
    w(f"Settings: QS = {QS}, NS = {NS}, L = Q, T_EVAL = {T_EVAL:.0f} s, "
      f"T_MODE = {T_MODE:.0f} s, T_VERIFY = {T_VERIFY:.0f} s.\n")

    # ---- targets
    w("## Targets\n")
    w("| target | measured | reference | ratio | status |\n|---|---|---|---|---|")
    hv, hc = get("headline-verify", HEAD_Q, HEAD_N), get("headline-check", HEAD_Q, HEAD_N)
    ok = hv and hv["status"] == "ok"
    if ok:
        w(f"| full `verify` (all families, self-check on), Q = 8, N = 10⁵, L = 8: ≤ 60 s | "
          f"{fmt_t(hv)} | 60 s | {hv['median_s'] / 60:.2f}× target | "
          f"{'MET' if hv['median_s'] <= 60 else 'NOT MET'} |")
    else:
        w(f"| full `verify` (all families, self-check on), Q = 8, N = 10⁵, L = 8: ≤ 60 s | "
          f"{fmt_t(hv)} | 60 s | > {(hv or {}).get('timeout_s', 0) / 60:.1f}× target | NOT MET |")
    mem = hv.get("peak_kb") if hv else None
    if ok:
        w(f"| same run: peak memory ≤ 2 GB | {fmt_mem(hv)} | 2048 MB | "
          f"{(mem or 0) / 1024 / 2048:.2f}× | "
          f"{'MET' if mem and mem <= 2 * 1024 * 1024 else 'NOT MET'} |")
    else:
        w(f"| same run: peak memory ≤ 2 GB | {fmt_mem(hv)} when killed at the timeout | 2048 MB | – | "
          f"{'NOT MET' if mem and mem > 2 * 1024 * 1024 else 'NOT MEASURED (run did not finish)'} |")
    if hc and hc["status"] == "ok" and ok:
        r = hc["median_s"] / hv["median_s"]
        w(f"| `check` of everything it wrote ≤ `verify` | {fmt_t(hc)} | {fmt_t(hv)} | {r:.2f}× | "
          f"{'MET' if r <= 1 else 'NOT MET'} |")
    else:
        both = [(n, q) for q in QS for n in NS
                if (get("cli-verify", q, n) or {}).get("status") == "ok"
                and (get("cli-check", q, n) or {}).get("status") in ("ok", "timeout")]
        w(f"| `check` of everything it wrote ≤ `verify`, Q = 8, N = 10⁵ | {fmt_t(hc)} | "
          f"{fmt_t(hv)} | – | NOT MEASURED (verify did not finish) |")
        if both:
            n, q = max(both)
            v, c = get("cli-verify", q, n), get("cli-check", q, n)
            worse = sum(1 for nn, qq in both
                        if get("cli-check", qq, nn)["status"] == "timeout"
                        or get("cli-check", qq, nn)["median_s"] > get("cli-verify", qq, nn)["median_s"])
            if c["status"] == "ok":
                r = f"{c['median_s'] / v['median_s']:.1f}×"
            else:
                r = f"> {c['timeout_s'] / v['median_s']:.1f}×"
            w(f"| `check` ≤ `verify` (largest size where verify finished: Q = {q}, N = {n}; "
              f"check slower in {worse} of {len(both)} sizes) | {fmt_t(c)} | {fmt_t(v)} "
              f"(`--no-self-check`) | {r} | {'MET' if worse == 0 else 'NOT MET'} |")
    e, npy, fl = (get("eval", HEAD_Q, HEAD_N), best_numpy(HEAD_Q, HEAD_N),
                  get("ref_flint.py", HEAD_Q, HEAD_N))
    if e and npy and e["status"] == npy["status"] == "ok":
        r = e["median_s"] / npy["median_s"]
        w(f"| exact eval (cost+grad+margin) ≤ 20× numpy f64, Q = 8, N = 10⁵ | {fmt_t(e)} | "
          f"{fmt_t(npy)} | {r:.1f}× | {'MET' if r <= 20 else 'NOT MET'} |")
    else:
        w(f"| exact eval ≤ 20× numpy f64 | {fmt_t(e)} | {fmt_t(npy)} | – | NOT MEASURED |")
    if e and fl and e["status"] == "ok" and fl["status"] == "ok":
        r = fl["median_s"] / e["median_s"]
        w(f"| exact eval ≥ 5× faster than python-flint fmpq_mat | {fmt_t(e)} | {fmt_t(fl)} | "
          f"{r:.1f}× faster | {'MET' if r >= 5 else 'NOT MET'} |")
    elif e and fl and e["status"] == "ok" and fl["status"] == "timeout":
        r = fl["timeout_s"] / e["median_s"]
        w(f"| exact eval ≥ 5× faster than python-flint fmpq_mat | {fmt_t(e)} | {fmt_t(fl)} | "
          f"> {r:.1f}× faster | {'MET' if r >= 5 else 'NOT MEASURED'} |")
    else:
        w(f"| exact eval ≥ 5× faster than python-flint | {fmt_t(e)} | {fmt_t(fl)} | – | NOT MEASURED |")
    # growth
    growth = []
    for mode in ("eval", "global", "families", "cli-verify", "cli-check", "ref_numpy.py",
                 "ref_flint.py"):
        for q in QS:
            pts = [(n, get(mode, q, n)["median_s"]) for n in NS
                   if get(mode, q, n) and get(mode, q, n)["status"] == "ok"]
            if len(pts) >= 2:
                growth.append((mode, q, fit_exponent(pts), len(pts)))
    ge = [g for g in growth if g[0] == "eval" and g[1] == HEAD_Q]
    if ge:
        x = ge[0][2]
        w(f"| time linear in N: exponent of exact eval, Q = 8, N = 10³…10⁵ (≤ 1.1) | "
          f"{x:.2f} | 1.00 | – | {'MET' if x <= 1.1 else 'NOT MET'} |")
    gv = [g for g in growth if g[0] == "cli-verify"]
    for mode, q, x, k in gv:
        w(f"| time linear in N: exponent of `verify`, Q = {q} ({k} sizes) | {x:.2f} | 1.00 | – | "
          f"{'MET' if x <= 1.1 else 'NOT MET'} |")
    missing = [q for q in QS if not any(g[1] == q for g in gv)]
    if missing:
        w(f"| time linear in N: `verify` at Q = {', '.join(map(str, missing))} | "
          "fewer than 2 sizes finished | – | – | NOT MEASURED |")
    g, f_ = get("global", HEAD_Q, HEAD_N), get("families", HEAD_Q, HEAD_N)
    if g and f_ and g["status"] == "ok" and f_["status"] == "ok":
        r = f_["median_s"] / g["median_s"]
        w(f"| partial + grouped families ≤ 2× global alone, Q = 8, N = 10⁵ | {fmt_t(f_)} | "
          f"{fmt_t(g)} | {r:.1f}× | {'MET' if r <= 2 else 'NOT MET'} |")
    else:
        # the largest N where both exist for Q = 8, else a lower bound from the timeout
        best = None
        for n in NS:
            gg, ff = get("global", HEAD_Q, n), get("families", HEAD_Q, n)
            if gg and gg["status"] == "ok" and ff and ff["status"] in ("ok", "timeout"):
                best = (n, gg, ff)
        if best:
            n, gg, ff = best
            if ff["status"] == "ok":
                r = ff["median_s"] / gg["median_s"]
                w(f"| partial + grouped ≤ 2× global, Q = 8 (N = {n}) | {fmt_t(ff)} | {fmt_t(gg)} | "
                  f"{r:.1f}× | {'MET' if r <= 2 else 'NOT MET'} |")
            else:
                r = ff["timeout_s"] / gg["median_s"]
                w(f"| partial + grouped ≤ 2× global, Q = 8 (N = {n}; larger N not run) | "
                  f"{fmt_t(ff)} | {fmt_t(gg)} | > {r:.0f}× | NOT MET |")
        else:
            w(f"| partial + grouped ≤ 2× global, Q = 8 | {fmt_t(f_)} | {fmt_t(g)} | – | NOT MEASURED |")
    w("")

    # ---- grid
    w("## All measurements (medians)\n")
    w("`eval`: exact evaluation of the global-minimizer network (`Network::evaluate_exact`: "
      "cost, gradient, margin, patterns); `eval-f64`: the same generic pass in Rust `f64`; "
      "numpy / flint: the references of `scripts/bench/` (numpy: the faster of its runs with "
      "default BLAS threads and with one BLAS thread, both in `results.jsonl`); `global`: "
      "`run_plan` of the global "
      "plan (build + analyse + certificate); `families`: the 2^Q − 2 partial and the grouped "
      "plans (in parallel); `verify` / `check`: the CLI (`verify --no-self-check`, then "
      "`check` of the folder it wrote). Peak memory is the whole process (including loading "
      "the data).\n")
    w("| Q | N | eval | eval-f64 | numpy f64 | flint fmpq_mat | eval ÷ numpy | flint ÷ eval | "
      "global | families | families ÷ global | verify | check | check ÷ verify | verify peak |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for q in QS:
        for n in NS:
            e, ef = get("eval", q, n), get("eval-f64", q, n)
            npy, fl = best_numpy(q, n), get("ref_flint.py", q, n)
            g, f_ = get("global", q, n), get("families", q, n)
            v, c = get("cli-verify", q, n), get("cli-check", q, n)

            def ratio(a, b):
                if a and b and a["status"] == "ok" and b["status"] == "ok":
                    return f"{a['median_s'] / b['median_s']:.1f}×"
                if a and b and a["status"] == "timeout" and b["status"] == "ok":
                    return f"> {a['timeout_s'] / b['median_s']:.0f}×"
                return "–"
            w(f"| {q} | {n} | {fmt_t(e)} | {fmt_t(ef)} | {fmt_t(npy)} | {fmt_t(fl)} | "
              f"{ratio(e, npy)} | {ratio(fl, e)} | {fmt_t(g)} | {fmt_t(f_)} | {ratio(f_, g)} | "
              f"{fmt_t(v)} | {fmt_t(c)} | {ratio(c, v)} | {fmt_mem(v)} |")
    w("")
    gl = [r for r in results if r.get("mode") == "global" and r["status"] == "ok"]
    if gl:
        w("Split of `global` (median seconds): build / analyse / certificate (the "
          "certificate includes the degeneracy block: `rank J` and three exact evaluations "
          "along the flat direction).\n")
        w("| Q | N | build | analyse | certificate | verdict |\n|---|---|---|---|---|---|")
        for r in gl:
            w(f"| {r['q']} | {r['n']} | {r['build_median_s']:.3f} | {r['analyse_median_s']:.3f} "
              f"| {r['certificate_median_s']:.3f} | {r['verdict']} |")
        w("")
    # exactness cross-check of the references
    w("Exactness cross-check: the python-flint reference's exact cost and margin against "
      "Rust's.\n")
    w("| Q | N | Rust cost | flint cost | Rust margin | flint margin | equal |\n"
      "|---|---|---|---|---|---|---|")
    for q in QS:
        for n in NS:
            e, fl = get("eval", q, n), get("ref_flint.py", q, n)
            if e and fl and e["status"] == "ok" and fl["status"] == "ok":
                eq = e["cost"] == fl["cost"] and e["margin"] == fl["margin"]
                w(f"| {q} | {n} | {e['cost']} | {fl['cost']} | {e['margin']} | {fl['margin']} | "
                  f"{'yes' if eq else 'NO'} |")
    w("")
    if growth:
        w("## Growth in N (least-squares slope of log t on log N)\n")
        w("| what | Q | sizes | exponent |\n|---|---|---|---|")
        for mode, q, x, k in growth:
            w(f"| {mode} | {q} | {k} | {x:.2f} |")
        w("")
    if prof:
        w("## Profile\n")
        w(f"`perf record -F 99 --call-graph dwarf` of {prof['what']} (`perf report`).\n")
        w("Inclusive time, functions of this crate:\n")
        w("| % (incl.) | function |\n|---|---|")
        for p, s in prof["inclusive"]:
            w(f"| {p:.1f} | `{s[:110]}` |")
        w("\nSelf time, all functions:\n")
        w("| % (self) | function |\n|---|---|")
        for p, s in prof["self"]:
            w(f"| {p:.1f} | `{s[:110]}` |")
        w("")
    analysis = os.path.join(HERE, "analysis.md")
    if os.path.exists(analysis):
        w(open(analysis).read())
    with open(OUT, "w") as f:
        f.write("\n".join(L).rstrip() + "\n")


if __name__ == "__main__":
    main()
