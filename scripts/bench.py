#!/usr/bin/python3
"""feedd's benchmark suite (issue 7): every figure of the issue's two tables
in one table, from the release binary on generated corpora.

    python3 scripts/bench.py                          # 1,000 / 10,000 / 100,000 articles and serving: ~8 min
    python3 scripts/bench.py --quick                  # 10 edits, short serving slices: ~5 min
    python3 scripts/bench.py --sizes 1000,10000 --no-serve    # ~20 s
    python3 scripts/bench.py > after.txt; python3 scripts/bench.py --compare before.txt after.txt
    python3 scripts/bench.py --self-test              # the parsing and statistics, no benchmark

It builds `target/release/feedd` and the `gen_corpus` example (unless
--no-build), then for each size N:

1. writes the corpus (`examples/gen_corpus.rs`: N articles, 50 categories,
   `feeds.limit` 50, full content) plus one article of its own, dated newest
   in the first category, which it edits to see when feedd has caught up;
2. cold build: `feedd build` with empty output and state folders (the
   articles are in the page cache, having just been written): wall time,
   articles/s, and its peak memory (the child's ru_maxrss). Outside tmpfs
   the previous run's folders are set aside, not deleted, until the whole
   benchmark is over: on ext4 without a journal (this machine's root),
   every new inode is first checked against the ones deleted in the last
   seconds to minutes, so a build right after deleting the last one's
   files spends much of its time in that scan (39% of a 20,000-article
   build's CPU, in `perf`). Then the floor: `cp -r` of the built output
   folder into a new one, the same files written by the simplest program;
3. three starts of `feedd serve` with the feeds on disk: with no state folder
   (cold state), after SIGTERM (clean shutdown) and after SIGKILL (crash).
   Each time it edits the article right after spawning and polls the first
   category's feed: "first feed" is spawn -> first 200 on that URL, "rescan"
   is spawn -> the edit visible over HTTP (no edit is visible before the
   startup scan ends). With a cold state feedd publishes the feeds and the
   edits made meanwhile before it checks every page on disk; "checked" is
   spawn -> the log line saying so, and only then is it stopped, so that
   the clean restart is of a daemon that finished its start. Once it logs
   that the check begins, a second edit is made and timed (edit -> visible). After the clean restart: VmRSS 3 s after the
   startup rebuild's log line (pages written, heap trimmed), then
   `--edits` edits one by one (edit -> new content over HTTP, p50 and p95;
   includes `watch.debounce_ms` = 100), then VmRSS again once the daemon
   has been quiet for 3 s (it gives freed heap back 2 s after the last edit).

Then serving against nginx, through ../shared/bench/serve_compare.sh only
(feedd pinned to CPU 1, wrk to CPU 0, alternating slices): the bundled
sample's /rss.xml (25 KB) and the second category's feed of the largest
corpus (~170 KB at 100,000 articles), at 64 and 256 connections.

Machine noise: other processes on the same cores move every figure; compare
ratios measured in one run. Ports: 18200-18289 for feedd, 18290+ for nginx.
Standard library only.
"""

import argparse
import http.client
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where cargo puts the binaries it builds for this checkout.
TARGET_DIR = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"))
FEEDD = os.path.join(TARGET_DIR, "release", "feedd")
GEN_CORPUS = os.path.join(TARGET_DIR, "release", "examples", "gen_corpus")
SERVE_COMPARE = os.path.join(os.path.dirname(ROOT), "shared", "bench", "serve_compare.sh")
DEBOUNCE_MS = 100
FEEDD_PORTS = range(18200, 18290)
NGINX_PORT = 18290
# The edited article: dated after every generated one (gen_corpus's newest
# is 2026-11-29 23:00), so that it heads its category's feed.
EDITED_NAME = "bench-edit.md"
EDITED_DATE = "2026-11-30 08:00"


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---------------------------------------------------------------- statistics and parsing


