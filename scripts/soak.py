#!/usr/bin/python3
"""Soak test for `feedd serve` (issue 6): for a bounded time, random creates,
edits, renames and deletes of articles and folders, symlinks and bad files
in a temporary site, while a few HTTP clients on 127.0.0.1 request feeds with
and without validators and compression. At the end it checks:

- no 5xx answer and no failed request;
- no ERROR line, and no WARN line other than a rejected article (every bad
  file and symlink made here) or a rescan after lost events;
- memory flat: the daemon's VmRSS, sampled every second, is in the last
  quarter of the run at most 1.3 x (+16 MiB) what it was in the second one
  (the site stays about 300 good articles and 60 bad files throughout, so
  growth would be a leak, not a bigger site);
- the served feeds equal, byte for byte, what `feedd build` writes from the
  final tree (with a copy of the daemon's state, taken after it stopped, so
  that first-seen dates are the same memory) into another folder.

It prints its figures and exits 1 if a check fails.

    python3 scripts/soak.py                    # 10 minutes, target/debug/feedd
    python3 scripts/soak.py --duration 60 --feedd target/release/feedd

Standard library only.
"""

import argparse
import http.client
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

CONFIG = """[site]
title = "Tin tức"
base_url = "https://news.example.vn"
language = "vi"
timezone = "Asia/Ho_Chi_Minh"

[paths]
articles = "articles"
output = "feeds"
state = "state"

[server]
listen = "127.0.0.1:0"

[watch]
debounce_ms = 30
"""

GOOD_TARGET = 300
BAD_TARGET = 60
CATEGORIES = ["Thời sự", "Kinh tế", "Đời sống", "Thể thao", "Giáo dục", "Sức khỏe"]
WORDS = ("giá lúa tăng mạnh tại đồng bằng sông Cửu Long nông dân phấn khởi "
         "Bộ NN&PTNT cho biết sản lượng năm nay <b>cao</b> hơn năm ngoái").split()


def sentence(rng, n=12):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


