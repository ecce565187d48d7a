#!/bin/sh
# katana post-commit hook, installed by `katana hook install` (katana-hook: remove with `katana hook uninstall`).
# Runs the hook it replaced first (kept beside it as post-commit.katana-chained), then starts
# `katana hook run` in the background: it writes .katana/patches/<sha>.po for the new commit against
# its parent and logs to .katana/hook.log. Nothing it does can fail or slow the commit.
hooks_dir=$(dirname "$0")
status=0
if [ -x "$hooks_dir/post-commit.katana-chained" ]; then
	"$hooks_dir/post-commit.katana-chained" "$@"
	status=$?
fi
katana=@KATANA@
build=@BUILD@
top=$(git rev-parse --show-toplevel 2>/dev/null) && sha=$(git rev-parse HEAD 2>/dev/null) && {
	store=${KATANA_STORE:-$top/.katana}
	mkdir -p "$store" 2>/dev/null
	# Detached and serialised (flock): a build per commit, one at a time, none holding up git.
	# git exports GIT_INDEX_FILE and friends to hooks; the worktree builds must not inherit them.
	(
		unset GIT_DIR GIT_INDEX_FILE GIT_WORK_TREE GIT_PREFIX
		cd "$top" && nohup flock "$store/hook.lock" "$katana" hook run "$sha" --build "$build" \
			</dev/null >>"$store/hook.log" 2>&1 &
	) 2>/dev/null
}
exit $status
