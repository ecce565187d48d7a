#!/bin/sh
# katana-rollout.sh: roll a Patch Object out to every process of an executable, on this machine or
# on each host named (over ssh), with `katana apply --exe`, and summarise its JSON lines.
#   katana-rollout.sh PO EXE [HOST...]
# Exit 0 when every process on every host was patched; 1 when any process or host failed. A host
# where no process runs EXE (katana exit 6) is reported and not counted as a failure.
# Needs katana on PATH on each host (KATANA=/path/to/katana to override) and node here (JSON).
set -u
[ $# -ge 2 ] || { echo "usage: $0 PO EXE [HOST...]" >&2; exit 64; }
po=$1 exe=$2
shift 2
katana=${KATANA:-katana}

# Prints one summary line per JSON line of katana apply --exe read on stdin.
summarise() {
	node -e '
		const host = process.argv[1];
		let text = "";
		process.stdin.on("data", (c) => (text += c)).on("end", () => {
			for (const line of text.split("\n").filter(Boolean)) {
				let r;
				try { r = JSON.parse(line); } catch { console.log(`${host}: ${line}`); continue; }
				const what = r.ok ? `patched, stopped ${r.stoppedMicros} µs` : `${r.skipped ? "skipped" : "FAILED"} ${r.code}: ${r.message}`;
				console.log(`${host}: pid ${r.pid ?? "-"}: ${what}`);
			}
		});' "$1"
}

failed=0
run_on() { # HOST or "local"
	host=$1
	if [ "$host" = local ]; then
		# nice -n -20: next to a target busy on every core, katana's own start-up would crawl.
		out=$(nice -n -20 "$katana" apply --exe "$exe" "$po" --json)
		status=$?
	else
		remote_po="/tmp/katana-rollout.$$.po"
		scp -q "$po" "$host:$remote_po" || { echo "$host: cannot copy $po" >&2; failed=1; return; }
		out=$(ssh "$host" "nice -n -20 $katana apply --exe '$exe' '$remote_po' --json; s=\$?; rm -f '$remote_po'; exit \$s")
		status=$?
	fi
	printf '%s\n' "$out" | summarise "$host"
	case $status in
		0) ;;
		6) echo "$host: no process runs $exe" ;;
		*) echo "$host: katana apply exited $status" >&2; failed=1 ;;
	esac
}

if [ $# -eq 0 ]; then run_on local; else for h in "$@"; do run_on "$h"; done; fi
exit $failed