class Site:
    """The temp site and a model of the good articles in it."""

    def __init__(self, root, rng):
        self.root = root
        self.articles = os.path.join(root, "articles")
        self.rng = rng
        self.good = set()  # relative paths of good articles
        self.bad = set()  # relative paths of bad files and symlinks (rejected)
        self.counter = 0
        self.ops = {}
        os.makedirs(self.articles)
        with open(os.path.join(root, "feedd.toml"), "w") as f:
            f.write(CONFIG)

    def path(self, rel):
        return os.path.join(self.articles, rel)

    def count(self, op):
        self.ops[op] = self.ops.get(op, 0) + 1

    def new_name(self, ext=None):
        self.counter += 1
        ext = ext or self.rng.choice([".txt", ".txt", ".md"])
        style = self.rng.randrange(3)
        if style == 0:  # dated by its name
            day = self.rng.randrange(1, 29)
            return f"2026-10-{day:02d}-bai-{self.counter}{ext}"
        return f"bài {self.counter}{ext}"  # dated by front matter or first sight

    def article_text(self, rel):
        rng = self.rng
        title = f"{sentence(rng, 6)[:-1]} {self.counter}"
        body = "\n\n".join(sentence(rng) for _ in range(rng.randrange(1, 5)))
        if rel.endswith(".md"):
            front = f'+++\ntitle = "{title}"\n'
            if rng.random() < 0.5:
                front += f'date = "2026-11-{rng.randrange(1, 29):02d} {rng.randrange(24):02d}:00"\n'
            return front + "+++\n" + body + "\n"
        return f"{title}\n\n{body}\n\nTin: Phóng viên\n"

    def write(self, rel, data, atomic=True):
        path = self.path(rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        if atomic:  # as editors save: a hidden temp file, then a rename
            temp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.swp")
            with open(temp, "wb") as f:
                f.write(data)
            os.replace(temp, path)
        else:
            with open(path, "wb") as f:
                f.write(data)

    def create(self):
        rel = os.path.join(self.rng.choice(CATEGORIES), self.new_name())
        self.write(rel, self.article_text(rel))
        self.good.add(rel)
        self.count("create")

    def edit(self):
        if not self.good:
            return self.create()
        rel = self.rng.choice(sorted(self.good))
        self.write(rel, self.article_text(rel), atomic=self.rng.random() < 0.7)
        self.count("edit")

    def rename(self):
        if not self.good:
            return self.create()
        rel = self.rng.choice(sorted(self.good))
        ext = os.path.splitext(rel)[1]
        new = os.path.join(self.rng.choice(CATEGORIES), self.new_name(ext))
        os.makedirs(os.path.dirname(self.path(new)), exist_ok=True)
        os.rename(self.path(rel), self.path(new))
        self.good.discard(rel)
        self.good.add(new)
        self.count("rename")

    def delete(self):
        prefer_bad = len(self.bad) >= BAD_TARGET or self.rng.random() < 0.3
        pool = sorted(self.bad) if prefer_bad and self.bad else sorted(self.good)
        if not pool:
            return self.create()
        rel = self.rng.choice(pool)
        os.unlink(self.path(rel))
        self.good.discard(rel)
        self.bad.discard(rel)
        self.count("delete")

    def rename_folder(self):
        """Moves every article of one category folder into a sub-folder of
        another, and back later (a folder rename keeps the files)."""
        source = self.rng.choice(CATEGORIES)
        target = self.rng.choice([c for c in CATEGORIES if c != source])
        moved = f"{target}/chuyển {self.counter}"
        self.counter += 1
        if not os.path.isdir(self.path(source)):
            return self.create()
        os.makedirs(self.path(target), exist_ok=True)
        os.rename(self.path(source), self.path(moved))
        prefix = source + "/"
        for rel in [r for r in self.good if r.startswith(prefix)]:
            self.good.discard(rel)
            self.good.add(moved + "/" + rel[len(prefix):])
        for rel in [r for r in self.bad if r.startswith(prefix)]:
            self.bad.discard(rel)
            self.bad.add(moved + "/" + rel[len(prefix):])
        self.count("rename folder")

    def symlink(self):
        folder = self.rng.choice(CATEGORIES)
        os.makedirs(self.path(folder), exist_ok=True)
        kind = self.rng.randrange(3)
        if kind == 0 and self.good:  # a file link to an article
            target = os.path.relpath(self.path(self.rng.choice(sorted(self.good))), self.path(folder))
            rel = os.path.join(folder, self.new_name(".txt"))
        elif kind == 1:  # a folder link back to the root: a loop
            target, rel = "..", os.path.join(folder, f"vòng {self.counter}")
            self.counter += 1
        else:  # a link out of the tree
            target = os.path.join(self.root, "feedd.toml")
            rel = os.path.join(folder, self.new_name(".md"))
        os.symlink(target, self.path(rel))
        self.bad.add(rel)
        self.count("symlink")

    def bad_file(self):
        rng = self.rng
        rel = os.path.join(rng.choice(CATEGORIES), "hỏng-" + self.new_name(".md"))
        kind = rng.randrange(5)
        data = [
            b"Tin h\xf4ng UTF-8\n\nN\xf4ng d\xe2n.\n",
            b"",
            '+++\ntitle = "Ngày sai"\ndate = "2026-11-2Đx"\n+++\nThân.\n'.encode(),
            ("+++\ntitle = \"" + "đ" * 400 + "\"\n+++\nThân.\n").encode(),
            b"+++\ntitle = 5\n+++\n",
        ][kind]
        self.write(rel, data)
        self.bad.add(rel)
        self.count("bad file")

    def step(self):
        # The tree stays about the same size (creates balance deletes around
        # GOOD_TARGET, bad files around BAD_TARGET), so that memory that
        # grows is a leak and not just a bigger site.
        grow = 25 if len(self.good) < GOOD_TARGET else 10
        shrink = 12 if len(self.good) < GOOD_TARGET else 27
        if len(self.bad) >= BAD_TARGET:
            shrink += 10
        bad = 10 if len(self.bad) < BAD_TARGET else 2
        ops = [(self.create, grow), (self.edit, 30), (self.rename, 12), (self.delete, shrink),
               (self.symlink, bad // 2 + 1), (self.bad_file, bad), (self.rename_folder, 2)]
        total = sum(w for _, w in ops)
        pick = self.rng.randrange(total)
        for op, weight in ops:
            if pick < weight:
                return op()
            pick -= weight


def feed_paths(output):
    """The URL paths of the feeds and pages in `output` (a folder's
    `index.html` is served as the folder: `/`, `/{category}/`)."""
    paths = []
    for dirpath, _, files in os.walk(output):
        for name in files:
            if name in ("rss.xml", "atom.xml") or (name.endswith(".html") and not name.startswith(".")):
                rel = os.path.relpath(os.path.join(dirpath, name), output)
                if name == "index.html":
                    rel = rel[: -len("index.html")]
                paths.append("/" + rel)
    return sorted(paths)


def file_of(output, path):
    """The file that serves the URL path `path`."""
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return os.path.join(output, rel)


def get(address, path, headers=None, timeout=10):
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        # response.msg looks header names up regardless of case (hyper sends lowercase).
        return response.status, response.msg, response.read()
    finally:
        conn.close()


class Load:
    """A few clients requesting feeds, half of the time with validators."""

    def __init__(self, address, output, clients, rng_seed, pause):
        self.address = address
        self.pause = pause
        self.output = output
        self.statuses = {}
        self.failures = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.client, args=(rng_seed + i,), daemon=True)
                        for i in range(clients)]

    def client(self, seed):
        rng = random.Random(seed)
        seen = {}  # path -> (etag, last-modified)
        paths = ["/rss.xml", "/atom.xml"]
        while not self.stop.is_set():
            time.sleep(self.pause)
            if rng.random() < 0.05:
                paths = feed_paths(self.output) or paths
            path = rng.choice(paths + ["/khong-co/rss.xml"])
            headers = {}
            if rng.random() < 0.5:
                headers["Accept-Encoding"] = rng.choice(["gzip", "br", "gzip, br", "identity"])
            etag, modified = seen.get(path, (None, None))
            if etag and rng.random() < 0.5:
                headers["If-None-Match"] = etag
            if modified and rng.random() < 0.3:
                headers["If-Modified-Since"] = modified
            try:
                status, response_headers, _ = get(self.address, path, headers)
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                with self.lock:
                    self.failures.append(f"{path}: {error!r}")
                continue
            with self.lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if status == 200:
                seen[path] = (response_headers.get("ETag"), response_headers.get("Last-Modified"))
            elif status == 304:
                pass  # still current

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of churn (default 600)")
    parser.add_argument("--feedd", default="target/debug/feedd", help="the binary (default target/debug/feedd)")
    parser.add_argument("--clients", type=int, default=4, help="concurrent HTTP clients (default 4)")
    parser.add_argument("--pause-ms", type=float, default=10,
                        help="each client's pause between requests (default 10; 0 = flat out)")
    parser.add_argument("--seed", type=int, default=int(time.time()), help="random seed (printed)")
    parser.add_argument("--keep", action="store_true", help="keep the temp site")
    args = parser.parse_args()

    feedd = os.path.abspath(args.feedd)
    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="feedd-soak-")
    site = Site(root, rng)
    for _ in range(GOOD_TARGET):
        site.create()
    site.ops.clear()

    log_path = os.path.join(root, "serve.log")
    log = open(log_path, "w")
    env = dict(os.environ, RUST_LOG="info")
    daemon = subprocess.Popen([feedd, "serve", "--config", os.path.join(root, "feedd.toml")],
                              stdout=subprocess.DEVNULL, stderr=log, env=env)
    address = None
    deadline = time.time() + 60
    while address is None and time.time() < deadline:
        with open(log_path) as f:
            found = re.search(r"listening on http://([0-9.:]+)/", f.read())
        address = found.group(1) if found else None
        if daemon.poll() is not None:
            sys.exit(f"feedd serve exited at startup:\n{open(log_path).read()}")
        time.sleep(0.05)
    if address is None:
        daemon.kill()
        sys.exit("feedd serve did not log its address")

    output = os.path.join(root, "feeds")
    load = Load(address, output, args.clients, args.seed, args.pause_ms / 1000)
    load.start()
    samples = []
    started = time.time()
    next_sample = started
    print(f"soak: seed {args.seed}, {args.duration:.0f} s, {args.clients} clients, site {root}", flush=True)
    while time.time() - started < args.duration:
        if daemon.poll() is not None:
            break
        site.step()
        if time.time() >= next_sample:
            samples.append(rss_kib(daemon.pid))
            next_sample += 1
        time.sleep(rng.uniform(0.005, 0.08))

    # Quiet: a last article, and wait until it is served.
    marker_rel = os.path.join("Mốc", "cuối.txt")
    site.write(marker_rel, "Mốc cuối\n\nKết thúc.\n")
    marker_ok = False
    deadline = time.time() + 60
    while time.time() < deadline and daemon.poll() is None:
        try:
            status, _, body = get(address, "/moc/rss.xml")
            if status == 200 and "Mốc cuối".encode() in body:
                marker_ok = True
                break
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(1)  # let any batch still in flight (debounce 30 ms) finish
    load.finish()
    alive = daemon.poll() is None
    served = {}
    if alive:
        for path in feed_paths(output):
            status, _, body = get(address, path, {"Accept-Encoding": "identity"})
            if status == 200:
                served[path] = body
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
    log.close()

    # The final tree, built once with the daemon's memory of first-seen dates.
    fresh = os.path.join(root, "fresh")
    shutil.copytree(os.path.join(root, "state"), os.path.join(fresh, "state"))
    fresh_config = os.path.join(fresh, "feedd.toml")
    with open(fresh_config, "w") as f:
        f.write(CONFIG.replace('articles = "articles"', f'articles = "{site.articles}"'))
    build = subprocess.run([feedd, "build", "--config", fresh_config], capture_output=True, text=True)
    built = {}
    for path in feed_paths(os.path.join(fresh, "feeds")):
        with open(file_of(os.path.join(fresh, "feeds"), path), "rb") as f:
            built[path] = f.read()
    differing = sorted(p for p in set(served) | set(built) if served.get(p) != built.get(p))

    # The log: only rejections and rescans may be warnings; nothing may be an error.
    with open(log_path, errors="replace") as f:
        lines = f.read().splitlines()
    expected_warn = ("article skipped", "file events were lost")
    unexpected = [l for l in lines
                  if (" ERROR " in l or "panicked" in l)
                  or (" WARN " in l and not any(w in l for w in expected_warn))]
    rejections = sum(1 for l in lines if " WARN " in l and "article skipped" in l)

    samples = [s for s in samples if s]
    quarter = max(1, len(samples) // 4)
    second_q = median(samples[quarter:2 * quarter]) if len(samples) >= 4 else median(samples)
    last_q = median(samples[-quarter:]) if samples else 0
    memory_flat = last_q <= second_q * 1.3 + 16 * 1024

    server_errors = sum(n for s, n in load.statuses.items() if s >= 500)
    requests = sum(load.statuses.values())
    elapsed = time.time() - started
    print(f"duration        {elapsed:.0f} s (churn {args.duration:.0f} s)")
    print(f"operations      {sum(site.ops.values())}: " + ", ".join(f"{k} {v}" for k, v in sorted(site.ops.items())))
    print(f"final tree      {len(site.good)} good articles, {len(site.bad)} bad files and symlinks")
    print(f"requests        {requests} ({requests / max(elapsed, 1):.0f}/s): "
          + ", ".join(f"{k} {v}" for k, v in sorted(load.statuses.items()))
          + f"; failed {len(load.failures)}")
    print(f"log             {len(lines)} lines, {rejections} rejections logged, {len(unexpected)} unexpected")
    if samples:
        print(f"VmRSS (MiB)     start {samples[0] / 1024:.1f}, 2nd quarter median {second_q / 1024:.1f}, "
              f"last quarter median {last_q / 1024:.1f}, peak {max(samples) / 1024:.1f} ({len(samples)} samples)")
    print(f"served = build  {len(served)} feeds served, {len(built)} built, {len(differing)} differ "
          f"(build exit {build.returncode})")

    failures = []
    if not alive:
        failures.append(f"feedd serve died (exit {daemon.returncode})")
    if not marker_ok:
        failures.append("the final marker article was never served")
    if server_errors:
        failures.append(f"{server_errors} answers were 5xx")
    if load.failures:
        failures.append(f"{len(load.failures)} requests failed, e.g. {load.failures[:3]}")
    if unexpected:
        failures.append("unexpected log lines:\n  " + "\n  ".join(unexpected[:10]))
    if not memory_flat:
        failures.append(f"memory grew: {second_q} KiB -> {last_q} KiB")
    if differing or not served:
        failures.append(f"served feeds differ from a build of the final tree: {differing[:10]}")
    if failures:
        print("FAILED:\n- " + "\n- ".join(failures))
        print(f"site kept in {root}")
        return 1
    print("OK")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
