"""deploy/nginx/plein.conf, as it stands, in front of two `plein serve` hosts on one Redis.

The file is run by a real nginx with only its addresses replaced (ports, the two hosts, a test certificate,
the log path). Without nginx the test is skipped, except under CI=true, where it fails (CI installs it).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest
import requests
import urllib3

from fake_jitsi import make_certificate
from rooms.store import Keys
from support import MODERATOR_KEY, ROOT, SLUG, Listener, free_port, stop_process

pytestmark = pytest.mark.socket

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def site_config(hosts: list[int], http_port: int, https_port: int, cert, key, log) -> str:
    """deploy/nginx/plein.conf with the test's addresses; every other line as shipped."""
    text = (ROOT / "deploy" / "nginx" / "plein.conf").read_text()
    servers = [line for line in text.splitlines() if re.match(r"\s+server 10\.0\.0\.\d+:5000", line)]
    assert len(servers) == 2
    text = text.replace(servers[0], "\n".join(
        re.sub(r"10\.0\.0\.\d+:5000", f"127.0.0.1:{port}", servers[0]) for port in hosts))
    text = text.replace(servers[1] + "\n", "")
    replaced = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    replaced = replaced.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl", 1)
    replaced = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {cert};", replaced)
    replaced = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", replaced)
    replaced = replaced.replace("/var/log/nginx/plein.access.log", str(log))
    assert replaced.count("127.0.0.1") == len(hosts) + 2 and str(cert) in replaced and str(log) in replaced
    return replaced


@pytest.fixture
def nginx(tmp_path):
    if NGINX is None:
        if os.environ.get("CI"):
            pytest.fail("no nginx (apt-get install nginx-light)")
        pytest.skip("no nginx on this machine (apt-get install nginx-light)")
    procs = []

    def start(hosts: list[int]) -> SimpleNamespace:
        cert, key = make_certificate(tmp_path)
        http_port, https_port = free_port(), free_port()
        log = tmp_path / "plein.access.log"
        (tmp_path / "plein.conf").write_text(site_config(hosts, http_port, https_port, cert, key, log))
        temp = "\n".join(f"    {name}_temp_path {tmp_path / name};" for name in
                         ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\npid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'} warn;\n"
            + (ROOT / "deploy" / "nginx" / "nginx-main.conf").read_text()
            + f"http {{\n{temp}\n    include {tmp_path / 'plein.conf'};\n}}\n")
        test = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                              capture_output=True, text=True)
        assert test.returncode == 0, test.stderr
        proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                                 "-g", "daemon off;"], stderr=subprocess.DEVNULL)
        procs.append(proc)
        url = f"https://127.0.0.1:{https_port}"
        deadline = time.monotonic() + 15
        while True:
            try:
                if requests.get(url + "/healthz", verify=False, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "nginx did not come up"
            time.sleep(0.1)
        return SimpleNamespace(url=url, http=f"http://127.0.0.1:{http_port}", log=log,
                               api=lambda path: f"{url}/api/events/{SLUG}{path}")

    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    yield start
    for proc in procs:
        stop_process(proc)


def test_two_hosts_behind_the_shipped_nginx_config(start_server, nginx, r):
    env = {"PLEIN_PROXY_HOPS": "1"}
    hosts = [start_server(env=env), start_server(env=env)]
    proxy = nginx([h.port for h in hosts])

    # Plain HTTP is sent to HTTPS.
    moved = requests.get(proxy.http + f"/e/{SLUG}", allow_redirects=False, timeout=5)
    assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")

    joined = requests.post(proxy.api("/participants"), json={"name": "Achter nginx"}, verify=False, timeout=5)
    assert joined.status_code == 201, joined.text
    token = joined.json()["token"]

    # WebSockets through the proxy land on both hosts (nginx's round robin), with no sticky session.
    keys, clients = Keys(SLUG), []
    try:
        for _ in range(8):
            clients.append(Listener(proxy.url, {"token": token}, ssl_verify=False).connect())
        workers = {json.loads(v)["worker"] for v in r.hgetall(keys.presence).values()}
        assert len(workers) == 2
        for client in clients:
            assert client.wait_for(lambda d: True)["status"] == "waiting"

        # The moderator's start, through the proxy to either host, reaches every socket on both.
        started = requests.post(proxy.api("/clock"), json={"action": "start"}, verify=False, timeout=5,
                                headers={"Authorization": f"Bearer {MODERATOR_KEY}"})
        assert started.status_code == 200, started.text
        version = started.json()["version"]
        for client in clients:
            assert client.wait_for(lambda d: d["version"] == version)["room"]["name"]

        # One host goes away: its sockets drop; a page that reconnects through the proxy is served by the other.
        hosts[0].stop(kill=True)
        again = Listener(proxy.url, {"token": token}, ssl_verify=False)
        for _ in range(3):  # nginx marks the dead host failed after its first refused connection
            try:
                again.connect()
                break
            except Exception:
                again = Listener(proxy.url, {"token": token}, ssl_verify=False)
        clients.append(again)
        assert again.wait_for(lambda d: d["version"] == version)["room"]["name"]
        following = requests.post(proxy.api("/clock"), json={"action": "advance"}, verify=False, timeout=5,
                                  headers={"Authorization": f"Bearer {MODERATOR_KEY}"})
        assert following.status_code == 200, following.text
        assert again.wait_for(lambda d: d["version"] == following.json()["version"])
    finally:
        for client in clients:
            client.close()

    # The moderator key never reaches the proxy's access log.
    requests.get(proxy.url + f"/e/{SLUG}/moderator?key={MODERATOR_KEY}", verify=False, timeout=5,
                 allow_redirects=False)
    deadline = time.monotonic() + 5
    while "key=[hidden]" not in proxy.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = proxy.log.read_text()
    assert "key=[hidden]" in logged and MODERATOR_KEY not in logged
