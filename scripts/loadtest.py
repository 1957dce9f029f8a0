"""Load: the chat server under 50 concurrent clients for 2 minutes on 127.0.0.1.

Starts `python app.py` (real model, the real issue, a temporary index) on a free
port, then runs N client threads against its HTTP API (/gradio_api/call/...):
normal questions (/ask, /chat), follow-ups with their earlier turns, staff
searches (on the staff page, logged in as an account made for the run), and junk (empty, over-long, lone surrogates, markup, regex text,
paths). Each client waits a random think time between requests. A request is
"ok" when it completes, "rejected" when the app answers with its one-line
message (junk), "busy" when the queue is full (HTTP 503 with the busy message),
and an "error" otherwise (HTTP failure, timeout, or the apology for an
unexpected error). Then a burst of simultaneous requests overfills the queue to
show the busy message, and one normal question checks the server answers
normally afterwards.

With --copies N, N copies of the chat run over the one index (each its own
process and port, as behind a reverse proxy) and client k talks to copy k mod N.

Prints completed requests, errors, busy replies, p50/p95/max latency, server
memory at start and end, and tracebacks in the server log. Asserts nothing.
Usage: .venv/bin/python scripts/loadtest.py [--clients 50] [--seconds 120] [--think 1] [--copies 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proc_stats import cpu_s, rss_mb  # noqa: E402 - scripts/, beside this file

QUESTIONS = ["现代医药港计划投资多少？", "现代医药港占地多大？", "菏泽开发区的宫颈癌筛查活动是哪天启动的？",
             "美华5G光芯片项目投资多少？", "张晖一行是哪天来考察的？", "谁在会上讲话？", "How much is invested in the pharmaceutical port?"]
FOLLOWUPS = [(["现代医药港计划投资多少？"], "那它占地多大？"), (["现代医药港计划投资多少？"], "规划建设周期是几年？"),
             (["美华5G光芯片项目投资多少？"], "它什么时候投产？")]
SEARCHES = ["投资", "现代医药港", "5G", "宫颈癌"]
JUNK = ["", "   ", "投资" * 400, "\ud800现代医药港\u202e投资多少？", "<img src=x onerror=alert(1)>", "\\1\\g<0>$1(.*)+",
        "../../etc/passwd", "![x](http://127.0.0.1:9/y.png)", "\x00\x1b[31m", "😀" * 50]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(client, base: str, api: str, data: list, timeout: float = 120, cookie: str = "") -> tuple[str, str]:
    """(outcome, detail) of one API call over Gradio's REST protocol."""
    import httpx

    headers = {"cookie": cookie} if cookie else {}
    try:
        body = json.dumps({"data": data}).encode("ascii")  # \ud800 escaped, as a browser's JSON.stringify sends it
        r = client.post(f"{base}/gradio_api/call/{api}", content=body, timeout=timeout,
                        headers={"content-type": "application/json", **headers})
        if r.status_code == 503:
            return "busy", r.json().get("detail", r.text)
        if r.status_code == 413:
            return "rejected", "413 request too large"
        if r.status_code != 200:
            return "error", f"HTTP {r.status_code}: {r.text[:200]}"
        event_id = r.json()["event_id"]
        event = None
        with client.stream("GET", f"{base}/gradio_api/call/{api}/{event_id}", timeout=timeout, headers=headers) as s:
            for line in s.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = line[5:].strip()
                    if event == "complete":
                        return "ok", payload
                    msg = (json.loads(payload) or {}).get("error") if payload not in ("", "null") else None
                    if not msg or "抱歉" in msg:
                        return "error", f"error event: {msg}"
                    return "rejected", msg
        return "error", "stream ended without a result"
    except httpx.HTTPError as e:
        return "error", f"{type(e).__name__}: {e}"


