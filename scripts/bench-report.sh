#!/usr/bin/env bash
# Measures Harbor on this machine and writes the figures as a Markdown report (the
# project's published figures, BENCHMARKS.md, are this script's output).
#
# What it runs, after `cargo build --release --locked -p harbor`:
#   - `harbor bench a2a` (blocking SendMessage, closed loop, every binding each server's card
#     offers, at each concurrency) against `harbor serve --in-memory`, the durable default
#     `harbor serve --data-dir <tmp>`, and the two anchors of ../shared/anchors
#     (rs_official_echo: the official Rust A2A SDK; raw_axum_echo: the HTTP floor) when their
#     binaries exist in $HARBOR_ANCHORS_TARGET/release or cargo can build them there. Every
#     server is pinned to core 0 and the load to core 1; one bench run visits every server
#     at each concurrency level in turn (alternating), and each run starts fresh servers in
#     the reverse order of the run before.
#   - `harbor bench bus --driver X` for memory, embedded, and each of NATS, Redis and
#     PostgreSQL that answers at its URL: each driver's rates as ratios of a raw baseline
#     (the engine's own client doing the same work) measured in the same process.
# Each bench runs --runs times; the report gives every run's ratios and their spread.
#
# Usage: bash scripts/bench-report.sh [options]
#   --out FILE            the report (default: BENCHMARKS.md in the repository)
#   --runs N              runs of each bench (default 2)
#   --duration D          length of each A2A row, e.g. 5s, 500ms (default 5s)
#   --concurrency LIST    A2A concurrency levels (default 1,16,64)
#   --messages N          envelopes per bus throughput round (default: the bench's own,
#                         1,000,000 in process and 100,000 on a durable driver)
#   --bus-rounds N        throughput rounds inside one bus run, median kept (default 3)
#   --quick               a short run to try the script: --runs 1 --duration 1s
#                         --concurrency 1,16 --messages 20000 --bus-rounds 1
#   --no-a2a, --no-bus    skip that part
#   --no-build            use the harbor binary already built
#   -h, --help            this text
# Environment: CARGO_TARGET_DIR (default /var/tmp/harbor-target), HARBOR_NATS_URL,
# HARBOR_REDIS_URL, HARBOR_POSTGRES_URL (defaults: the local CI servers),
# HARBOR_ANCHORS_SRC (default ../shared/anchors), HARBOR_ANCHORS_TARGET (default
# /var/tmp/anchors).
# Needs: taskset, curl, python3. Progress goes to stderr; a full run takes about 20 minutes
# on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

out="$repo/BENCHMARKS.md"
runs=2
duration=5s
concurrency=1,16,64
messages=""
bus_rounds=3
do_a2a=1
do_bus=1
do_build=1
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --messages) messages="$2"; shift 2 ;;
    --bus-rounds) bus_rounds="$2"; shift 2 ;;
    --quick) runs=1; duration=1s; concurrency=1,16; messages=20000; bus_rounds=1; shift ;;
    --no-a2a) do_a2a=0; shift ;;
    --no-bus) do_bus=0; shift ;;
    --no-build) do_build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "--runs must be a positive number" >&2; exit 2; }

nats="${HARBOR_NATS_URL:-nats://127.0.0.1:4222}"
redis="${HARBOR_REDIS_URL:-redis://127.0.0.1:6379}"
postgres="${HARBOR_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
anchors_src="$(realpath -m "${HARBOR_ANCHORS_SRC:-$repo/../shared/anchors}")"
# How the report names that folder: as given, or relative to the repository.
anchors_shown="${HARBOR_ANCHORS_SRC:-../shared/anchors}"
anchors_target="${HARBOR_ANCHORS_TARGET:-/var/tmp/anchors}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/harbor-target}"
harbor="$CARGO_TARGET_DIR/release/harbor"

