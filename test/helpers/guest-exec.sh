# `nooks exec ARGS...` inside the QEMU guest (test/guest-e1000-libc.test.ts),
# then its exit status as a JSON line, {"execStatus":N}: the guest's init
# expands the test's command line once, so no $? can be written there.
# With --term-after TEXT first: once the program has printed a line holding
# TEXT (read as it comes, through a FIFO), nooks is sent SIGTERM, once.
# Run by the guest's busybox sh, from the project directory.
if [ "$1" = --term-after ]; then
	text=$2
	shift 2
	out=/tmp/guest-exec.fifo
	busybox mkfifo $out
	node dist/lib/cli/main.js exec "$@" > $out &
	pid=$!
	sent=
	while read -r line; do
		echo "$line"
		case $line in
		*"$text"*) [ -z "$sent" ] && kill -TERM $pid && sent=yes ;;
		esac
	done < $out
	wait $pid
	status=$?
else
	node dist/lib/cli/main.js exec "$@"
	status=$?
fi
echo "{\"execStatus\":$status}"
