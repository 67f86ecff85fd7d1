#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (git-ignored) with the real log lines of ../../../shared/corpus,
# so the fuzzers start from well-formed lines and mutate from there.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${1:-$here/../../../shared/corpus}"
[ -d "$src" ] || { echo "corpus not found at $src" >&2; exit 1; }
mkdir -p "$here/corpus/vsftpd" "$here/corpus/iptables" "$here/corpus/detect"
n=0
seed() { # target, line
    local f
    f="$here/corpus/$1/$(printf '%s' "$2" | sha1sum | cut -c1-16)"
    printf '%s' "$2" > "$f"
    n=$((n + 1))
}
while IFS= read -r line; do
    [ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
    seed vsftpd "$line"; seed detect "$line"
done < <(cat "$src"/vsftpd/fail2ban-vsftpd.log "$src"/vsftpd/ossec-docs-vsftpd.log)
while IFS= read -r line; do
    [ -z "$line" ] && continue
    seed iptables "$line"; seed detect "$line"
done < <(cat "$src"/iptables/beats-iptables.log "$src"/iptables/beats-ubiquiti.log;
         sed -n 's/^log [0-9]* pass = //p' "$src"/iptables/wazuh-iptables.ini)
echo "seeded $n inputs"
