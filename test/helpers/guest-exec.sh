# `nooks exec ARGS...` inside the QEMU guest (test/guest-e1000-libc.test.ts),
# then its exit status as a JSON line, {"execStatus":N}: the guest's init
# expands the test's command line once, so no $? can be written there.
node dist/lib/cli/main.js exec "$@"
echo "{\"execStatus\":$?}"