def percentile(values, fraction):
    """Nearest-rank percentile: the smallest value with at least `fraction`
    of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered) - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def vm_kib(pid, field):
    """VmRSS / VmHWM of a live process, in KiB (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


SERVE_COMPARE_ROW = re.compile(
    r"^(?P<kind>\w+)\s+(?P<conns>\d+)\s+\|\s+(?P<rps_target>[\d.]+)\s+(?P<rps_nginx>[\d.]+)\s+"
    r"(?P<ratio>[\d.]+)\s+(?P<se>[\d.]+)\s+(?P<cpu_eff>\S+)\s+\|\s+(?P<p50_target>[\d.]+)\s+"
    r"(?P<p99_target>[\d.]+)\s+\|\s+(?P<p50_nginx>[\d.]+)\s+(?P<p99_nginx>[\d.]+)\s+\|\s*(?P<notes>.*)$"
)


def parse_serve_compare(report):
    """serve_compare.sh's result table -> {(kind, conns): row}, kinds
    renamed to the issue's words (plain -> identity, cond -> 304)."""
    names = {"plain": "identity", "gzip": "gzip", "cond": "304"}
    rows = {}
    for line in report.splitlines():
        match = SERVE_COMPARE_ROW.match(line.strip())
        if not match or match["kind"] not in names:
            continue
        row = {key: match[key] for key in ("ratio", "se", "cpu_eff", "p99_target", "p99_nginx", "notes")}
        row["notes"] = row["notes"].strip()
        rows[(names[match["kind"]], int(match["conns"]))] = row
    return rows


# ---------------------------------------------------------------- processes


def free_port(ports):
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BenchError(f"no free port in {ports.start}-{ports.stop - 1}")


def set_listen(config, port):
    with open(config, encoding="utf-8") as file:
        text = file.read()
    text, count = re.subn(r'(?m)^listen = ".*"$', f'listen = "127.0.0.1:{port}"', text)
    if count != 1:
        raise BenchError(f"{config}: no single `listen = ...` line to point at port {port}")
    with open(config, "w", encoding="utf-8") as file:
        file.write(text)


# The workdir's folder for outputs and states of earlier runs.
SET_ASIDE = "set-aside"


def directory_bytes(path):
    """The size of the files under `path`, in bytes."""
    return sum(os.path.getsize(os.path.join(folder, name))
               for folder, _, names in os.walk(path) for name in names)


def run_build(config, log_path):
    """One `feedd build`: (seconds, peak RSS in KiB)."""
    with open(log_path, "ab") as log_file:
        started = time.perf_counter()
        child = subprocess.Popen([FEEDD, "build", "--config", config], stdout=log_file, stderr=log_file)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise BenchError(f"feedd build failed ({child.returncode}): see {log_path}")
    return seconds, usage.ru_maxrss


# The log line of the rebuild that ends a `serve` start-up.
STARTUP_LINE = 'reason="startup"'
# Logged when a start with no record of the pages on disk (a cold state)
# has checked every one of them, after publishing the feeds and the edits
# made meanwhile.
PAGE_CHECK_LINE = "every page on disk checked"
PAGE_CHECK_BEGINS = "checking every page on disk"


def log_count(log_path, needle):
    """How many lines of the log file contain `needle`."""
    try:
        with open(log_path, errors="replace") as file:
            return sum(needle in line for line in file)
    except FileNotFoundError:
        return 0


class Server:
    """A `feedd serve` child on its own port, logging to a file."""

    def __init__(self, config, log_path, cpu=None):
        self.port = free_port(FEEDD_PORTS)
        set_listen(config, self.port)
        command = [FEEDD, "serve", "--config", config]
        if cpu is not None:
            command = ["taskset", "-c", str(cpu)] + command  # taskset execs: same pid
        self.log_path = log_path
        self.log_file = open(log_path, "ab")
        self.spawned = time.perf_counter()
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=self.log_file,
                                        env=dict(os.environ, RUST_LOG="info"))
        self.connection = None

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def rss_kib(self):
        return vm_kib(self.process.pid, "VmRSS")

    def check_alive(self):
        if self.process.poll() is not None:
            raise BenchError(f"feedd serve exited ({self.process.returncode}): see {self.log_path}")

    def get(self, path, etag=None):
        """(status, etag, body) over one keep-alive connection, or None while
        nothing listens yet."""
        headers = {"If-None-Match": etag} if etag else {}
        for _ in range(2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                self.connection.request("GET", path, headers=headers)
                response = self.connection.getresponse()
                body = response.read()
                return response.status, response.getheader("ETag"), body
            except ConnectionRefusedError:
                self.connection.close()
                self.connection = None
                return None
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None  # the server closed a kept-alive connection: once more
        return None

    def wait_for(self, path, marker, timeout, started=None):
        """Polls `path` until its body holds `marker`: (seconds to the first
        200, seconds to the marker), both from `started` (default: spawn).
        The marker time is None if it did not show within `timeout`."""
        started = self.spawned if started is None else started
        first = None
        etag = None
        deadline = time.perf_counter() + timeout
        needle = marker.encode()
        while time.perf_counter() < deadline:
            answer = self.get(path, etag)
            now = time.perf_counter()
            if answer is None:
                self.check_alive()
            else:
                status, new_etag, body = answer
                if status == 200:
                    if first is None:
                        first = now - started
                    if needle in body:
                        return first, now - started
                    etag = new_etag
            time.sleep(0.001)
        self.check_alive()
        return first, None

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig`; returns the seconds until it exited."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        started = time.perf_counter()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchError(f"feedd serve did not stop within {timeout} s of {sig.name}")
        self.log_file.close()
        return time.perf_counter() - started


# ---------------------------------------------------------------- one corpus size


class Corpus:
    def __init__(self, workdir, articles, categories, log_path):
        self.dir = os.path.join(workdir, f"corpus-{articles}")
        self.articles = articles
        self.config = os.path.join(self.dir, "config", "feedd.toml")
        self.on_tmpfs = filesystem_of(workdir) == "tmpfs"
        self.log_path = log_path
        started = time.perf_counter()
        output = subprocess.run(
            [GEN_CORPUS, "--articles", str(articles), "--categories", str(categories), "--replace", self.dir],
            check=True, capture_output=True, text=True).stdout
        self.generate_seconds = time.perf_counter() - started
        self.summary = output.splitlines()[0] if output else ""
        found = {index: (folder, feed)
                 for index, folder, feed in re.findall(r"^category (\d+): folder=(.*) feed=(\S+)$", output, re.M)}
        if "0" not in found:
            raise BenchError(f"gen_corpus printed no category line: {output!r}")
        self.edited_folder, self.edited_feed = found["0"]
        self.other_feed = found.get("1", found["0"])[1]
        self.edited = os.path.join(self.dir, "articles", self.edited_folder, EDITED_NAME)
        self.edit("bench-0")

    def edit(self, marker):
        """Replaces the edited article as editors do (a hidden temp file,
        which feedd ignores, renamed over it)."""
        text = (f'+++\ntitle = "Bài được sửa {marker}"\ndate = "{EDITED_DATE}"\nauthor = "Ban biên tập"\n+++\n\n'
                f"Nội dung được cập nhật ({marker}): huyện Mường Nhé đã tăng cường công tác xây dựng Đảng ở cơ sở.\n")
        temp = os.path.join(os.path.dirname(self.edited), "." + EDITED_NAME + ".tmp")
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temp, self.edited)

    def remove(self, name):
        shutil.rmtree(os.path.join(self.dir, name), ignore_errors=True)

    def set_aside(self, name):
        """Moves `name` out of the corpus, into the workdir's set-aside
        folder, deleted only when the benchmark ends (see the module doc);
        on tmpfs, where deleting costs nothing later and keeping costs
        memory, deletes it."""
        path = os.path.join(self.dir, name)
        if self.on_tmpfs:
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.exists(path):
            aside = os.path.join(os.path.dirname(self.dir), SET_ASIDE)
            os.makedirs(aside, exist_ok=True)
            os.rename(path, os.path.join(aside, f"{os.path.basename(self.dir)}-{name}-{time.monotonic_ns()}"))

    def copy_output(self):
        """Seconds that `cp -r` takes to copy the output folder into a new
        one (set aside afterwards): what writing these files costs alone."""
        copy = os.path.join(self.dir, "feeds-copy")
        started = time.perf_counter()
        subprocess.run(["cp", "-r", os.path.join(self.dir, "feeds"), copy], check=True)
        seconds = time.perf_counter() - started
        self.set_aside("feeds-copy")
        return seconds


def measure_size(args, articles, figures):
    """Fills figures[(measure, articles)]."""
    log_path = os.path.join(args.workdir, f"feedd-{articles}.log")
    log(f"{articles} articles: writing the corpus")
    corpus = Corpus(args.workdir, articles, args.categories, log_path)
    log(f"  {corpus.summary} ({corpus.generate_seconds:.1f} s with the process start)")

    times, peaks = [], []
    for run in range(args.build_runs):
        corpus.set_aside("feeds")
        corpus.set_aside(".feedd-state")
        seconds, peak = run_build(corpus.config, log_path)
        times.append(seconds)
        peaks.append(peak)
        log(f"  cold build {run + 1}: {seconds:.2f} s, peak RSS {peak / 1024:.0f} MiB")
    seconds = sorted(times)[len(times) // 2]
    figures[("build_s", articles)] = f"{seconds:.2f}"
    figures[("build_rate", articles)] = f"{articles / seconds:,.0f}"
    figures[("build_peak", articles)] = f"{max(peaks) / 1024:.0f}"
    copy_seconds = corpus.copy_output()
    figures[("copy_s", articles)] = f"{copy_seconds:.2f}"
    figures[("output_mib", articles)] = f"{directory_bytes(os.path.join(corpus.dir, 'feeds')) / 2**20:,.0f}"
    log(f"  cp -r of the output: {copy_seconds:.2f} s")

    timeout = args.startup_timeout
    session = 0

    def start(kind):
        nonlocal session
        session += 1
        server = Server(corpus.config, log_path)
        marker = f"bench-start-{session}"
        corpus.edit(marker)
        first, visible = server.wait_for(corpus.edited_feed, marker, timeout)
        figures[("first_" + kind, articles)] = "none" if first is None else f"{first * 1000:.0f}"
        figures[("rescan_" + kind, articles)] = f"lost (>{timeout:.0f})" if visible is None else f"{visible:.2f}"
        log(f"  start, {kind}: first feed {figures[('first_' + kind, articles)]} ms, edit visible after "
            f"{figures[('rescan_' + kind, articles)]} s")
        return server

    corpus.set_aside(".feedd-state")
    checks_before = log_count(log_path, PAGE_CHECK_LINE)
    begun_before = log_count(log_path, PAGE_CHECK_BEGINS)
    server = start("cold")
    # An edit while it checks every page on disk (seconds at 100,000
    # articles), which must not wait for the check.
    deadline = time.perf_counter() + timeout
    while log_count(log_path, PAGE_CHECK_BEGINS) <= begun_before and time.perf_counter() < deadline:
        time.sleep(0.01)
    marker = f"bench-checking-{session}"
    corpus.edit(marker)
    edited = time.perf_counter()
    _, visible = server.wait_for(corpus.edited_feed, marker, timeout, started=edited)
    figures[("edit_checking", articles)] = "lost" if visible is None else f"{visible * 1000:.0f}"
    log(f"  start, cold: an edit during the check of every page visible after {figures[('edit_checking', articles)]} ms")
    # The restart below is of a daemon that finished its start.
    deadline = time.perf_counter() + timeout
    while log_count(log_path, PAGE_CHECK_LINE) <= checks_before and time.perf_counter() < deadline:
        time.sleep(0.05)
    checked = time.perf_counter() - server.spawned
    figures[("checked_cold", articles)] = f"{checked:.2f}"
    log(f"  start, cold: every page on disk checked after {checked:.2f} s")
    server.stop(signal.SIGTERM)

    startups_before = log_count(log_path, STARTUP_LINE)
    server = start("clean")
    # Once the startup rebuild is over (the edit shows as soon as the feeds
    # are published; the article pages follow) and the daemon has trimmed
    # its heap, which it does 2 s after the last rebuild.
    deadline = time.perf_counter() + timeout
    while log_count(log_path, STARTUP_LINE) <= startups_before and time.perf_counter() < deadline:
        time.sleep(0.05)
    time.sleep(3.0)
    figures[("rss_start", articles)] = f"{server.rss_kib() / 1024:.0f}"
    latencies = []
    for edit in range(1, args.edits + 1):
        marker = f"bench-edit-{session}-{edit}"
        corpus.edit(marker)
        edited = time.perf_counter()
        _, visible = server.wait_for(corpus.edited_feed, marker, 30, started=edited)
        if visible is None:
            raise BenchError(f"edit {edit} was not visible within 30 s: see {log_path}")
        latencies.append(visible * 1000)
        time.sleep(DEBOUNCE_MS * 1.5 / 1000)  # let the watcher go quiet: each edit on its own
    time.sleep(3.0)  # quiet: the daemon trims its heap 2 s after the last edit
    figures[("rss_edits", articles)] = f"{server.rss_kib() / 1024:.0f}"
    figures[("hwm_serve", articles)] = f"{vm_kib(server.process.pid, 'VmHWM') / 1024:.0f}"
    figures[("edit_p50", articles)] = f"{percentile(latencies, 0.50):.0f}"
    figures[("edit_p95", articles)] = f"{percentile(latencies, 0.95):.0f}"
    log(f"  {args.edits} edits: p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms; "
        f"RSS {figures[('rss_start', articles)]} -> {figures[('rss_edits', articles)]} MiB")
    server.stop(signal.SIGKILL)

    server = start("crash")
    server.stop(signal.SIGTERM)
    return corpus


# ---------------------------------------------------------------- serving


def serve_compare(args, name, config, path, feed_file, edited=None):
    """serve_compare.sh against a pinned `feedd serve`: its parsed rows."""
    log_path = os.path.join(args.workdir, f"serve-{name}.feedd.log")
    server = Server(config, log_path, cpu=1)
    try:
        if edited is not None:
            # Start-up scan over: wrk must not measure it.
            corpus, marker = edited
            corpus.edit(marker)
            _, visible = server.wait_for(corpus.edited_feed, marker, args.startup_timeout)
            if visible is None:
                raise BenchError(f"{name}: the start-up scan did not end within {args.startup_timeout} s")
        else:
            server.wait_for(path, "<", 30)
        out_dir = os.path.join(args.workdir, f"serve-{name}")
        shutil.rmtree(out_dir, ignore_errors=True)
        env = dict(os.environ, NGINX_PORT=str(NGINX_PORT), OUT_DIR=out_dir)
        if args.quick:
            env.update(DURATION="4", WARMUP="1")
        size = os.path.getsize(feed_file)
        log(f"serving, {name} ({kib(size)} {path}): serve_compare.sh (about "
            f"{'2' if args.quick else '3'} min)")
        with open(os.path.join(args.workdir, f"serve-{name}.log"), "w") as stderr:
            report = subprocess.run([args.serve_compare, server.url(path), feed_file], env=env, stdout=subprocess.PIPE,
                                    stderr=stderr, text=True, check=False).stdout
        with open(os.path.join(args.workdir, f"serve-{name}.report.txt"), "w") as file:
            file.write(report)
        rows = parse_serve_compare(report)
        if not rows:
            raise BenchError(f"serve_compare.sh gave no table: see {args.workdir}/serve-{name}.log")
        return size, rows
    finally:
        server.stop(signal.SIGTERM)


def bundled_site(args):
    """The bundled sample (its /rss.xml is the 25 KB feed), built in the workdir."""
    site = os.path.join(args.workdir, "bundled")
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "articles"), os.path.join(site, "articles"))
    shutil.copytree(os.path.join(ROOT, "config"), os.path.join(site, "config"))
    config = os.path.join(site, "config", "feedd.toml")
    run_build(config, os.path.join(args.workdir, "feedd-bundled.log"))
    return config, os.path.join(site, "feeds", "rss.xml")


# ---------------------------------------------------------------- the table

SIZE_ROWS = [
    ("build_s", "cold `feedd build`, s"),
    ("build_rate", "cold `feedd build`, articles/s"),
    ("build_peak", "peak memory of `build` (max RSS), MiB"),
    ("output_mib", "output folder written by a cold build, MiB"),
    ("copy_s", "`cp -r` of that output folder (the writes alone), s"),
    ("rss_start", "`serve` resident memory after startup (clean restart), MiB"),
    ("rss_edits", "`serve` resident memory after {edits} edits, MiB"),
    ("hwm_serve", "`serve` peak resident memory (VmHWM) by then, MiB"),
    ("first_clean", "first feed answered after start, clean restart, ms"),
    ("first_crash", "first feed answered after start, after a crash, ms"),
    ("first_cold", "first feed answered after start, cold state, ms"),
    ("rescan_clean", "startup rescan (edit visible), clean restart, s"),
    ("rescan_crash", "startup rescan (edit visible), after a crash, s"),
    ("rescan_cold", "startup rescan (edit visible), cold state, s"),
    ("checked_cold", "every page on disk checked after start, cold state, s"),
    ("edit_checking", "edit -> new content over HTTP during that check, ms"),
    ("edit_p50", "edit -> new content over HTTP, p50, ms (debounce 100)"),
    ("edit_p95", "edit -> new content over HTTP, p95, ms (debounce 100)"),
]
SIZE_TARGETS = {
    "build_rate": ">= 50,000", "build_peak": "<= 150", "rss_start": "<= 150", "rss_edits": "<= 150, flat",
    "first_clean": "<= 200", "first_crash": "<= 200", "first_cold": "<= 200", "rescan_clean": "<= 2",
    "rescan_crash": "<= 5", "rescan_cold": "<= 5", "edit_p50": "<= 110",
}
SERVE_TARGETS = {"identity": ">= 0.9", "gzip": ">= 1.2", "304": ">= 1.05"}


def kib(size):
    return f"{size / 1024:.0f} KB"


def table(args, sizes, figures, serving):
    """One Markdown table: the per-size block (a column per corpus size),
    then the serving block (a row per feed and connection count, a column
    per request kind), padded to one width."""
    width = max(len(sizes), 3) + 2
    lines = []

    def row(cells):
        cells = cells + [""] * (width - len(cells))
        lines.append("| " + " | ".join(cells) + " |")

    if sizes:
        row(["measure"] + [f"{size:,} articles" for size in sizes] + [""] * (width - 2 - len(sizes)) + ["target"])
        row(["---"] * width)
        for key, label in SIZE_ROWS:
            row([label.format(edits=args.edits)] + [figures.get((key, size), "-") for size in sizes]
                + [""] * (width - 2 - len(sizes)) + [SIZE_TARGETS.get(key, "")])
    if serving:
        header = ["**vs nginx: feedd rps / nginx rps ±se**"] + [
            f"**{kind}** ({SERVE_TARGETS[kind]})" for kind in ("identity", "gzip", "304")] + [
            "**p99 ms feedd / nginx** (identity; gzip; 304)"]
        row(header)
        if not sizes:
            row(["---"] * width)
        notes = []
        for size, runs in serving.values():
            for conns, run in [(conns, run) for conns in (64, 256) for run in range(len(runs))]:
                rows = runs[run]
                label = f"{kib(size)} feed, {conns} connections" + (f", run {run + 1}" if len(runs) > 1 else "")
                cells, p99s = [], []
                for kind in ("identity", "gzip", "304"):
                    found = rows.get((kind, conns))
                    if found is None:
                        cells.append("-")
                        p99s.append("-")
                        continue
                    cells.append(f"{found['ratio']} ±{found['se']}")
                    p99s.append(f"{found['p99_target']} / {found['p99_nginx']}")
                    if found["notes"]:
                        notes.append(f"{label}, {kind}: {found['notes']}")
                row([label] + cells + ["; ".join(p99s)])
        if notes:
            lines.append("")
            lines.extend("serve_compare note: " + note for note in notes)
    return "\n".join(lines)


def git_describe():
    """HEAD, and the last commit that changed what the release binary is built from."""
    def git(*arguments):
        return subprocess.run(["git", "-C", ROOT, *arguments], capture_output=True, text=True,
                              check=True).stdout.strip()
    try:
        head = git("log", "-1", "--format=%h")
        # Cargo.toml also lists benches and examples; a dependency change shows in Cargo.lock.
        source = git("log", "-1", "--format=%h (%cd) %s", "--date=format:%H:%M", "--", "src", "Cargo.lock")
        dirty = git("status", "--porcelain", "--untracked-files=no", "src", "Cargo.lock")
        return f"{head}; feedd source last changed by {source}" + (", plus uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def filesystem_of(path):
    try:
        output = subprocess.run(["df", "--output=fstype", path], capture_output=True, text=True, check=True).stdout
        return output.split()[-1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "?"


def compare(before_text, after_text):
    """Two saved outputs of this script -> one table of "before -> after"
    cells (rows matched by their label), under both runs' header lines."""
    def rows(text):
        """The first table's rows (notes and tables after it are ignored)."""
        table_rows = {}
        for line in text.splitlines():
            if line.startswith("| "):
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                table_rows[cells[0]] = cells
            elif table_rows:
                break
        return table_rows

    def header(text):
        return " ".join(line for line in text.splitlines()[:1])

    before, after = rows(before_text), rows(after_text)
    lines = [f"before: {header(before_text)}", f"after:  {header(after_text)}", ""]
    for label, after_cells in after.items():
        before_cells = before.get(label)
        if label in ("measure", "---") or label.startswith("**") or before_cells is None:
            cells = after_cells
        else:
            cells = [label] + [
                old if old == new or new in ("", "-") else f"{old} → {new}"
                for old, new in zip(before_cells[1:-1], after_cells[1:-1])
            ] + [after_cells[-1]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- self-test

SAMPLE_REPORT = """
serve_compare: target=http://127.0.0.1:18200/rss.xml  nginx=http://127.0.0.1:18290/rss.xml (static gzip)  feed=rss.xml 25564B
setup: PIN=1 wrk_cpu=0 server_cpu=1 wrk_threads=1, per row and server: 3s warmup + 5x2s interleaved slices

kind     conns |   rps_tgt   rps_ngx  ratio   +-se cpu_eff | p50_tgt p99_tgt | p50_ngx p99_ngx | notes
               |                                           |    (ms)    (ms) |    (ms)    (ms) |
plain       64 |     21034     20011  1.051  0.012   1.102 |    2.95    4.10 |    3.10    5.20 |
gzip       256 |     30500     25000  1.220  0.020     n/a |    8.00   12.50 |    9.00   11.00 | wrk-bound (wrk 99%, target 80%): read cpu_eff
cond        64 |     40000     41000  0.976  0.030   0.990 |    1.50    2.00 |    1.40    1.90 | target socket errors=64

worst: cond c=64
cpu_ratio_min=0.990
ratio_min=0.976
"""


def self_test():
    rows = parse_serve_compare(SAMPLE_REPORT)
    assert set(rows) == {("identity", 64), ("gzip", 256), ("304", 64)}, rows
    assert rows[("identity", 64)]["ratio"] == "1.051" and rows[("identity", 64)]["p99_nginx"] == "5.20"
    assert rows[("gzip", 256)]["notes"].startswith("wrk-bound"), rows
    assert rows[("304", 64)]["notes"] == "target socket errors=64", rows
    assert percentile([5, 1, 4, 2, 3], 0.5) == 3
    assert percentile(list(range(1, 21)), 0.95) == 19
    assert percentile(list(range(1, 101)), 0.5) == 50
    assert percentile([7], 0.95) == 7
    figures = {("build_s", 1000): "0.50", ("edit_p50", 1000): "104"}
    args = argparse.Namespace(edits=20)
    text = table(args, [1000], figures, {"bundled": (25564, [rows])})
    two_runs = table(args, [], {}, {"bundled": (25564, [rows, rows])})
    assert "| 25 KB feed, 256 connections, run 2 | - | 1.220 ±0.020 | - | -; 12.50 / 11.00; - |" in two_runs, two_runs
    assert "| cold `feedd build`, s | 0.50 |  |  |  |" in text, text
    assert "| 25 KB feed, 64 connections | 1.051 ±0.012 | - | 0.976 ±0.030 | 4.10 / 5.20; -; 2.00 / 1.90 |" in text, text
    assert "25 KB feed, 256 connections, gzip: wrk-bound" in text, text
    assert len({line.count("|") for line in text.splitlines() if line.startswith("|")}) == 1, text
    later = table(args, [1000], {("build_s", 1000): "0.10", ("edit_p50", 1000): "104"}, {"bundled": (25564, [rows])})
    merged = compare("feedd benchmark, commit a\n" + text + "\n\nanother run:\n| cold `feedd build`, s | 9 |",
                     "feedd benchmark, commit b\n" + later)
    assert "| cold `feedd build`, s | 0.50 → 0.10 |  |  |  |" in merged, merged
    assert "| edit -> new content over HTTP, p50, ms (debounce 100) | 104 |  |  | <= 110 |" in merged, merged
    assert merged.startswith("before: feedd benchmark, commit a\nafter:  feedd benchmark, commit b"), merged
    print("bench.py self-test: ok")


# ---------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes, comma separated")
    parser.add_argument("--categories", type=int, default=50)
    parser.add_argument("--edits", type=int, default=20, help="edits measured after the clean restart")
    parser.add_argument("--build-runs", type=int, default=3, help="cold builds per size (the median is shown)")
    parser.add_argument("--no-serve", action="store_true", help="skip the serving comparison with nginx")
    parser.add_argument("--serve-only", action="store_true", help="only the serving comparison")
    parser.add_argument("--serve-runs", type=int, default=1,
                        help="serve_compare.sh runs per feed (a row each: the spread shows the noise)")
    parser.add_argument("--quick", action="store_true",
                        help="10 edits, serving rows of 1 s warm-up + 4 s measured per server")
    parser.add_argument("--workdir", default="/dev/shm/feedd-bench" if os.path.isdir("/dev/shm") else None,
                        help="where corpora go (default /dev/shm/feedd-bench: tmpfs; see the README)")
    parser.add_argument("--startup-timeout", type=float, default=180, help="seconds to wait for a start-up edit")
    parser.add_argument("--serve-compare", default=SERVE_COMPARE, help="path of serve_compare.sh")
    parser.add_argument("--no-build", action="store_true", help="use the binaries already in target/release")
    parser.add_argument("--keep", action="store_true", help="keep the workdir")
    parser.add_argument("--self-test", action="store_true", help="check parsing and statistics, then exit")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"),
                        help="merge two saved outputs into one before -> after table, then exit")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return 0
    if args.compare:
        texts = []
        for path in args.compare:
            with open(path, encoding="utf-8") as file:
                texts.append(file.read())
        print(compare(*texts))
        return 0
    if args.quick and args.edits == 20:
        args.edits = 10
    sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size.strip()]
    if args.workdir is None:
        import tempfile
        args.workdir = tempfile.mkdtemp(prefix="feedd-bench.")
    os.makedirs(args.workdir, exist_ok=True)
    started = time.time()
    if not args.no_build:
        log("cargo build --release --bin feedd --example gen_corpus")
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "feedd", "--example", "gen_corpus"],
                       cwd=ROOT, check=True)
    if not args.no_serve and not os.access(args.serve_compare, os.X_OK):
        raise BenchError(f"{args.serve_compare} not found: pass --serve-compare PATH or --no-serve")

    figures, serving, largest = {}, {}, None
    try:
        if not args.serve_only:
            for size in sizes:
                largest = measure_size(args, size, figures)
        if not args.no_serve:
            config, feed = bundled_site(args)
            if largest is None:
                size = max(sizes)
                largest = Corpus(args.workdir, size, args.categories, os.path.join(args.workdir, f"feedd-{size}.log"))
                run_build(largest.config, largest.log_path)
            feed_file = os.path.join(largest.dir, "feeds", largest.other_feed.lstrip("/"))
            serving = {"bundled": (0, []), "category": (0, [])}
            # Runs of both feeds interleaved, so that a noisy minute hits one run of each.
            for run in range(1, args.serve_runs + 1):
                size, rows = serve_compare(args, f"bundled-{run}", config, "/rss.xml", feed)
                serving["bundled"] = (size, serving["bundled"][1] + [rows])
                size, rows = serve_compare(args, f"category-{run}", largest.config, largest.other_feed, feed_file,
                                           edited=(largest, f"bench-serve-{run}"))
                serving["category"] = (size, serving["category"][1] + [rows])
    finally:
        if not args.keep:
            for entry in os.listdir(args.workdir):
                if entry.startswith("corpus-") or entry in ("bundled", SET_ASIDE):
                    shutil.rmtree(os.path.join(args.workdir, entry), ignore_errors=True)

    load = os.getloadavg()
    print(f"feedd benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, commit {git_describe()}")
    print(f"{os.cpu_count()} CPUs, load average {load[0]:.1f} at the end (other processes share these cores); "
          f"corpora in {args.workdir} ({filesystem_of(args.workdir)}), {args.categories} categories, "
          f"feeds.limit 50, full content; took {(time.time() - started) / 60:.1f} min")
    if serving:
        category = serving.get("category")
        print(f"serving: ../shared/bench/serve_compare.sh{' (--quick: 1 s warm-up, 4 s measured)' if args.quick else ''}"
              f"; {kib(serving['bundled'][0])} = bundled /rss.xml; {kib(category[0])} = {largest.other_feed} of the "
              f"{largest.articles:,}-article corpus")
    print()
    print(table(args, [] if args.serve_only else sizes, figures, serving))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench.py: {error}", file=sys.stderr)
        sys.exit(1)
