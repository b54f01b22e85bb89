#!/usr/bin/env python3
"""A Harbor agent in Python: `harbor serve --exec 'python3 examples/exec/agent.py'`.

It shows the whole exec protocol (crates/harbor-server/docs/exec-protocol.md): one process
per message reads the request line on stdin and prints events as JSON lines on stdout.

- "count N"  streams N chunks of one artifact, one every 0.2 s, and stops early (CANCELED,
             saying where) when the task is canceled: the cancel arrives as a stdin line;
- "ask"      asks for a name (INPUT_REQUIRED); the follow-up is a new process that finds the
             question in the task's history and answers (COMPLETED);
- "crash"    writes to stderr (the server logs it) and exits 1: the task FAILS with that line;
- anything else: an artifact echoing the text, then COMPLETED.

Try it:  harbor serve --exec 'python3 examples/exec/agent.py'
         harbor stream http://127.0.0.1:9999 "count 5"
         harbor send http://127.0.0.1:9999 ask      # then: --task-id ID "Ada"
"""

import json
import sys
import threading


def emit(**event):
    """Prints one event line; flushing makes it reach the client at once."""
    print(json.dumps(event), flush=True)


def watch_for_cancel(canceled):
    """After the request, stdin carries only {"type": "cancel"} (then it closes)."""
    for line in sys.stdin:
        if json.loads(line).get("type") == "cancel":
            canceled.set()
            return


def count(n, canceled):
    emit(type="status", state="working", text=f"counting to {n}")
    for i in range(1, n + 1):
        if canceled.wait(0.2):
            emit(type="status", state="canceled", text=f"stopped at {i - 1} of {n}")
            return
        emit(type="artifact", artifactId="count", name="count", text=f"{i} ",
             append=i > 1, lastChunk=i == n)
    emit(type="status", state="completed", text=f"counted to {n}")


def ask(request):
    task = request["task"]
    if task is None:
        emit(type="status", state="input-required", text="What is your name?")
        return
    turns = sum(1 for m in task["history"] if m.get("role") == "ROLE_USER") + 1
    emit(type="status", state="completed",
         text=f"Hello, {request['text']}! (turn {turns} of this task)")


def main():
    request = json.loads(sys.stdin.readline())
    canceled = threading.Event()
    threading.Thread(target=watch_for_cancel, args=(canceled,), daemon=True).start()
    text = request["text"].strip()
    task = request["task"]
    first = task["history"][0] if task and task.get("history") else request["message"]
    opening = " ".join(p.get("text", "") for p in first.get("parts", [])).strip()
    if text.startswith("count"):
        words = text.split()
        count(int(words[1]) if len(words) > 1 and words[1].isdigit() else 3, canceled)
    elif opening == "ask":
        ask(request)
    elif text == "crash":
        print("agent.py: crashing on purpose", file=sys.stderr, flush=True)
        sys.exit(1)
    else:
        emit(type="artifact", name="echo", text=f"echo: {text}", lastChunk=True)
        emit(type="status", state="completed")


if __name__ == "__main__":
    main()
