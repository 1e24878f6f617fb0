// poll and ppoll over the personality's descriptors (VFIO interrupt drivers
// wait on their eventfds with poll as often as with epoll): an eventfd, a
// UIO node, a timerfd or a pipe end is ready as its own state says (its
// poll_events: a count, unread interrupts or expiries, a pipe's bytes, room
// and closed ends); any other file (sysfs, hugetlbfs, VFIO) is always ready
// for reading and writing, as Linux answers for regular files.
#include <poll.h>

#include <cstring>
#include <vector>

#include "../kapi/checks.h"
#include "../kapi/wait.h"
#include "events.h"
#include "program_signals.h"

using namespace nooks;

namespace {

// What of `want` the descriptor `of` (null: not open) has now.
short revents(const std::shared_ptr<OpenFile> &of, const pollfd &want) {
  if (want.fd < 0) return 0;  // an entry poll skips
  if (!of) return POLLNVAL;
  int ready = of->file->poll_events();
  if (ready < 0) ready = POLLIN | POLLOUT;  // not pollable: a regular file, always ready
  return (short)(ready & (want.events | POLLERR | POLLHUP));
}

}  // namespace

static_assert(sizeof(pollfd) == 8, "struct pollfd as the wrapper's size says");
static_assert(POLLIN == EPOLLIN && POLLOUT == EPOLLOUT, "poll_events answers in epoll's bits, which are poll's");

extern "C" int kapi_nooks_posix_poll(void *fds, size_t nfds, int timeout, int masked, unsigned long mask) {
  Domain *d = calling_domain();
  std::vector<pollfd> want(nfds);
  std::vector<std::shared_ptr<OpenFile>> files(nfds);
  std::vector<std::shared_ptr<WaitQueue>> queues;
  if (nfds) memcpy(want.data(), fds, nfds * sizeof(pollfd));  // the wait reads kernel memory only
  for (size_t i = 0; i < nfds; i++) {
    files[i] = want[i].fd >= 0 ? fd_get(d, want[i].fd) : nullptr;
    if (files[i]) queues.push_back(files[i]->file->waits());
  }
  int ready = 0;
  InterruptibleWait signals;
  TemporaryMask temporary(d, masked, mask);  // ppoll's, pselect's: a pending signal it unblocks ends the wait once handled
  if (!files_wait(d, timeout, queues, [&] {
        ready = 0;
        for (size_t i = 0; i < nfds; i++) ready += (want[i].revents = revents(files[i], want[i])) != 0;
        return ready > 0;
      }) && signals.interrupted())
    return -EINTR;  // a handler ran: Linux's poll ends, SA_RESTART or not
  if (int e = nfds ? write_back(d, "poll", [&] { memcpy(fds, want.data(), nfds * sizeof(pollfd)); }) : 0) return e;
  return ready;
}
