#include "engine/core/server.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/address.h"
#include "engine/core/listener.h"
#include "engine/core/version.h"
#include "engine/core/worker.h"

namespace ringway::core {

namespace {

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int i = 0; i < CPU_SETSIZE; ++i)
      if (CPU_ISSET(i, &set)) cpus.push_back(i);
  }
  if (cpus.empty()) cpus.push_back(-1);
  return cpus;
}

using Workers = std::vector<std::unique_ptr<Worker>>;

void add_stats(proxy::ProxyStats& t, std::map<std::string, uint64_t>& filters,
               const proxy::ProxyStats& s) {
  t.connections_accepted += s.connections_accepted;
  t.connections_refused += s.connections_refused;
  t.requests += s.requests;
  t.local_responses += s.local_responses;
  t.filter_responses += s.filter_responses;
  t.upstream_connects += s.upstream_connects;
  t.upstream_reuses += s.upstream_reuses;
  t.upstream_retries += s.upstream_retries;
  t.upstream_failures += s.upstream_failures;
  t.upstream_failovers += s.upstream_failovers;
  t.endpoints_marked_down += s.endpoints_marked_down;
  t.tunnels += s.tunnels;
  t.buffers_moved += s.buffers_moved;
  t.stalled_clients_cut += s.stalled_clients_cut;
  t.loop_turns += s.loop_turns;
  t.batched_turns += s.batched_turns;
  for (const auto& [name, value] : s.filters) filters[name] += value;
}

void print_stats(const proxy::ProxyStats& t, const std::map<std::string, uint64_t>& filters) {
  std::string filter_json;
  for (const auto& [name, value] : filters)
    filter_json += (filter_json.empty() ? "\"" : ",\"") + name + "\":" + std::to_string(value);
  fprintf(stderr,
          "ringway: stopped {\"connections_accepted\":%llu,\"connections_refused\":%llu,"
          "\"requests\":%llu,\"local_responses\":%llu,\"filter_responses\":%llu,"
          "\"upstream_connects\":%llu,"
          "\"upstream_reuses\":%llu,\"upstream_retries\":%llu,\"upstream_failures\":%llu,"
          "\"upstream_failovers\":%llu,\"endpoints_marked_down\":%llu,\"tunnels\":%llu,"
          "\"buffers_moved\":%llu,\"stalled_clients_cut\":%llu,"
          "\"loop_turns\":%llu,\"batched_turns\":%llu,\"filters\":{%s}}\n",
          (unsigned long long)t.connections_accepted, (unsigned long long)t.connections_refused,
          (unsigned long long)t.requests, (unsigned long long)t.local_responses,
          (unsigned long long)t.filter_responses,
          (unsigned long long)t.upstream_connects, (unsigned long long)t.upstream_reuses,
          (unsigned long long)t.upstream_retries, (unsigned long long)t.upstream_failures,
          (unsigned long long)t.upstream_failovers, (unsigned long long)t.endpoints_marked_down,
          (unsigned long long)t.tunnels, (unsigned long long)t.buffers_moved,
          (unsigned long long)t.stalled_clients_cut,
          (unsigned long long)t.loop_turns, (unsigned long long)t.batched_turns, filter_json.c_str());
}

size_t worker_count(const config::Config& config, const std::vector<int>& cpus) {
  return config.engine.workers != 0 ? config.engine.workers : cpus.size();
}

std::string listener_key(const config::Listener& l) {
  return format_address(reinterpret_cast<const sockaddr*>(&l.address.storage));
}

void close_all(std::vector<std::vector<int>>& fds) {
  for (auto& per_worker : fds)
    for (int fd : per_worker)
      if (fd >= 0) close(fd);
  fds.clear();
}