work="$(mktemp -d)"
children=()
cleanup() {
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

started_at="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
SECONDS=0
log() { echo "[bench-report +${SECONDS}s] $*" >&2; }
# Every command the report shows, one per line, in the order run.
commands="$work/commands.txt"
notes="$work/notes.txt"
: >"$commands"
: >"$notes"
note() { echo "$*" >>"$notes"; log "note: $*"; }
record() { echo "$*" >>"$commands"; }

if ((do_build)); then
  log "building harbor (release)"
  record "cargo build --release --locked -p harbor"
  cargo build --release --locked -p harbor >&2
else
  record "# (harbor built beforehand: cargo build --release --locked -p harbor)"
fi
[[ -x "$harbor" ]] || { echo "no harbor binary at $harbor" >&2; exit 1; }

. scripts/lib.sh

# Whether host:port of URL $1 accepts a TCP connection.
reachable() {
  local rest="${1#*://}"
  rest="${rest#*@}"
  rest="${rest%%/*}"
  rest="${rest%%\?*}"
  local host="${rest%%:*}" port="${rest##*:}"
  timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

# The anchors: built when missing and cargo can build them.
anchors=()
if ((do_a2a)); then
  for name in rs_official_echo raw_axum_echo; do
    bin="$anchors_target/release/$name"
    if [[ ! -x "$bin" && -f "$anchors_src/$name/Cargo.toml" ]]; then
      log "building anchor $name into $anchors_target"
      if CARGO_TARGET_DIR="$anchors_target" cargo build --release --locked \
        --manifest-path "$anchors_src/$name/Cargo.toml" >"$work/build-$name.log" 2>&1; then
        record "CARGO_TARGET_DIR=$anchors_target cargo build --release --locked --manifest-path $anchors_shown/$name/Cargo.toml"
      else
        note "anchor $name skipped: cargo could not build it ($(tail -n 1 "$work/build-$name.log"))"
      fi
    fi
    if [[ -x "$bin" ]]; then
      anchors+=("$name")
    elif [[ ! -f "$anchors_src/$name/Cargo.toml" ]]; then
      note "anchor $name skipped: no binary at $bin and no sources at $anchors_src/$name"
    fi
  done
fi

# start KIND PORT: one server pinned to core 0, in the background; its pid in $served.
start() {
  local kind="$1" port="$2" cmd
  case "$kind" in
    harbor-in-memory)
      cmd=("$harbor" serve --host 127.0.0.1 --port "$port" --grpc-port "$(free_port)" --in-memory) ;;
    harbor-durable)
      rm -rf "$work/data"
      cmd=("$harbor" serve --host 127.0.0.1 --port "$port" --grpc-port "$(free_port)" --data-dir "$work/data") ;;
    *)
      cmd=(env "PORT=$port" "$anchors_target/release/$kind") ;;
  esac
  record "taskset -c 0 ${cmd[*]} &"
  taskset -c 0 "${cmd[@]}" >"$work/$kind.log" 2>&1 &
  served=$!
  children+=("$served")
}

