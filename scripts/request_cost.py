#!/usr/bin/python3
"""What one request costs feedd's process, in instructions, against bare hyper.

    python3 scripts/request_cost.py                      # the bundled /rss.xml, 5,000 requests per kind
    python3 scripts/request_cost.py --feedd /tmp/feedd-before   # another build of feedd
    python3 scripts/request_cost.py --config SITE/config/feedd.toml --path /kinh-te/rss.xml \\
        --feed SITE/feeds/kinh-te/rss.xml

serve_compare.sh gives the ratios that matter, but on a shared 2-core
machine its rows move by 0.05-0.1 between runs, more than most changes to
the request path are worth. Instructions counted by callgrind do not move:
this starts `feedd serve` and `examples/bare_hyper` (the least a hyper
server can do, see its docs) each under callgrind on one CPU (so feedd
runs its current-thread runtime, as when pinned by the harness), waits
until the process is idle, sends warm-up requests, then counts the
instructions of the whole process over N keep-alive requests of each kind,
as wrk sends them (only `Host` and the kind's header): `304`
(If-None-Match with the current ETag), `gzip` (Accept-Encoding: gzip) and
`identity`. User space only: the kernel's share (about 70% of a 304's
time under wrk) is not counted, and is the same for both servers when they
make the same system calls.

Needs valgrind (`apt-get install valgrind`) and the release builds:
`cargo build --release && cargo build --release --example bare_hyper`.
Standard library only.
"""

import argparse
import glob
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (its paths and helpers)

BARE_HYPER = os.path.join(bench.TARGET_DIR, "release", "examples", "bare_hyper")
KINDS = ("304", "gzip", "identity")


class CostError(Exception):
    pass


def requests(port, path, count, kind, etag):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(count):
        connection.putrequest("GET", path, skip_accept_encoding=True)
        if kind == "304":
            connection.putheader("If-None-Match", etag)
        elif kind == "gzip":
            connection.putheader("Accept-Encoding", "gzip")
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        expected = 304 if kind == "304" else 200
        if response.status != expected:
            raise CostError(f"{kind}: status {response.status}, expected {expected}")
        if kind == "gzip" and response.getheader("Content-Encoding") != "gzip":
            raise CostError("gzip: the response is not gzip (the feed not compressed yet?)")
    connection.close()


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_until_idle(pid, timeout=600):
    """Until the process used under 0.2 s of CPU in 3 s (callgrind runs it ~50x slower)."""
    deadline = time.monotonic() + timeout
    previous = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(3)
        current = cpu_ticks(pid)
        if current - previous < 20:
            return
        previous = current
    raise CostError("the server never went idle")


def measure(name, command, cwd, port, path, count, workdir):
    out = os.path.join(workdir, f"callgrind-{name}.out")
    for old in glob.glob(out + "*"):
        os.remove(old)
    log_path = os.path.join(workdir, f"{name}.log")
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            ["taskset", "-c", "0", "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *command],
            cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 600
        etag = None
        while etag is None:
            if server.poll() is not None or time.monotonic() > deadline:
                raise CostError(f"{name} did not answer {path}; see {log_path}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    etag = response.getheader("ETag")
            except OSError:
                time.sleep(0.5)
        wait_until_idle(server.pid)
        costs = {}
        for number, kind in enumerate(KINDS, start=1):
            requests(port, path, 200, kind, etag)
            subprocess.run(["callgrind_control", "-z", str(server.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            requests(port, path, count, kind, etag)
            subprocess.run(["callgrind_control", "-d", str(server.pid)], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            dump = f"{out}.{number}"
            with open(dump, encoding="utf-8", errors="replace") as file:
                summary = next(line for line in file if line.startswith("summary:"))
            costs[kind] = int(summary.split()[1]) / count
        return costs
    finally:
        server.terminate()
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="a site's config (default: a copy of the bundled sample, built)")
    parser.add_argument("--path", default="/rss.xml", help="the feed's URL path")
    parser.add_argument("--feed", help="the feed's file, for bare hyper (default: the bundled /rss.xml)")
    parser.add_argument("--requests", type=int, default=5000, help="requests counted per kind")
    parser.add_argument("--feedd", default=bench.FEEDD, help="the feedd binary (to compare two builds)")
    args = parser.parse_args()
    for tool in ("valgrind", "callgrind_control", "taskset"):
        if shutil.which(tool) is None:
            raise CostError(f"{tool} not found: apt-get install valgrind util-linux")
    for binary in (args.feedd, BARE_HYPER):
        if not os.path.exists(binary):
            raise CostError(f"{binary} missing: cargo build --release && "
                            "cargo build --release --example bare_hyper")
    workdir = tempfile.mkdtemp(prefix="feedd-request-cost-")
    if args.config is None:
        site = os.path.join(workdir, "bundled")
        shutil.copytree(os.path.join(bench.ROOT, "articles"), os.path.join(site, "articles"))
        shutil.copytree(os.path.join(bench.ROOT, "config"), os.path.join(site, "config"))
        config = os.path.join(site, "config", "feedd.toml")
        bench.run_build(config, os.path.join(workdir, "build.log"))
        feed = os.path.join(site, "feeds", args.path.lstrip("/"))
    else:
        config, feed = os.path.abspath(args.config), args.feed
        if feed is None:
            raise CostError("--feed is needed with --config")
    # A copy of the config beside it (its paths are relative to its
    # folder), so that feedd listens where this expects.
    site = os.path.dirname(os.path.dirname(config))
    port = bench.free_port(bench.FEEDD_PORTS)
    measured_config = os.path.join(os.path.dirname(config), f".request-cost-{os.getpid()}.toml")
    shutil.copy(config, measured_config)
    try:
        bench.set_listen(measured_config, port)
        feedd = measure("feedd", [args.feedd, "serve", "--config", measured_config], site, port,
                        args.path, args.requests, workdir)
    finally:
        os.remove(measured_config)
    bare_port = bench.free_port(range(port + 1, bench.FEEDD_PORTS.stop))
    bare = measure("bare_hyper", [BARE_HYPER, f"127.0.0.1:{bare_port}", feed], site, bare_port,
                   args.path, args.requests, workdir)
    print(f"instructions per request (user space, callgrind), {args.path}, {args.requests} requests per kind")
    print("| kind | feedd | bare hyper | feedd / bare |")
    print("| --- | --- | --- | --- |")
    for kind in KINDS:
        print(f"| {kind} | {feedd[kind]:,.0f} | {bare[kind]:,.0f} | {feedd[kind] / bare[kind]:.3f} |")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        main()
    except (CostError, bench.BenchError) as error:
        sys.exit(f"request_cost: {error}")