// Which running listener each of config's takes over (its sockets are dup'ed),
// or -1; each running listener passes to one new one. A listener with a fixed
// port takes the running one with the same address, else one bound to it (a
// ":0" listener that was given that port: writing the port down keeps the
// sockets, where a new socket would take a share of the connections and
// those queued in the old one would be reset when it closed). A ":0"
// listener then takes a running ":0" one on the same host, keeping its port.
std::vector<int> match_running(const config::Config& config, const config::Config* running_config,
                               const std::vector<std::vector<int>>& running_fds) {
  std::vector<int> reuse(config.listeners.size(), -1);
  const size_t nrunning = running_config != nullptr ? running_config->listeners.size() : 0;
  std::vector<bool> taken(nrunning, false);
  auto pass = [&](bool fixed_port, bool as_bound) {
    for (size_t i = 0; i < config.listeners.size(); ++i) {
      const config::SocketAddress& now = config.listeners[i].address;
      if (reuse[i] >= 0 || (config::detail::port_of(now) != 0) != fixed_port) continue;
      for (size_t j = 0; j < nrunning && reuse[i] < 0; ++j) {
        const config::SocketAddress& was = running_config->listeners[j].address;
        if (taken[j]) continue;
        if (as_bound ? (!running_fds.empty() && running_fds[0][j] >= 0 &&
                        config::detail::same_address(bound_address(was, running_fds[0][j]), now))
                     : config::detail::same_address(was, now)) {
          reuse[i] = static_cast<int>(j);
          taken[j] = true;
        }
      }
    }
  };
  pass(true, false);
  pass(true, true);
  pass(false, false);
  return reuse;
}

// The listening sockets of a generation: fds[worker][listener]. Every worker
// gets its own socket per listener, bound to the same port (SO_REUSEPORT). A
// listener the running generation (`running`, under `running_config`) also
// has keeps its sockets: each worker gets a duplicate of its predecessor's,
// so the port stays and no connection waiting in a socket's queue is lost.
bool open_sockets(const config::Config& config, size_t nworkers, const config::Config* running_config,
                  const Workers* running, std::vector<std::vector<int>>* fds, std::string* error) {
  fds->assign(nworkers, {});
  std::vector<std::vector<int>> running_fds;
  if (running != nullptr)
    for (const auto& w : *running) running_fds.push_back(w->listen_fds());
  const std::vector<int> reuse_of = match_running(config, running_config, running_fds);
  // Ports this process listens on already (the running generation's, as
  // bound, and this config's listeners opened so far): sharing them between
  // addresses is ours to do, so they are not probed for another owner.
  std::vector<int> our_ports;
  if (!running_fds.empty())
    for (int fd : running_fds[0]) our_ports.push_back(bound_port(fd));
  for (size_t i = 0; i < config.listeners.size(); ++i) {
    const auto& l = config.listeners[i];
    const int reuse = reuse_of[i];
    const int port = config::detail::port_of(l.address);
    int bound = 0;  // the port the first socket got: the other workers bind it too
    if (reuse < 0 && port != 0 &&
        std::find(our_ports.begin(), our_ports.end(), port) == our_ports.end() &&
        !port_is_free(l.address, error)) {
      close_all(*fds);
      return false;
    }
    for (size_t w = 0; w < nworkers; ++w) {
      int fd = -1;
      if (reuse >= 0 && w < running_fds.size() && running_fds[w][reuse] >= 0) {
        fd = fcntl(running_fds[w][reuse], F_DUPFD_CLOEXEC, 0);
        if (fd < 0) *error = "listener " + listener_key(l) + ": dup: " + strerror(errno);
        // The socket is shared with the running generation; listen() again
        // applies a changed backlog to it.
        else listen(fd, l.backlog);
      } else {
        fd = open_listener(l.address, l.backlog, &bound, error);
      }
      if (fd < 0) {
        (*fds)[w].push_back(-1);
        close_all(*fds);
        return false;
      }
      (*fds)[w].push_back(fd);
      if (bound == 0) bound = bound_port(fd);
    }
    our_ports.push_back(bound);
  }
  return true;
}

