# Varnish 6 or 7 in front of one `feedd serve`. Copy this file, point the
# backend at feedd's `server.listen` and start Varnish with it, e.g.
#     varnishd -a :80 -f /etc/varnish/feedd.vcl -s malloc,256m
# tests/varnish.rs runs this file, backend port changed, against a real feedd.
vcl 4.1;

backend feedd {
    .host = "127.0.0.1";
    .port = "8080";
}

sub vcl_recv {
    # feedd answers by path alone: a query string (`?utm_source=...`) would
    # only split the cache, and a cookie would make the built-in VCL pass
    # the request to feedd uncached.
    set req.url = regsub(req.url, "\?.*$", "");
    unset req.http.Cookie;
}

sub vcl_backend_response {
    # The TTL is feedd's `Cache-Control: max-age` (`server.max_age`).
    # Keeping expired copies lets Varnish revalidate them with
    # If-None-Match / If-Modified-Since, which feedd answers with a 304 and
    # no body. Without `keep` (default 0 s) a copy past its grace is
    # fetched whole again.
    set beresp.keep = 1d;
    # For a minute past max-age, answer at once from the expired copy while
    # one background request revalidates it; this also covers a restart
    # of feedd.
    set beresp.grace = 1m;
    # Right after a change feedd answers uncompressed for the few
    # milliseconds its gzip body takes: compress such a copy here rather
    # than send it uncompressed until max-age.
    if (beresp.status == 200 && !beresp.http.Content-Encoding) {
        set beresp.do_gzip = true;
    }
}
