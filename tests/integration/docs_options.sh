#!/bin/bash
# The reference in docs/ documents every command and every option the binary
# has: each command in `diotorture --help` has docs/commands/<command>.md, and
# each option in `diotorture <command> --help` is named on that page (or, for
# the shared filesystem options, on docs/filesystem.md when the page links it).
# A new option without documentation fails here. And `diotorture help TOPIC`
# prints each page exactly as docs/ has it (one source, compiled in).
. "$(dirname "$0")/lib.sh"
DOCS=$(dirname "$0")/../../docs
commands=$("$DT" --help | awk '/^Subcommands:/{on=1; next} on && NF {print $1}')
[ -n "$commands" ] || fail "no commands found in 'diotorture --help'"
for cmd in $commands; do
  page=$DOCS/commands/$cmd.md
  if [ ! -f "$page" ]; then
    fail "command $cmd has no page docs/commands/$cmd.md"
    continue
  fi
  missing=""
  for opt in $("$DT" "$cmd" --help | grep -oE '^ +(-[A-Za-z],)?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z0-9-]+$'); do
    [ "$opt" = --help ] && continue
    grep -qF -- "$opt" "$page" && continue
    grep -qF 'filesystem.md' "$page" && grep -qF -- "\`$opt" "$DOCS/filesystem.md" && continue
    missing+=" $opt"
  done
  if [ -n "$missing" ]; then fail "docs/commands/$cmd.md does not document:$missing"
  else pass "docs/commands/$cmd.md documents every option of $cmd"; fi
done
pages=0
while read -r page; do
  topic=${page#"$DOCS"/}
  topic=${topic%.md}.md
  pages=$((pages + 1))
  if ! "$DT" help "$topic" | cmp -s - "$page"; then fail "'diotorture help $topic' differs from docs/$topic"; fi
done < <(find "$DOCS" -name '*.md' | sort)
[ "$pages" -gt 10 ] && pass "diotorture help prints all $pages pages of docs/ as they are" || fail "only $pages pages"
finish