// Starts one worker per CPU on `snapshot`, each taking its sockets from fds.
// On failure stops those already started and returns false.
bool start_workers(const Snapshot& snapshot, const std::vector<int>& cpus,
                   std::vector<std::vector<int>>& fds, Workers* workers, std::string* error) {
  for (size_t w = 0; w < fds.size(); ++w) {
    int cpu = cpus[w % cpus.size()];
    workers->push_back(std::make_unique<Worker>(static_cast<int>(w), cpu, snapshot, std::move(fds[w])));
    fds[w].clear();
    if (!workers->back()->start(error)) {
      for (auto& started : *workers) started->request_stop();
      workers->clear();  // joins them and closes their sockets
      close_all(fds);
      return false;
    }
  }
  fds.clear();
  return true;
}

// The process: the running generation of workers, the generations still
// draining after reloads, and what finished workers counted.
class Server {
 public:
  explicit Server(const SnapshotLoader& load) : load_(load), cpus_(allowed_cpus()) {}

  int run();

 private:
  bool start(std::string* error);
  void reload();
  void reap_retired();
  void shut_down();

  const SnapshotLoader& load_;
  std::vector<int> cpus_;
  Snapshot snapshot_;
  Workers workers_;
  Workers retired_;  // draining after a reload
  proxy::ProxyStats finished_stats_;
  std::map<std::string, uint64_t> finished_filter_stats_;  // sorted: a stable line to read
};

bool Server::start(std::string* error) {
  if (!load_(nullptr, &snapshot_, error)) return false;
  std::vector<std::vector<int>> fds;
  size_t nworkers = worker_count(*snapshot_.config, cpus_);
  if (!open_sockets(*snapshot_.config, nworkers, nullptr, nullptr, &fds, error) ||
      !start_workers(snapshot_, cpus_, fds, &workers_, error)) {
    *error = "ringway: " + *error;
    return false;
  }
  for (auto& w : workers_) w->start_accepting();
  fprintf(stderr, "ringway %s: %zu worker(s), io_uring %s\n", RINGWAY_VERSION, nworkers,
          workers_.front()->ring_mode().c_str());
  const auto& listeners = snapshot_.config->listeners;
  const std::vector<int> fds0 = workers_.front()->listen_fds();
  for (size_t i = 0; i < listeners.size(); ++i) {
    const config::SocketAddress bound = bound_address(listeners[i].address, fds0[i]);
    const auto* sa = reinterpret_cast<const sockaddr*>(&bound.storage);
    printf("listening %s\n", format_address(sa).c_str());
  }
  fflush(stdout);
  return true;
}

// SIGHUP: load the configuration again; if it is valid, start a new
// generation of workers on it (taking over the listening sockets) and let the
// running one drain: requests in flight finish under the configuration they
// started with, idle connections are closed, new ones go to the new workers.
// If anything fails, the running generation keeps serving as it was.
void Server::reload() {
  std::string error;
  Snapshot next;
  if (!load_(&snapshot_, &next, &error)) {
    fprintf(stderr, "ringway: reload failed, still serving the previous configuration: %s\n",
            error.c_str());
    return;
  }
  size_t nworkers = worker_count(*next.config, cpus_);
  if (nworkers != workers_.size()) {
    fprintf(stderr,
            "ringway: reload failed, still serving the previous configuration: workers: "
            "%zu -> %zu needs a restart\n",
            workers_.size(), nworkers);
    return;
  }
  std::vector<std::vector<int>> fds;
  Workers next_workers;
  if (!open_sockets(*next.config, nworkers, snapshot_.config.get(), &workers_, &fds, &error) ||
      !start_workers(next, cpus_, fds, &next_workers, &error)) {
    fprintf(stderr, "ringway: reload failed, still serving the previous configuration: %s\n",
            error.c_str());
    return;
  }
  for (auto& w : workers_) w->request_drain();
  // Old and new workers share each listening socket, and io_uring polls an
  // accept exclusively: a connection arriving while an old worker's accept is
  // still armed wakes only that one, whose cancellation then drops the
  // wake-up, and the connection would wait in the queue unseen (found as a
  // request hanging after a reload). So the new workers accept only once the
  // old ones have let go; what queued meanwhile is taken at once.
  for (auto& w : workers_) w->wait_accepts_released(std::chrono::seconds(1));
  for (auto& w : next_workers) w->start_accepting();
  for (auto& w : workers_) retired_.push_back(std::move(w));
  // Each reload leaves workers draining for up to drain_timeout: a burst of
  // reloads while long requests are in flight would pile up threads, sockets
  // and memory. Past kMaxDraining on one CPU, its oldest stop now.
  constexpr size_t kMaxDraining = 4;
  std::vector<size_t> draining(nworkers, 0);
  for (size_t k = retired_.size(); k-- > 0;) {  // newest first
    Worker& w = *retired_[k];
    const auto index = static_cast<size_t>(w.index());
    if (!w.finished() && index < draining.size() && ++draining[index] > kMaxDraining)
      w.request_stop();
  }
  workers_ = std::move(next_workers);
  snapshot_ = std::move(next);
  fprintf(stderr, "ringway: configuration reloaded (%zu worker(s))\n", nworkers);
}

