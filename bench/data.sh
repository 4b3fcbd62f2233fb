#!/usr/bin/env bash
# Data versioning (docs/data.md, issue 18), side by side in one run: hashing against sha256sum/md5sum on one
# file and on a folder (1 and all cores); 100k small files (1-10 KiB) add + push to the local store, status
# of the unchanged workspace, pull into an empty cache; a 1 GiB file push and pull beside `cp` of it; and the
# cost of whole-file objects when a big file grows by 1%.
#   bench/data.sh [build_dir]      env: DATA_FILES (default 100000), DATA_BIG_MIB (default 1024)
# Every figure is a whole command, start-up included (the binary's start-up is printed first).
set -euo pipefail
BUILD=$(cd "${1:-build}" && pwd)
FILES=${DATA_FILES:-100000}
BIG_MIB=${DATA_BIG_MIB:-1024}
WORK=$(mktemp -d /var/tmp/tamga-data-bench-XXXXXX)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
T="$BUILD/tamga"
export TAMGA_CACHE_DIR="$WORK/cache" TAMGA_PROGRESS=0
secs() { local s e; s=$(date +%s.%N); "$@" > "$WORK/last.out" 2>&1 || { cat "$WORK/last.out"; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
rate() { echo "scale=0; $1 / $2 / 1048576" | bc; }  # bytes seconds -> MiB/s

echo "== tamga data ($(nproc) cores, $(uname -m); files on $(df --output=fstype "$WORK" | tail -1))"
printf "start-up of the binary (tamga version): %.2f s\n" "$(secs "$T" version)"

# --- hashing ---------------------------------------------------------------------------------------
head -c $((BIG_MIB * 1048576)) /dev/urandom > "$WORK/big.bin"
cat "$WORK/big.bin" > /dev/null
B=$((BIG_MIB * 1048576))
for tool in "$T data hash --no-cache --threads 1" "sha256sum" "md5sum"; do
  t=$(secs $tool "$WORK/big.bin")
  printf "hash one %d MiB file  %-38s %6.2f s  %5d MiB/s\n" "$BIG_MIB" "$tool" "$t" "$(rate $B "$t")"
done
mkdir -p "$WORK/dir"
for i in $(seq 0 7); do head -c $((B / 8)) "$WORK/big.bin" > "$WORK/dir/part$i"; done
cat "$WORK/dir"/* > /dev/null
for th in 1 2; do
  t=$(secs "$T" data hash --no-cache --threads $th "$WORK/dir")
  printf "hash a folder of 8 files, %d thread(s)       %6.2f s  %5d MiB/s\n" "$th" "$t" "$(rate $B "$t")"
done
t=$(secs sh -c "ls $WORK/dir/* | xargs -P $(nproc) -n 1 sha256sum")
printf "hash the folder with sha256sum x%d (xargs -P)  %6.2f s  %5d MiB/s\n" "$(nproc)" "$t" "$(rate $B "$t")"
rm -rf "$WORK/dir"

# --- server ----------------------------------------------------------------------------------------
mkdir -p "$WORK/srv"
"$T" --log-level warn server --port 0 --data-dir "$WORK/srv" --port-file "$WORK/srv/port" &
SERVER_PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/srv/port" ] && break; sleep 0.05; done
export TAMGA_TRACKING_URI="http://127.0.0.1:$(cat "$WORK/srv/port")"

# --- 100k small files ------------------------------------------------------------------------------
mkdir -p "$WORK/ws/small"
python3 - "$WORK/ws/small" "$FILES" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i % 500))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d.bin" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 10240)))
PY
sleep 2  # files older than the hash cache's 2 s "racy" window, as any dataset being added
SMALL=$(du -sb "$WORK/ws/small" | cut -f1)
cd "$WORK/ws"
ta=$(secs "$T" data add small)
tp=$(secs "$T" data push small.tamga)
printf "%d small files (%d MiB): add %.1f s + push %.1f s = %.1f s   (%s)\n" "$FILES" $((SMALL / 1048576)) "$ta" "$tp" \
  "$(echo "$ta + $tp" | bc)" "$(tail -1 "$WORK/last.out")"
ts=$(secs "$T" data status small.tamga)
printf "status of the unchanged %d-file workspace: %.2f s   (%s)\n" "$FILES" "$ts" "$(tail -1 "$WORK/last.out")"
touch small/d000/f000000.bin
ts=$(secs "$T" data status small.tamga)
printf "status after touching one file: %.2f s\n" "$ts"
mkdir -p "$WORK/ws2" && cp small.tamga "$WORK/ws2/"
cd "$WORK/ws2"
tl=$(TAMGA_CACHE_DIR="$WORK/cache2" secs "$T" data pull)
printf "pull %d files into an empty cache and workspace: %.1f s\n" "$FILES" "$tl"
cd "$WORK" && rm -rf "$WORK/ws2" "$WORK/cache2"

# --- one big file ----------------------------------------------------------------------------------
mkdir -p "$WORK/ws3" && mv "$WORK/big.bin" "$WORK/ws3/"
cd "$WORK/ws3"
tcp=$(secs sh -c "cp big.bin $WORK/copy.bin && sync"); rm -f "$WORK/copy.bin"
ta=$(secs "$T" data add big.bin)
tp=$(secs "$T" data push big.bin.tamga)
printf "%d MiB file: cp + sync %.2f s (%d MiB/s); add %.2f s (%d MiB/s, hash + copy into the cache); push %.2f s (%d MiB/s)\n" \
  "$BIG_MIB" "$tcp" "$(rate $B "$tcp")" "$ta" "$(rate $B "$ta")" "$tp" "$(rate $B "$tp")"
mkdir -p "$WORK/ws4" && cp big.bin.tamga "$WORK/ws4/"
cd "$WORK/ws4"
tl=$(TAMGA_CACHE_DIR="$WORK/cache4" secs "$T" data pull)
printf "%d MiB file: pull into an empty cache %.2f s (%d MiB/s, download + verify + checkout)\n" "$BIG_MIB" "$tl" "$(rate $B "$tl")"
cd "$WORK/ws3"
head -c $((B / 100)) /dev/urandom >> big.bin
ta=$(secs "$T" data add big.bin)
tp=$(secs "$T" data push big.bin.tamga)
printf "the file grows by 1%%: add %.2f s + push %.2f s (whole-file objects: the new version is uploaded whole)\n" "$ta" "$tp"
du -sb "$WORK/srv/artifacts/datasets" | awk '{printf "server store after both versions: %d MiB\n", $1 / 1048576}'
