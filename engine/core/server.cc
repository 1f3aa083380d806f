#include "engine/core/server.h"

#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <atomic>
#include <thread>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/listener.h"
#include "engine/core/version.h"
#include "engine/core/worker.h"
#include "engine/routing/router.h"

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

void print_stats(const std::vector<std::unique_ptr<Worker>>& workers) {
  proxy::ProxyStats t;
  std::map<std::string, uint64_t> filters;  // sorted: a stable line to read
  for (const auto& w : workers) {
    const auto& s = w->stats();
    t.connections_accepted += s.connections_accepted;
    t.connections_refused += s.connections_refused;
    t.requests += s.requests;
    t.local_responses += s.local_responses;
    t.filter_responses += s.filter_responses;
    t.upstream_connects += s.upstream_connects;
    t.upstream_reuses += s.upstream_reuses;
    t.upstream_retries += s.upstream_retries;
    t.upstream_failures += s.upstream_failures;
    for (const auto& [name, value] : s.filters) filters[name] += value;
  }
  std::string filter_json;
  for (const auto& [name, value] : filters)
    filter_json += (filter_json.empty() ? "\"" : ",\"") + name + "\":" + std::to_string(value);
  fprintf(stderr,
          "ringway: stopped {\"connections_accepted\":%llu,\"connections_refused\":%llu,"
          "\"requests\":%llu,\"local_responses\":%llu,\"filter_responses\":%llu,"
          "\"upstream_connects\":%llu,"
          "\"upstream_reuses\":%llu,\"upstream_retries\":%llu,\"upstream_failures\":%llu,"
          "\"filters\":{%s}}\n",
          (unsigned long long)t.connections_accepted, (unsigned long long)t.connections_refused,
          (unsigned long long)t.requests, (unsigned long long)t.local_responses,
          (unsigned long long)t.filter_responses,
          (unsigned long long)t.upstream_connects, (unsigned long long)t.upstream_reuses,
          (unsigned long long)t.upstream_retries, (unsigned long long)t.upstream_failures,
          filter_json.c_str());
}

}  // namespace

int run_server(const config::ConfigPtr& config, const filter::FilterSetPtr& filters) {
  std::string error;
  std::shared_ptr<const routing::Router> router = routing::Router::build(*config, &error);
  if (!router) {
    fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }

  // Signals are taken by the main thread alone (sigwait below); workers never
  // see them. SIGPIPE is blocked everywhere: sends use MSG_NOSIGNAL anyway.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&signals, s);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::vector<int> cpus = allowed_cpus();
  size_t nworkers = config->engine.workers != 0 ? config->engine.workers : cpus.size();

  // Every worker gets its own socket per listener, bound to the same port.
  std::vector<int> ports(config->listeners.size(), 0);
  std::vector<std::vector<int>> fds(nworkers);
  for (size_t w = 0; w < nworkers; ++w) {
    for (size_t i = 0; i < config->listeners.size(); ++i) {
      const auto& l = config->listeners[i];
      int fd = open_listener(l.address, l.backlog, &ports[i], &error);
      if (fd < 0) {
        fprintf(stderr, "ringway: %s\n", error.c_str());
        return 1;
      }
      fds[w].push_back(fd);
    }
  }

  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t w = 0; w < nworkers; ++w) {
    int cpu = cpus[w % cpus.size()];
    workers.push_back(std::make_unique<Worker>(static_cast<int>(w), cpu, config, router, filters,
                                               std::move(fds[w])));
    if (!workers.back()->start(&error)) {
      fprintf(stderr, "ringway: %s\n", error.c_str());
      for (auto& started : workers) started->request_stop();
      return 1;
    }
  }
  fprintf(stderr, "ringway %s: %zu worker(s), io_uring %s\n", RINGWAY_VERSION, nworkers,
          workers.front()->ring_mode().c_str());
  for (size_t i = 0; i < config->listeners.size(); ++i) {
    sockaddr_storage ss = config->listeners[i].address.storage;
    if (ss.ss_family == AF_INET6)
      reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(static_cast<uint16_t>(ports[i]));
    else
      reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(static_cast<uint16_t>(ports[i]));
    printf("listening %s\n", format_address(reinterpret_cast<sockaddr*>(&ss)).c_str());
  }
  fflush(stdout);

  // Wait for a signal. The first SIGTERM/SIGINT drains; a second stops now.
  int stops = 0;
  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGINT || sig == SIGTERM) {
      if (stops++ == 0) {
        fprintf(stderr, "ringway: draining (signal %d)\n", sig);
        for (auto& w : workers) w->request_drain();
        break;
      }
    } else if (sig == SIGHUP) {
      fprintf(stderr, "ringway: SIGHUP ignored (reload is not implemented yet)\n");
    }
  }
  // Join in a helper thread so a second signal can still cut the drain short.
  std::atomic<bool> joined{false};
  std::thread joiner([&] {
    for (auto& w : workers) w->join();
    joined.store(true);
    kill(getpid(), SIGTERM);  // wake the sigwait below
  });
  while (!joined.load()) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!joined.load() && (sig == SIGINT || sig == SIGTERM)) {
      fprintf(stderr, "ringway: stopping now\n");
      for (auto& w : workers) w->request_stop();
    }
  }
  joiner.join();
  print_stats(workers);
  return 0;
}

}  // namespace ringway::core