if ((do_a2a)); then
  servers=(harbor-in-memory harbor-durable "${anchors[@]}")
  for run in $(seq 1 "$runs"); do
    order=("${servers[@]}")
    if ((run % 2 == 0)); then
      order=()
      for ((i = ${#servers[@]} - 1; i >= 0; i--)); do order+=("${servers[$i]}"); done
    fi
    args=()
    pids=()
    : >"$work/a2a-targets-$run.txt"
    for kind in "${order[@]}"; do
      port="$(free_port)"
      start "$kind" "$port"
      wait_card "http://127.0.0.1:$port"
      args+=(--url "http://127.0.0.1:$port" --server-pid "$served")
      pids+=("$served")
      echo "http://127.0.0.1:$port $kind" >>"$work/a2a-targets-$run.txt"
    done
    log "A2A run $run of $runs: ${order[*]} (rows of $duration at concurrency $concurrency)"
    cmd=("$harbor" bench a2a "${args[@]}" --duration "$duration" --concurrency "$concurrency" --json)
    record "taskset -c 1 ${cmd[*]}"
    if ! taskset -c 1 "${cmd[@]}" >"$work/a2a-$run.json" 2>"$work/a2a-$run.log"; then
      note "A2A run $run failed or had a row with no success: $(grep -v '^harbor bench a2a:' "$work/a2a-$run.log" | tail -n 1)"
    fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  done
fi

if ((do_bus)); then
  drivers=(memory embedded)
  for url in "$nats" "$redis" "$postgres"; do
    if reachable "$url"; then drivers+=("$url"); else note "bus driver $url skipped: not reachable"; fi
  done
  bus_opts=(--rounds "$bus_rounds" --json)
  [[ -n "$messages" ]] && bus_opts+=(--messages "$messages")
  n=0
  for run in $(seq 1 "$runs"); do
    for driver in "${drivers[@]}"; do
      n=$((n + 1))
      log "bus run $run of $runs: $driver"
      cmd=("$harbor" bench bus --driver "$driver" "${bus_opts[@]}")
      record "${cmd[*]}"
      if "${cmd[@]}" >"$work/bus-$n.json" 2>"$work/bus-$n.log"; then
        echo "$run $driver $work/bus-$n.json" >>"$work/bus-index.txt"
      else
        note "bus run $run on $driver failed: $(tail -n 1 "$work/bus-$n.log")"
      fi
    done
  done
fi

log "writing $out"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=""
[[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]] && dirty=" (with uncommitted changes)"
export BR_WORK="$work" BR_RUNS="$runs" BR_STARTED="$started_at" BR_ELAPSED="$SECONDS" \
  BR_COMMIT="$commit$dirty" BR_DURATION="$duration" BR_HARBOR="$harbor"
python3 - >"$out" <<'PY'
import glob, json, os, platform, re, statistics, subprocess

work = os.environ["BR_WORK"]
harbor = os.environ["BR_HARBOR"]

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

def spread(values, digits=2):
    """'median (min-max)' of values, or the single value."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    f = "{:,.%df}" % digits
    if len(values) == 1:
        return f.format(values[0])
    return f"{f.format(statistics.median(values))} ({f.format(min(values))}-{f.format(max(values))})"

def verdict(values, target):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if min(values) >= target:
        return "met"
    if max(values) >= target:
        return "met in some runs"
    return "missed"

def rate(x):
    return f"{x:,.0f}"

out = []
p = out.append
p("# Harbor benchmarks")
p("")
p("Written by `scripts/bench-report.sh`; rerun it to measure your own machine. Figures from one")
p("machine and one day: compare ratios measured in the same run, not absolute rates across runs.")
p("")
p("## Machine")
p("")
p(f"- date: {os.environ['BR_STARTED']} (the run took {int(os.environ['BR_ELAPSED']) // 60} min)")
p(f"- git commit: {os.environ['BR_COMMIT']}")
p(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores (`nproc`: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()})")
p(f"- kernel: {platform.system()} {platform.release()}")
p(f"- runs of each bench: {os.environ['BR_RUNS']}")
p("")

# --- bus ---
bus = {}
index = os.path.join(work, "bus-index.txt")
if os.path.exists(index):
    for line in open(index):
        run, driver, path = line.split()
        try:
            bus.setdefault(driver, []).append(json.load(open(path)))
        except (OSError, ValueError):
            pass
if bus:
    p("## The bus: each driver as a ratio of its raw baseline")
    p("")
    p("`harbor bench bus --driver X` measures the driver and, in the same process and alternating")
    p("rounds, a raw baseline: the engine's own client doing the same work. Ratio = driver rate /")
    p("raw rate (median of the bench's rounds); a cell shows the median over runs and the")
    p("range `(min-max)`. Targets: 0.5 for the memory bus (against a tokio channel), 0.8 for")
    p("every durable driver on publish and on consume+ack.")
    p("")
    p("| driver | operation | raw msg/s | driver msg/s | ratio | target | verdict |")
    p("|---|---|---|---|---|---|---|")
    raws = {}
    for driver, reports in bus.items():
        if "results" in reports[0]:  # in process: one ratio per placement
            placements = [r["placement"] for r in reports[0]["results"]]
            for pl in placements:
                rows = [x for rep in reports for x in rep["results"] if x["placement"] == pl]
                ratios = [x["ratio"] for x in rows]
                p(f"| {driver} | publish->deliver->ack, {pl} | {spread([x['raw_msgs_per_sec'] for x in rows], 0)} "
                  f"| {spread([x['bus_msgs_per_sec'] for x in rows], 0)} | {spread(ratios)} | 0.5 | {verdict(ratios, 0.5)} |")
            raws[driver] = "tokio mpsc bounded(1024) moving a fresh payload-sized Vec per message (an envelope channel is reported beside it in the JSON)"
        else:
            for key, name in (("publish", "publish"), ("consume_ack", "consume+ack")):
                pairs = [rep[key] for rep in reports]
                ratios = [x["ratio"] for x in pairs]
                p(f"| {driver} | {name} | {spread([x['raw_per_s'] for x in pairs], 0)} "
                  f"| {spread([x['driver_per_s'] for x in pairs], 0)} | {spread(ratios)} | 0.8 | {verdict(ratios, 0.8)} |")
            raws[driver] = reports[0]["raw"]
    p("")
    p("What each raw baseline does:")
    p("")
    for driver, text in raws.items():
        p(f"- `{driver}`: {text}")
    p("")
    lat = [(d, r) for d, reps in bus.items() for r in reps if "publish_latency" in r]
    if lat:
        p("Single durable publish latency (one at a time, each awaited), per run:")
        p("")
        p("| driver | raw p50 / p99 µs | driver p50 / p99 µs |")
        p("|---|---|---|")
        for d, r in lat:
            a, b = r["publish_latency"]["raw"], r["publish_latency"]["driver"]
            p(f"| {d} | {a['p50_us']:.0f} / {a['p99_us']:.0f} | {b['p50_us']:.0f} / {b['p99_us']:.0f} |")
        p("")

# --- A2A ---
a2a_runs = []
for path in sorted(glob.glob(os.path.join(work, "a2a-*.json"))):
    run = re.search(r"a2a-(\d+)\.json$", path).group(1)
    names = {}
    for line in open(os.path.join(work, f"a2a-targets-{run}.txt")):
        url, kind = line.split()
        names[url] = kind
    try:
        report = json.load(open(path))
    except ValueError:
        continue
    a2a_runs.append((names, report))
if a2a_runs:
    p("## A2A: SendMessage requests per second")
    p("")
    p("`harbor bench a2a`, closed loop, servers pinned to core 0 and the load to core 1, one bench")
    p(f"run visiting every server at each concurrency in turn; rows of {os.environ['BR_DURATION']} after")
    p("a 1 s warm-up. `baseline` is the bench's in-process raw HTTP server (on the load's core).")
    p("Ratios are of the same cell (binding, concurrency) in the same run; a cell shows the")
    p("median over runs and the range. `cpu` is the server's CPU time per request.")
    p("")
    cells = {}
    for names, report in a2a_runs:
        for row in report["rows"]:
            kind = names.get(row["target"], row["target"])
            key = (row["binding"], row["mode"], row["concurrency"])
            cells.setdefault(key, {}).setdefault(kind, []).append(row)
    kinds = []
    for names, _ in a2a_runs:
        for k in ["baseline"] + list(names.values()):
            if k not in kinds:
                kinds.append(k)
    p("| binding | conc | " + " | ".join(f"{k} req/s" for k in kinds) + " |")
    p("|---|---|" + "---|" * len(kinds))
    for key in sorted(cells):
        binding, mode, conc = key
        row = [binding + ("" if mode == "send" else f" {mode}"), str(conc)]
        for k in kinds:
            rs = cells[key].get(k, [])
            if not rs:
                row.append("-")
                continue
            text = spread([r["requests_per_sec"] for r in rs], 0)
            cpu = [r["server_cpu_us_per_request"] for r in rs if r.get("server_cpu_us_per_request")]
            if cpu:
                text += f", cpu {statistics.median(cpu):.0f} µs"
            fails = sum(r["failures"] for r in rs)
            if fails:
                text += f", {fails} failed"
            row.append(text)
        p("| " + " | ".join(row) + " |")
    p("")
    pairs = [("harbor-in-memory", "baseline"), ("harbor-durable", "baseline"),
             ("harbor-in-memory", "rs_official_echo"), ("harbor-durable", "rs_official_echo"),
             ("harbor-in-memory", "raw_axum_echo"), ("harbor-durable", "raw_axum_echo"),
             ("rs_official_echo", "raw_axum_echo")]
    pairs = [(a, b) for a, b in pairs if a in kinds and b in kinds]
    p("Ratios of the same cell in the same run:")
    p("")
    p("| binding | conc | " + " | ".join(f"{a} / {b}" for a, b in pairs) + " |")
    p("|---|---|" + "---|" * len(pairs))
    for key in sorted(k for k in cells if "baseline" not in cells[k]):
        binding, mode, conc = key
        row = [binding + ("" if mode == "send" else f" {mode}"), str(conc)]
        for a, b in pairs:
            ratios = []
            for names, report in a2a_runs:
                got = {}
                for r in report["rows"]:
                    if (r["binding"], r["mode"], r["concurrency"]) == key:
                        got[names.get(r["target"], r["target"])] = r
                if b == "baseline":
                    # The bench's own ratio: the baseline row has its own binding name.
                    if got.get(a) and got[a].get("ratio_to_baseline"):
                        ratios.append(got[a]["ratio_to_baseline"])
                elif got.get(a) and got.get(b) and got[b]["requests_per_sec"]:
                    ratios.append(got[a]["requests_per_sec"] / got[b]["requests_per_sec"])
            row.append(spread(ratios))
        p("| " + " | ".join(row) + " |")
    p("")
    notes_seen = sorted({n for _, rep in a2a_runs for n in rep.get("notes", [])})
    for n in notes_seen:
        p(f"- bench note: {n}")
    if notes_seen:
        p("")

notes = [l.strip() for l in open(os.path.join(work, "notes.txt")) if l.strip()]
if notes:
    p("## Notes")
    p("")
    for n in notes:
        p(f"- {n}")
    p("")

p("## Commands")
p("")
p("Run from the repository root (`harbor` is `$CARGO_TARGET_DIR/release/harbor`; ports are")
p("free ports picked for the run):")
p("")
p("```sh")
for line in open(os.path.join(work, "commands.txt")):
    p(line.rstrip().replace(harbor, "harbor").replace(work, "$WORK"))
p("```")
print("\n".join(out))
PY
log "done: $out"
