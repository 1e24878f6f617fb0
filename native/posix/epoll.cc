// epoll over the personality's pollable files (eventfds): level-triggered,
// edge-triggered (EPOLLET) or one-shot (EPOLLONESHOT).
#include <fcntl.h>

#include <cstring>

#include "../kapi/checks.h"
#include "../kapi/wait.h"
#include "events.h"
#include "program_signals.h"

namespace nooks {

Epoll::Watch::Watch(std::shared_ptr<WaitQueue> file, std::shared_ptr<WaitQueue> epoll) : file_(std::move(file)), epoll_(std::move(epoll)) {
  if (file_) file_->add(this);
}

Epoll::Watch::~Watch() {
  if (file_) file_->remove(this);
}

long Epoll::ctl(int op, int fd, const std::shared_ptr<OpenFile> &of, uint32_t events, uint64_t data) {
  if (op != EPOLL_CTL_DEL && (events & EPOLLEXCLUSIVE)) return -EINVAL;  // one epoll per waiter here: nothing to share
  if (of->file->poll_events() < 0) return -EPERM;
  {
    std::lock_guard<std::mutex> g(lock_);
    auto it = interests_.find(fd);
    bool watched = it != interests_.end() && it->second.file.lock() == of;
    switch (op) {
      case EPOLL_CTL_ADD:
        if (watched) return -EEXIST;
        interests_[fd] = {events, data, of, std::make_unique<Watch>(of->file->waits(), waits_)};
        break;
      case EPOLL_CTL_MOD:
        if (!watched) return -ENOENT;
        it->second = {events, data, of, std::move(it->second.watch)};
        break;
      case EPOLL_CTL_DEL:
        if (!watched) return -ENOENT;
        interests_.erase(it);
        return 0;
      default: return -EINVAL;
    }
  }
  waits_->wake_all();  // a wait in epoll_wait looks again: the new watch's file may be ready
  return 0;
}

std::vector<epoll_event> Epoll::ready(size_t max) {
  std::vector<epoll_event> out;
  std::lock_guard<std::mutex> g(lock_);
  for (auto it = interests_.begin(); it != interests_.end() && out.size() < max;) {
    std::shared_ptr<OpenFile> of = it->second.file.lock();
    if (!of) {
      it = interests_.erase(it);
      continue;
    }
    Interest &in = it->second;
    uint32_t got = in.spent ? 0 : (uint32_t)of->file->poll_events() & (in.events | (uint32_t)EPOLLERR | (uint32_t)EPOLLHUP);
    if (got && (in.events & EPOLLET)) {
      uint64_t at = of->file->changes();
      if (at == in.reported_at) got = 0;  // no new edge since it was reported
      in.reported_at = at;
    }
    if (got) {
      out.push_back({got, {.u64 = in.data}});
      in.spent = in.events & EPOLLONESHOT;
    }
    ++it;
  }
  return out;
}

}  // namespace nooks

using namespace nooks;

static_assert(sizeof(epoll_event) == 12, "struct epoll_event is packed on x86-64, as the wrapper's size says");

extern "C" int kapi_nooks_posix_epoll_create(int flags) {
  if (flags & ~EPOLL_CLOEXEC) return -EINVAL;
  return fd_install(calling_domain(), std::make_shared<Epoll>(), O_RDWR | (flags & EPOLL_CLOEXEC));
}

extern "C" int kapi_nooks_posix_epoll_ctl(int epfd, int op, int fd, unsigned int events, unsigned long long data) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> epf = fd_get(d, epfd), of = fd_get(d, fd);
  if (!epf || !of) return -EBADF;
  std::shared_ptr<Epoll> ep = file_as<Epoll>(epf->file);
  if (!ep || fd == epfd) return -EINVAL;
  return (int)ep->ctl(op, fd, of, events, data);
}

extern "C" int kapi_nooks_posix_epoll_wait(int epfd, void *events, size_t maxevents, int timeout, int masked, unsigned long mask) {
  Domain *d = calling_domain();
  std::shared_ptr<OpenFile> epf = fd_get(d, epfd);
  if (!epf) return -EBADF;
  std::shared_ptr<Epoll> ep = file_as<Epoll>(epf->file);
  if (!ep || !maxevents) return -EINVAL;
  std::vector<epoll_event> got;
  InterruptibleWait signals;
  TemporaryMask temporary(d, masked, mask);  // epoll_pwait's: a pending signal it unblocks ends the wait once handled
  if (!files_wait(d, timeout, {ep->waits()}, [&] {
        got = ep->ready(maxevents);
        return !got.empty();
      }) && signals.interrupted())
    return -EINTR;  // a handler ran: Linux's epoll_wait ends, SA_RESTART or not
  if (int e = got.empty() ? 0 : write_back(d, "epoll_wait", [&] { memcpy(events, got.data(), got.size() * sizeof(epoll_event)); })) return e;
  return (int)got.size();
}