def request(rng: random.Random) -> tuple[str, str, list]:
    roll = rng.random()
    if roll < 0.45:
        q = rng.choice(QUESTIONS)
        return ("ask", "normal", [q, ""]) if rng.random() < 0.6 else ("chat", "normal", [q])
    if roll < 0.7:
        earlier, q = rng.choice(FOLLOWUPS)
        return "ask", "follow-up", [q, earlier]
    if roll < 0.8:
        return "search", "search", [rng.choice(SEARCHES), "全部", "全部"]
    junk = rng.choice(JUNK)
    return rng.choice([("ask", "junk", [junk, rng.choice(["", "[oops", [junk]])]), ("chat", "junk", [junk]),
                       ("search", "junk", [junk, rng.choice(["全部", "../../etc/passwd", "/etc/passwd"]), "全部"])])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--think", type=float, default=1.0, help="mean think time between a client's requests (s)")
    ap.add_argument("--burst", type=int, default=120, help="simultaneous requests sent at the end")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--copies", type=int, default=1, help="copies of the chat over the one index")
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="OMP_NUM_THREADS for the server (0: torch's default); see scripts/fuzz.py")
    args = ap.parse_args()
    import httpx

    work = Path(tempfile.mkdtemp(prefix="newsrag-load-"))
    data = work / "issues"
    data.mkdir()
    shutil.copy(ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt", data)
    env = dict(os.environ, RAG_DATA_DIR=str(data), RAG_INDEX_DIR=str(work / "index"), RAG_LOG_DIR=str(work / "log"),
               GRADIO_SERVER_NAME="127.0.0.1", PYTHONUNBUFFERED="1", HF_HUB_OFFLINE="1")
    if args.torch_threads:
        env["OMP_NUM_THREADS"] = str(args.torch_threads)
    t0 = time.monotonic()
    copies: list[tuple[subprocess.Popen, str, Path]] = []

    def start(n: int) -> bool:
        """Copy n up (the first builds the index; the others open it)."""
        port, log = free_port(), work / f"app{n}.log"
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT,
                                env=dict(env, GRADIO_SERVER_PORT=str(port)), stdout=log.open("w"),
                                stderr=subprocess.STDOUT)
        copies.append((proc, f"http://127.0.0.1:{port}", log))
        while "Running on local URL" not in log.read_text(encoding="utf-8", errors="replace"):
            if proc.poll() is not None or time.monotonic() - t0 > 900:
                print(log.read_text(encoding="utf-8", errors="replace")[-3000:])
                return False
            time.sleep(0.5)
        return True

    account = ("loadtest", "load-test-password-1")
    made = subprocess.run([sys.executable, "-m", "rag", "staff", "add", account[0], "--password-stdin"],
                          input=account[1] + "\n", cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        print(f"could not make the staff account: {made.stderr.strip()}")
        return 1
    try:
        for n in range(args.copies):
            if not start(n):
                return 1
        server, base, log = copies[0]
        cookies = []  # one staff session per copy (sessions are per process)
        for _, url, _ in copies:
            r = httpx.post(f"{url}/staff/login", data={"name": account[0], "password": account[1]}, timeout=60)
            cookies.append(f"newsrag_staff={r.cookies.get('newsrag_staff', '')}")
        with httpx.Client() as c:  # warm-up, then the memory baseline
            for _, url, _ in copies:
                for q in QUESTIONS:
                    call(c, url, "ask", [q, ""])
        mem_start, anon_start = rss_mb(server.pid), rss_mb(server.pid, "RssAnon")
        cpu_start = [cpu_s(p.pid) for p, _, _ in copies]
        mine_start, wall_start = cpu_s("self"), time.monotonic()
        print(f"loadtest: {args.copies} cop{'y' if args.copies == 1 else 'ies'} up in {time.monotonic() - t0:.0f} s "
              f"(pids {', '.join(str(p.pid) for p, _, _ in copies)}), {mem_start:.0f} MB the first; "
              f"{args.clients} clients for {args.seconds:.0f} s, think time ~{args.think} s, "
              f"OMP_NUM_THREADS {env.get('OMP_NUM_THREADS', 'unset')}")

        results: list[tuple[str, str, str, float]] = []  # (kind, outcome, detail, seconds)
        lock = threading.Lock()
        stop = time.monotonic() + args.seconds

        def client(n: int) -> None:
            rng = random.Random(args.seed * 1000 + n)
            with httpx.Client(limits=httpx.Limits(max_connections=4)) as c:
                while time.monotonic() < stop:
                    api, kind, data_ = request(rng)
                    url = copies[n % len(copies)][1]
                    t = time.monotonic()
                    if api == "search":  # a staff search, on the staff page
                        outcome, detail = call(c, url + "/staff", api, data_, cookie=cookies[n % len(copies)])
                    else:
                        outcome, detail = call(c, url, api, data_)
                    with lock:
                        results.append((kind, outcome, detail, time.monotonic() - t))
                    time.sleep(rng.expovariate(1 / args.think))

        samples: list[float] = []

        def sample() -> None:  # the server's resident memory every 10 s: growth or a plateau?
            while time.monotonic() < stop:
                samples.append(rss_mb(server.pid))
                time.sleep(10)

        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        threads.append(threading.Thread(target=sample, daemon=True))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        mem_end, anon_end = rss_mb(server.pid), rss_mb(server.pid, "RssAnon")
        wall = time.monotonic() - wall_start
        server_cpu = sum(cpu_s(p.pid) - c0 for (p, _, _), c0 in zip(copies, cpu_start))
        print(f"cpu over the run ({wall:.0f} s, {os.cpu_count()} cores): server{'s' if len(copies) > 1 else ''} "
              f"{server_cpu:.0f} s, these clients {cpu_s('self') - mine_start:.0f} s (they share the machine)")

        outcomes = Counter(o for _, o, _, _ in results)
        served = sorted(s for _, o, _, s in results if o in ("ok", "rejected"))

        def pct(p: float) -> float:
            return served[min(len(served) - 1, int(round(p * (len(served) - 1))))] if served else float("nan")

        done = outcomes["ok"] + outcomes["rejected"]
        print(f"answered per second: {done / args.seconds:.1f} (completed or rejected with a message, over "
              f"{args.seconds:.0f} s)")
        print(f"requests: {len(results)} ({dict(Counter(k for k, _, _, _ in results))}); "
              f"completed {outcomes['ok']}, rejected with a message {outcomes['rejected']}, "
              f"busy {outcomes['busy']}, errors {outcomes['error']}")
        print(f"latency of served requests (queue wait included): p50 {pct(.5):.2f} s, p95 {pct(.95):.2f} s, "
              f"max {max(served) if served else float('nan'):.2f} s")
        for kind in ("normal", "follow-up", "search", "junk"):
            xs = sorted(s for k, o, _, s in results if k == kind and o in ("ok", "rejected"))
            if xs:
                print(f"  {kind:9s} n={len(xs):5d} p50 {xs[len(xs) // 2]:.2f} s  p95 {xs[int(.95 * (len(xs) - 1))]:.2f} s")
        errors = [d for _, o, d, _ in results if o == "error"]
        for d in list(dict.fromkeys(errors))[:5]:
            print(f"  error: {d}")
        busy = [d for _, o, d, _ in results if o == "busy"]
        if busy:
            print(f"  busy reply: {busy[0]}")

        # a burst that overfills the queue (2 running + the queue, RAG_QUEUE_SIZE), then one normal question
        burst: list[tuple[str, str]] = []

        def one() -> None:
            with httpx.Client() as c:
                burst.append(call(c, base, "ask", [random.choice(QUESTIONS), ""]))

        threads = [threading.Thread(target=one, daemon=True) for _ in range(args.burst)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        b = Counter(o for o, _ in burst)
        shown = next((d for o, d in burst if o == "busy"), None)
        print(f"burst of {args.burst} at once: {dict(b)}; a client over the limit was told: {shown!r}")
        with httpx.Client() as c:
            t = time.monotonic()
            outcome, detail = call(c, base, "ask", ["现代医药港计划投资多少？", ""])
            print(f"afterwards: {outcome} in {time.monotonic() - t:.2f} s, answer "
                  f"{json.loads(detail.split(chr(10))[0])[0].get('answer') if outcome == 'ok' else detail!r}")
        text = "".join(lg.read_text(encoding="utf-8", errors="replace") for _, _, lg in copies)
        print("server memory every 10 s (MB): " + " ".join(f"{m:.0f}" for m in samples))
        print(f"server memory: {mem_start:.0f} MB at start, {mem_end:.0f} MB after the run "
              f"({(mem_end - mem_start) / mem_start * 100:+.1f}%); of it allocated (not mapped files): "
              f"{anon_start:.0f} -> {anon_end:.0f} MB ({(anon_end - anon_start) / anon_start * 100:+.1f}%); "
              f"tracebacks in the server log: "
              f"{text.count('Traceback')}; one-line rejections logged: {text.count('rejected a question')}")
    finally:
        for proc, _, _ in copies:
            proc.terminate()
        for proc, _, _ in copies:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
