#!/bin/bash
# Seed 002 on multi-device filesystems: the mirror group passes on this
# kernel and says which path its writes took; the copy reader finds exactly
# one changed block on exactly one copy (mirrors) or its parity (raid5/6);
# an existing multi-device mount given by --test-dir is found from the
# filesystem itself.
. "$(dirname "$0")/lib.sh"
cd "$WORK"

# Fast parameters: the full matrix is for users; every engine still runs.
FAST=(-p block-sizes=64k,1m -p queue-depths=8 -p file-size=2m)

for p in raid1 raid1c3 raid10 raid5; do
  set +e
  out=$("$DT" run -g mirror --profile $p "${FAST[@]}" --results "$WORK/results" 2>&1)
  rc=$?
  set -e
  S=$WORK/results/latest/summary.json
  expect_eq "$rc" 0 "$p: mirror group passes on this kernel"
  expect_contains "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["profile"])' "$S")" "data $p" "$p: the filesystem really has data $p"
  ndev=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["devices"]))' "$S")
  case $p in raid1) want=2 ;; raid10) want=4 ;; *) want=3 ;; esac
  expect_eq "$ndev" "$want" "$p: $want loop devices, listed from DEV_INFO"
  expect_eq "$(case_field "$S" mirror-mutate status)" pass "$p: mirror-mutate passes"
  # The path is stated either way: this kernel falls back, an older one goes direct.
  expect_contains "$(case_field "$S" mirror-mutate notes)" "configurations" "$p: mirror-mutate states the write path"
  grep -q "prefill: compared 512 blocks of $p" "$WORK/results/latest/mirror-mutate.full" \
    && pass "$p: every block of the file was compared" || fail "$p: comparison did not cover the file"
  expect_eq "$(case_field "$S" csum-mutate status)" pass "$p: csum-mutate passes"
  grep -q "read-only scrub: .* 0 checksum errors" "$WORK/results/latest/csum-mutate.full" \
    && pass "$p: scrub result recorded" || fail "$p: no scrub result"
done
expect_nothing_left "after the profile runs"

# corrupt PROFILE TARGET KIND: exactly one failure naming block 0x5000 and
# the very device location the self-test corrupted.
corrupt() {
  local profile=$1 target=$2 kind=$3
  set +e
  "$DT" run selftest-copy-corrupt --profile "$profile" -p target="$target" --results "$WORK/results" >/dev/null 2>&1
  set -e
  local R=$WORK/results/latest S=$WORK/results/latest/summary.json
  expect_eq "$(case_field "$S" selftest-copy-corrupt status)" fail "$profile/$target: corruption is a FAIL"
  grep -q "block copies read from the devices hold the written bytes" "$R/selftest-copy-corrupt.full" \
    && pass "$profile/$target: every mapped copy held the written bytes" || fail "$profile/$target: mapping not proven"
  local n
  n=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["cases"][0]["failures"]))' "$S")
  expect_eq "$n" 1 "$profile/$target: exactly one block reported"
  local where reason
  where=$(sed -n 's/^corrupting .*: devid \([0-9]*\) (.*) physical \(0x[0-9a-f]*\), bytes.*/devid \1 physical \2/p' "$R/selftest-copy-corrupt.full")
  reason=$(case_field "$S" selftest-copy-corrupt reason)
  expect_contains "$reason" "$kind at file offset 0x5000" "$profile/$target: names the block"
  expect_contains "$reason" "first differing byte 17 of the block, 100 bytes differ" "$profile/$target: names the bytes"
  expect_contains "$reason" "$where" "$profile/$target: names the corrupted location ($where)"
  echo "$reason"
}
corrupt raid1 2 "copies differ"
corrupt raid1c3 1 "copies differ"
S=$WORK/results/latest/summary.json
expect_contains "$(case_field "$S" selftest-copy-corrupt reason)" "copy 1 devid 1 physical" "raid1c3: the odd copy out is copy 1"
expect_eq "$(case_field "$S" selftest-copy-corrupt reason | grep -o '(differs)' | wc -l)" 1 "raid1c3: only that copy is marked"
corrupt raid5 data "P parity mismatch"
corrupt raid5 P "P parity mismatch"
corrupt raid6 Q "Q parity mismatch"
expect_nothing_left "after the corruption runs"

# A multi-device filesystem the user mounted: devices come from DEV_INFO.
truncate -s 2G "$WORK/a.img" "$WORK/b.img"
A=$(losetup -f --show "$WORK/a.img")
B=$(losetup -f --show "$WORK/b.img")
mkfs.btrfs -q -f -d raid1 -m raid1 "$A" "$B" >/dev/null
mkdir -p "$WORK/mnt"
mount -o device="$B" "$A" "$WORK/mnt"
set +e
"$DT" run -g mirror --test-dir "$WORK/mnt" "${FAST[@]}" --results "$WORK/results" >/dev/null 2>&1
rc=$?
set -e
S=$WORK/results/latest/summary.json
expect_eq "$rc" 0 "--test-dir raid1 mount: mirror group passes"
devs=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["devices"]))' "$S")
expect_contains "$devs" "$A" "--test-dir: first device found"
expect_contains "$devs" "$B" "--test-dir: second device found"
grep -q "compared 512 blocks of raid1 on 2 copies: 0 differ" "$WORK/results/latest/mirror-mutate.full" \
  && pass "--test-dir: copies compared on the user's devices" || fail "--test-dir: no comparison"
umount "$WORK/mnt"
losetup -d "$A" "$B"
finish