// Joins the workers of previous generations that finished draining. What
// their filters left behind (a response cache's entries) goes to the running
// worker of the same index, whose filters adopt what still applies: newest
// generation first, so that of two copies the newer is kept. The old
// snapshots are released here, on this thread, not in a serving worker.
void Server::reap_retired() {
  size_t handed_over = 0;
  for (size_t k = retired_.size(); k-- > 0;) {
    Worker& w = *retired_[k];
    if (!w.finished()) continue;
    w.join();
    add_stats(finished_stats_, finished_filter_stats_, w.stats());
    auto left = w.take_left();
    auto index = static_cast<size_t>(w.index());
    if (!left.empty() && index < workers_.size()) {
      handed_over += left.size();
      workers_[index]->hand_over(std::move(left));
    }
    retired_.erase(retired_.begin() + static_cast<std::ptrdiff_t>(k));
  }
  if (handed_over > 0)
    fprintf(stderr, "ringway: previous generation drained; %zu filter state(s) handed to the running workers\n",
            handed_over);
}

// The first SIGTERM/SIGINT drains every worker; a second stops them now.
void Server::shut_down() {
  Workers all = std::move(workers_);
  for (auto& w : retired_) all.push_back(std::move(w));
  retired_.clear();
  for (auto& w : all) w->request_drain();
  // Join in a helper thread so a second signal can still cut the drain short.
  std::atomic<bool> joined{false};
  std::thread joiner([&] {
    for (auto& w : all) w->join();
    joined.store(true);
    kill(getpid(), SIGTERM);  // wake the sigwait below
  });
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&stop_signals, s);
  while (!joined.load()) {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!joined.load() && (sig == SIGINT || sig == SIGTERM)) {
      fprintf(stderr, "ringway: stopping now\n");
      for (auto& w : all) w->request_stop();
    }
  }
  joiner.join();
  for (auto& w : all) add_stats(finished_stats_, finished_filter_stats_, w->stats());
  print_stats(finished_stats_, finished_filter_stats_);
}

int Server::run() {
  // Signals are taken by the main thread alone; workers never see them.
  // SIGPIPE is blocked everywhere: sends use MSG_NOSIGNAL anyway.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::string error;
  if (!start(&error)) {
    fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  for (;;) {
    // Wakes to join generations that finished draining: often while one is
    // (its workers' caches go to the running ones then), else once a second.
    timespec wait{1, 0};
    if (!retired_.empty()) wait = {0, 50'000'000};
    int sig = sigtimedwait(&signals, nullptr, &wait);
    reap_retired();
    if (sig == SIGINT || sig == SIGTERM) {
      fprintf(stderr, "ringway: draining (signal %d)\n", sig);
      break;
    }
    if (sig == SIGHUP) reload();
  }
  shut_down();
  return 0;
}

}  // namespace

int run_server(const SnapshotLoader& load) { return Server(load).run(); }

}  // namespace ringway::core
