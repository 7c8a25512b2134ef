#!/usr/bin/env bash
# Requests per second of `feedd serve` and nginx serving the same output
# folder (the bundled sample's feeds), measured with wrk in one run so the
# ratio is fair on a shared machine. Needs: apt-get install wrk nginx.
#
#     bash benches/serve_vs_nginx.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
feedd_port=18080
nginx_port=18081

cargo build --release --quiet
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT

cp -R articles "$work/articles"
cat > "$work/feedd.toml" <<TOML
[site]
title = "Tin tức"
base_url = "https://news.example.vn"
timezone = "Asia/Ho_Chi_Minh"
[server]
listen = "127.0.0.1:$feedd_port"
TOML
./target/release/feedd build --config "$work/feedd.toml" > /dev/null
RUST_LOG=warn ./target/release/feedd serve --config "$work/feedd.toml" 2> "$work/feedd.log" &

cat > "$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types { application/rss+xml xml; }
    gzip on;
    gzip_types application/rss+xml;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/feeds;
        add_header Cache-Control "public, max-age=300";
    }
}
NGINX
nginx -c "$work/nginx.conf"

for port in $feedd_port $nginx_port; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/rss.xml" && break; sleep 0.05; done
done
size=$(curl -s "http://127.0.0.1:$feedd_port/rss.xml" | wc -c)
echo "feed: /rss.xml, $size bytes; wrk -t2 -c64 -d${seconds}s; 2 cores shared by wrk and the server"

rps() { # port, extra wrk args...
  local port=$1; shift
  wrk -t2 -c64 -d"${seconds}s" "$@" "http://127.0.0.1:$port/rss.xml" | awk '/Requests\/sec/ {print $2}'
}
etag=$(curl -sI "http://127.0.0.1:$nginx_port/rss.xml" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
feedd_etag=$(curl -sI "http://127.0.0.1:$feedd_port/rss.xml" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')

printf '%-28s %12s %12s %8s\n' "case" "feedd req/s" "nginx req/s" "ratio"
row() { # name, feedd args, nginx args
  local name=$1 f n
  f=$(rps $feedd_port "${@:2:1}" "${@:3:1}")
  n=$(rps $nginx_port "${@:4:1}" "${@:5:1}")
  printf '%-28s %12s %12s %8.2f\n' "$name" "$f" "$n" "$(echo "$f / $n" | bc -l)"
}
row "identity 200" -H "Accept: */*" -H "Accept: */*"
row "gzip 200" -H "Accept-Encoding: gzip" -H "Accept-Encoding: gzip"
row "If-None-Match 304" -H "If-None-Match: $feedd_etag" -H "If-None-Match: $etag"
