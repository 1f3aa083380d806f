// SEND_ZC crossover: at which send size does IORING_OP_SEND_ZC cost the
// sender less CPU per MiB than a plain (copying) IORING_OP_SEND?
//
// Over loopback TCP (127.0.0.1): this thread sends with io_uring, one send in
// flight per socket as the proxy does (engine/proxy/io.cc: MSG_NOSIGNAL |
// MSG_WAITALL); a receiver thread pinned to another CPU drains the socket with
// blocking recv() into a 1 MiB buffer. Modes:
//   copy      IORING_OP_SEND
//   zc        IORING_OP_SEND_ZC (buffers not registered: pages pinned per send,
//             as the proxy's provided receive buffers would be)
//   zc_fixed  IORING_OP_SEND_ZC on io_uring_register_buffers() memory
// plus the proxy's body-forwarding shape, 8 x 16 KiB iovecs per op:
//   iov_copy  IORING_OP_SENDMSG
//   iov_zc    IORING_OP_SENDMSG_ZC
// A ZC op produces two CQEs: the result (IORING_CQE_F_MORE set when a
// notification follows) and the notification (IORING_CQE_F_NOTIF), after which
// the buffer may be reused. Buffers rotate over 8 slots, so the next send can
// start while earlier notifications are outstanding; a slot is reused only
// after its notification. A run ends once every notification is in.
//
// Measured per run: sender thread CPU (getrusage RUSAGE_THREAD, user+sys),
// sender-side process CPU (CLOCK_PROCESS_CPUTIME_ID minus the receiver
// thread's clock: adds io-wq workers, if the kernel punts to them), receiver
// CPU, wall time. Reported: median of the repetitions.
//
// Usage: ringway-micro-sendzc [--seconds S] [--warmup S] [--max-gib G] [--reps N]
//                             [--sizes 1k,4k,...] [--sender-cpu C] [--receiver-cpu C]

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

namespace {

constexpr int kSlots = 8;
constexpr size_t kIovChunk = 16 * 1024;
constexpr int kIovCount = 8;
constexpr double kMiB = 1024.0 * 1024.0;

enum class Mode { kCopy, kZc, kZcFixed, kIovCopy, kIovZc };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kCopy: return "copy";
    case Mode::kZc: return "zc";
    case Mode::kZcFixed: return "zc_fixed";
    case Mode::kIovCopy: return "iov_copy";
    case Mode::kIovZc: return "iov_zc";
  }
  return "?";
}
bool is_zc(Mode m) { return m == Mode::kZc || m == Mode::kZcFixed || m == Mode::kIovZc; }

[[noreturn]] void die(const char* what, int err) {
  std::fprintf(stderr, "ringway-micro-sendzc: %s: %s\n", what, std::strerror(err));
  std::exit(1);
}

double ts_seconds(const timespec& t) { return t.tv_sec + t.tv_nsec * 1e-9; }
double clock_s(clockid_t id) {
  timespec t;
  clock_gettime(id, &t);
  return ts_seconds(t);
}
long thread_sleeps() {
  rusage u;
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_nvcsw;
}
double thread_rusage_s() {
  rusage u;
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_utime.tv_sec + u.ru_utime.tv_usec * 1e-6 + u.ru_stime.tv_sec +
         u.ru_stime.tv_usec * 1e-6;
}

void pin_self(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0)
    die("pthread_setaffinity_np", rc);
}

struct Args {
  double seconds = 2.0;
  double warmup = 0.5;
  double max_gib = 4.0;
  int reps = 3;
  std::vector<size_t> sizes = {1024, 4096, 16384, 65536, 262144, 1048576};
  int sender_cpu = -1;
  int receiver_cpu = -1;
};

size_t parse_size(const char* s) {
  char* end = nullptr;
  double v = std::strtod(s, &end);
  if (*end == 'k' || *end == 'K') v *= 1024;
  else if (*end == 'm' || *end == 'M') v *= 1024 * 1024;
  return static_cast<size_t>(v);
}

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "missing value for %s\n", k.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--seconds") a.seconds = std::atof(next());
    else if (k == "--warmup") a.warmup = std::atof(next());
    else if (k == "--max-gib") a.max_gib = std::atof(next());
    else if (k == "--reps") a.reps = std::atoi(next());
    else if (k == "--sender-cpu") a.sender_cpu = std::atoi(next());
    else if (k == "--receiver-cpu") a.receiver_cpu = std::atoi(next());
    else if (k == "--sizes") {
      a.sizes.clear();
      std::string list = next();
      size_t p = 0;
      while (p <= list.size()) {
        size_t c = list.find(',', p);
        if (c == std::string::npos) c = list.size();
        a.sizes.push_back(parse_size(list.substr(p, c - p).c_str()));
        p = c + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: %s [--seconds S] [--warmup S] [--max-gib G] [--reps N] [--sizes 1k,4k,...] "
                   "[--sender-cpu C] [--receiver-cpu C]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (a.sender_cpu < 0 || a.receiver_cpu < 0) {
    // Default: the first two CPUs this process may run on.
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (a.sender_cpu < 0) a.sender_cpu = cpus.empty() ? -1 : cpus[0];
    if (a.receiver_cpu < 0) a.receiver_cpu = cpus.size() > 1 ? cpus[1] : -1;
  }
  return a;
}

// A connected loopback pair: `tx` is ours, `rx` the receiver's.
struct Pair {
  int tx = -1;
  int rx = -1;
};

Pair connect_pair() {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) die("socket", errno);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("bind", errno);
  if (listen(l, 1) < 0) die("listen", errno);
  getsockname(l, reinterpret_cast<sockaddr*>(&a), &len);
  Pair p;
  p.tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p.tx < 0) die("socket", errno);
  if (connect(p.tx, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) die("connect", errno);
  p.rx = accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  if (p.rx < 0) die("accept", errno);
  close(l);
  int one = 1;
  setsockopt(p.tx, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // as the proxy's sockets
  return p;
}

struct Receiver {
  std::thread thread;
  pthread_t handle{};
  clockid_t clock{};
  std::atomic<bool> ready{false};
  uint64_t bytes = 0;

  void start(int fd, int cpu) {
    thread = std::thread([this, fd, cpu] {
      pin_self(cpu);
      pthread_getcpuclockid(pthread_self(), &clock);
      ready.store(true, std::memory_order_release);
      std::vector<char> buf(1 << 20);
      for (;;) {
        ssize_t n = recv(fd, buf.data(), buf.size(), 0);
        if (n > 0) {
          bytes += static_cast<uint64_t>(n);
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        break;
      }
    });
    while (!ready.load(std::memory_order_acquire)) sched_yield();
  }
};

struct Ring {
  io_uring ring{};
  const char* setup = "";
  Ring() {
    struct Try {
      unsigned flags;
      const char* name;
    } tries[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
         "single_issuer+defer_taskrun"},
        {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SUBMIT_ALL, "coop_taskrun"},
        {0, "basic"},
    };
    int rc = -EINVAL;
    for (const Try& t : tries) {
      io_uring_params p{};
      p.flags = t.flags;
      rc = io_uring_queue_init_params(64, &ring, &p);
      if (rc == 0) {
        setup = t.name;
        return;
      }
    }
    die("io_uring_queue_init", -rc);
  }
  ~Ring() { io_uring_queue_exit(&ring); }
  io_uring_sqe* sqe() {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    if (s == nullptr) {
      io_uring_submit(&ring);
      s = io_uring_get_sqe(&ring);
    }
    return s;
  }
};

struct Result {
  uint64_t bytes = 0;
  uint64_t ops = 0;
  uint64_t notifs = 0;
  uint64_t notifs_copied = 0;  // IORING_NOTIF_USAGE_ZC_COPIED: the kernel copied anyway
  double wall_s = 0;
  double thread_cpu_s = 0;     // sender thread, getrusage(RUSAGE_THREAD)
  double sender_side_cpu_s = 0;  // process minus receiver thread
  double receiver_cpu_s = 0;
  long sleeps = 0;  // sender thread's voluntary context switches (waits for a CQE)
  int error = 0;  // first negative CQE result, 0 if none

  double mib() const { return bytes / kMiB; }
  double thread_us_per_mib() const { return thread_cpu_s * 1e6 / mib(); }
  double side_us_per_mib() const { return sender_side_cpu_s * 1e6 / mib(); }
  double recv_us_per_mib() const { return receiver_cpu_s * 1e6 / mib(); }
  double mib_per_s() const { return mib() / wall_s; }
};

// Memory for one run: kSlots buffers of `size` bytes, page aligned.
struct Buffers {
  std::vector<char*> slot;
  size_t size = 0;
  Buffers(size_t sz) : size(sz) {
    for (int i = 0; i < kSlots; ++i) {
      void* p = nullptr;
      if (posix_memalign(&p, 4096, std::max<size_t>(sz, 4096)) != 0) die("posix_memalign", ENOMEM);
      std::memset(p, 'a' + i, sz);
      slot.push_back(static_cast<char*>(p));
    }
  }
  ~Buffers() {
    for (char* p : slot) std::free(p);
  }
};

bool g_report_usage = true;  // IORING_SEND_ZC_REPORT_USAGE accepted by the kernel

Result run_once(Mode mode, size_t size, const Args& args) {
  const bool iov = mode == Mode::kIovCopy || mode == Mode::kIovZc;
  if (iov) size = kIovChunk * kIovCount;
  Ring r;
  Buffers bufs(size);
  if (mode == Mode::kZcFixed) {
    iovec regs[kSlots];
    for (int i = 0; i < kSlots; ++i) regs[i] = {bufs.slot[i], size};
    if (int rc = io_uring_register_buffers(&r.ring, regs, kSlots); rc < 0)
      die("io_uring_register_buffers", -rc);
  }
  Pair pair = connect_pair();
  Receiver rx;
  rx.start(pair.rx, args.receiver_cpu);

  // Per slot: notifications still owed (buffer busy while > 0), and for the
  // iov modes the msghdr/iovecs that must stay put while the op is in flight.
  int owed[kSlots] = {};
  msghdr msgs[kSlots];
  iovec iovs[kSlots][kIovCount];

  Result res;
  const uint64_t max_bytes = static_cast<uint64_t>(args.max_gib * 1024 * kMiB);
  const unsigned zc_flags = g_report_usage ? IORING_SEND_ZC_REPORT_USAGE : 0;
  constexpr int kFlags = MSG_NOSIGNAL | MSG_WAITALL;

  // Handles one CQE; returns true when it is the result of the op in flight.
  uint64_t want = 0;  // user_data of the op in flight
  int64_t last_res = 0;
  auto handle = [&](io_uring_cqe* cqe) -> bool {
    const uint64_t ud = cqe->user_data;
    const int s = static_cast<int>(ud & 0xff);
    if (cqe->flags & IORING_CQE_F_NOTIF) {
      --owed[s];
      ++res.notifs;
      if (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) ++res.notifs_copied;
      return false;
    }
    if (cqe->flags & IORING_CQE_F_MORE) ++owed[s];
    if (cqe->res < 0 && res.error == 0) res.error = cqe->res;
    last_res = cqe->res;
    return ud == want;
  };
  auto reap_one = [&]() -> bool {
    io_uring_cqe* cqe = nullptr;
    int rc = io_uring_wait_cqe(&r.ring, &cqe);
    if (rc == -EINTR) return false;
    if (rc < 0) die("io_uring_wait_cqe", -rc);
    bool mine = handle(cqe);
    io_uring_cqe_seen(&r.ring, cqe);
    return mine;
  };

  uint64_t seq = 0;
  int s = 0;
  // Sends for `seconds` or `cap` bytes, then waits for every notification
  // (they belong to the cost of the bytes sent).
  auto pump = [&](double seconds, uint64_t cap, uint64_t& bytes, uint64_t& ops) {
    const double deadline = clock_s(CLOCK_MONOTONIC) + seconds;
    for (uint64_t n = 0; res.error == 0 && bytes < cap; ++n) {
      if ((n & 15) == 0 && clock_s(CLOCK_MONOTONIC) >= deadline) break;
      s = (s + 1) % kSlots;
      while (owed[s] > 0) reap_one();  // its notification: the buffer is free again
      size_t off = 0;
      while (off < size && res.error == 0) {
        io_uring_sqe* sqe = r.sqe();
        char* base = bufs.slot[s] + off;
        const size_t len = size - off;
        switch (mode) {
          case Mode::kCopy:
            io_uring_prep_send(sqe, pair.tx, base, len, kFlags);
            break;
          case Mode::kZc:
            io_uring_prep_send_zc(sqe, pair.tx, base, len, kFlags, zc_flags);
            break;
          case Mode::kZcFixed:
            io_uring_prep_send_zc_fixed(sqe, pair.tx, base, len, kFlags, zc_flags, s);
            break;
          case Mode::kIovCopy:
          case Mode::kIovZc: {
            // Rebuild the iovecs from `off` (a short send resumes mid-chunk).
            msghdr& m = msgs[s];
            std::memset(&m, 0, sizeof m);
            int n = 0;
            for (int i = 0; i < kIovCount; ++i) {
              const size_t lo = i * kIovChunk, hi = lo + kIovChunk;
              if (hi <= off) continue;
              const size_t from = std::max(lo, off);
              iovs[s][n++] = {bufs.slot[s] + from, hi - from};
            }
            m.msg_iov = iovs[s];
            m.msg_iovlen = n;
            if (mode == Mode::kIovCopy) {
              io_uring_prep_sendmsg(sqe, pair.tx, &m, kFlags);
            } else {
              io_uring_prep_sendmsg_zc(sqe, pair.tx, &m, kFlags);
              sqe->ioprio |= zc_flags;
            }
            break;
          }
        }
        want = (++seq << 8) | static_cast<uint64_t>(s);
        io_uring_sqe_set_data64(sqe, want);
        io_uring_submit(&r.ring);
        while (!reap_one()) {
        }
        ++ops;
        if (last_res > 0) {
          off += static_cast<size_t>(last_res);
          bytes += static_cast<uint64_t>(last_res);
        } else if (last_res == 0 && res.error == 0) {
          res.error = -EPIPE;
        }
      }
    }
    for (int i = 0; i < kSlots; ++i)
      while (owed[i] > 0) reap_one();
  };

  // Warm-up, not measured: keeps a fresh connection's window and buffer
  // auto-tuning out of the numbers (a precaution; no effect was measurable
  // above the noise of a shared machine).
  uint64_t warm_bytes = 0, warm_ops = 0;
  if (args.warmup > 0) pump(args.warmup, max_bytes, warm_bytes, warm_ops);
  res.notifs = res.notifs_copied = 0;

  const double t0 = clock_s(CLOCK_MONOTONIC);
  const double thread0 = thread_rusage_s();
  const double proc0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  const double recv0 = clock_s(rx.clock);
  const long sleeps0 = thread_sleeps();
  pump(args.seconds, max_bytes, res.bytes, res.ops);
  const double t1 = clock_s(CLOCK_MONOTONIC);
  const double thread1 = thread_rusage_s();
  const double proc1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  const double recv1 = clock_s(rx.clock);
  res.sleeps = thread_sleeps() - sleeps0;

  shutdown(pair.tx, SHUT_WR);
  rx.thread.join();
  close(pair.tx);
  close(pair.rx);
  if (res.error == 0 && rx.bytes != warm_bytes + res.bytes) {
    std::fprintf(stderr, "byte count mismatch: sent %llu, received %llu\n",
                 static_cast<unsigned long long>(warm_bytes + res.bytes),
                 static_cast<unsigned long long>(rx.bytes));
    std::exit(1);
  }
  res.wall_s = t1 - t0;
  res.thread_cpu_s = thread1 - thread0;
  res.receiver_cpu_s = recv1 - recv0;
  res.sender_side_cpu_s = (proc1 - proc0) - res.receiver_cpu_s;
  return res;
}

// Does this kernel take SEND_ZC? Returns 0, or the negative errno it answered.
int probe_send_zc(bool report_usage) {
  io_uring_probe* probe = io_uring_get_probe();
  if (probe != nullptr) {
    bool ok = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
    io_uring_free_probe(probe);
    if (!ok) return -EOPNOTSUPP;
  }
  Ring r;
  Pair pair = connect_pair();
  static char buf[4096];
  io_uring_sqe* sqe = r.sqe();
  io_uring_prep_send_zc(sqe, pair.tx, buf, sizeof buf, MSG_NOSIGNAL,
                        report_usage ? IORING_SEND_ZC_REPORT_USAGE : 0);
  io_uring_submit(&r.ring);
  int result = 0;
  bool more = false, done = false;
  while (!done || more) {
    io_uring_cqe* cqe = nullptr;
    if (io_uring_wait_cqe(&r.ring, &cqe) < 0) break;
    if (cqe->flags & IORING_CQE_F_NOTIF) {
      more = false;
    } else {
      result = cqe->res;
      more = cqe->flags & IORING_CQE_F_MORE;
      done = true;
    }
    io_uring_cqe_seen(&r.ring, cqe);
  }
  close(pair.tx);
  close(pair.rx);
  return result < 0 ? result : 0;
}

Result median_of(std::vector<Result> runs) {
  // Median by sender-thread CPU per MiB; throughput's median is taken separately.
  std::sort(runs.begin(), runs.end(), [](const Result& a, const Result& b) {
    return a.thread_us_per_mib() < b.thread_us_per_mib();
  });
  Result m = runs[(runs.size() - 1) / 2];
  std::vector<double> side, recv, tput;
  for (const Result& r : runs) {
    side.push_back(r.side_us_per_mib());
    recv.push_back(r.recv_us_per_mib());
    tput.push_back(r.mib_per_s());
  }
  std::sort(side.begin(), side.end());
  std::sort(recv.begin(), recv.end());
  std::sort(tput.begin(), tput.end());
  const size_t k = (runs.size() - 1) / 2;
  // Store the medians back in units the printers use.
  m.sender_side_cpu_s = side[k] * m.mib() / 1e6;
  m.receiver_cpu_s = recv[k] * m.mib() / 1e6;
  m.wall_s = m.mib() / tput[k];
  return m;
}

std::string size_label(size_t n) {
  char b[32];
  if (n >= 1024 * 1024 && n % (1024 * 1024) == 0) std::snprintf(b, sizeof b, "%zu MiB", n >> 20);
  else if (n >= 1024 && n % 1024 == 0) std::snprintf(b, sizeof b, "%zu KiB", n >> 10);
  else std::snprintf(b, sizeof b, "%zu B", n);
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // the table and stderr progress interleave sanely
  pin_self(args.sender_cpu);

  utsname u{};
  uname(&u);
  {
    Ring r;
    std::printf("# SEND_ZC crossover, loopback TCP; kernel %s; ring %s\n", u.release, r.setup);
  }
  std::printf("# sender cpu %d, receiver cpu %d; per run: %.1f s warm-up, then %.1f s or %.1f GiB "
              "measured; %d reps; median\n",
              args.sender_cpu, args.receiver_cpu, args.warmup, args.seconds, args.max_gib, args.reps);

  int zc = probe_send_zc(true);
  if (zc == -EINVAL) {
    // Kernels before 6.2 refuse IORING_SEND_ZC_REPORT_USAGE; try without.
    if (probe_send_zc(false) == 0) {
      g_report_usage = false;
      zc = 0;
    }
  }
  if (zc != 0) {
    std::printf("# SEND_ZC REFUSED by this kernel: %s (%d); only copy measured\n",
                std::strerror(-zc), zc);
  } else {
    std::printf("# SEND_ZC accepted%s\n",
                g_report_usage ? "; notifications report whether the kernel copied anyway"
                               : " (no usage reporting)");
  }

  std::vector<std::pair<size_t, std::vector<Mode>>> plan;
  for (size_t sz : args.sizes) {
    std::vector<Mode> modes = {Mode::kCopy};
    if (zc == 0) {
      modes.push_back(Mode::kZc);
      modes.push_back(Mode::kZcFixed);
    }
    plan.push_back({sz, modes});
  }
  // The proxy's shape: 8 x 16 KiB iovecs per sendmsg (size 0 marks it).
  plan.push_back({0, zc == 0 ? std::vector<Mode>{Mode::kIovCopy, Mode::kIovZc}
                             : std::vector<Mode>{Mode::kIovCopy}});

  // results[row][mode][rep]; reps interleaved (rep-major) to spread drift.
  std::vector<std::vector<std::vector<Result>>> runs(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) runs[i].resize(plan[i].second.size());
  for (int rep = 0; rep < args.reps; ++rep) {
    for (size_t i = 0; i < plan.size(); ++i) {
      for (size_t m = 0; m < plan[i].second.size(); ++m) {
        Result r = run_once(plan[i].second[m], plan[i].first, args);
        if (r.error != 0) {
          std::printf("# %s %s: error %s (%d)\n", mode_name(plan[i].second[m]),
                      plan[i].first ? size_label(plan[i].first).c_str() : "8x16KiB",
                      std::strerror(-r.error), r.error);
        }
        std::fprintf(stderr, "  rep %d %-9s %-9s %8.0f MiB/s  thread %7.1f us/MiB  side %7.1f us/MiB\n",
                     rep + 1, plan[i].first ? size_label(plan[i].first).c_str() : "8x16KiB",
                     mode_name(plan[i].second[m]), r.mib_per_s(), r.thread_us_per_mib(),
                     r.side_us_per_mib());
        runs[i][m].push_back(r);
      }
    }
  }

  // ZC vs copy is judged on paired runs: in each repetition the copy run and
  // the ZC runs of one size ran back to back, so their ratio cancels most of
  // the drift a shared machine adds. "won" counts the repetitions where ZC
  // used less sender-thread CPU per MiB than copy; a size counts as a ZC win
  // when the median paired ratio is below 1 (ZC won in most repetitions).
  std::printf("\n%-10s %-9s %8s %12s %12s %12s %6s %9s %8s %9s %6s\n", "size", "mode", "MiB/s",
              "send us/MiB", "+wq us/MiB", "recv us/MiB", "busy%", "sleeps/op", "copied%",
              "cpu/copy", "won");
  std::vector<double> zc_ratio, fixed_ratio;
  std::vector<std::string> labels;
  double iov_ratio = 0;
  int iov_won = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string label = plan[i].first ? size_label(plan[i].first) : "8x16 KiB";
    for (size_t m = 0; m < plan[i].second.size(); ++m) {
      const Mode mode = plan[i].second[m];
      Result r = median_of(runs[i][m]);
      char copied[16] = "-", ratio_text[16] = "-", won_text[16] = "-";
      double ratio = 1.0;
      int won = 0;
      if (is_zc(mode)) {
        if (g_report_usage && r.notifs > 0)
          std::snprintf(copied, sizeof copied, "%.0f", 100.0 * r.notifs_copied / r.notifs);
        std::vector<double> ratios;
        for (size_t k = 0; k < runs[i][m].size(); ++k) {
          ratios.push_back(runs[i][m][k].thread_us_per_mib() / runs[i][0][k].thread_us_per_mib());
          if (ratios.back() < 1.0) ++won;
        }
        std::sort(ratios.begin(), ratios.end());
        ratio = ratios[(ratios.size() - 1) / 2];
        std::snprintf(ratio_text, sizeof ratio_text, "%.2f", ratio);
        std::snprintf(won_text, sizeof won_text, "%d/%zu", won, ratios.size());
      }
      // busy%: sender thread CPU / wall; well below 100 with sleeps/op near 0
      // means the CPU was taken by other load (a shared machine), not idle.
      std::printf("%-10s %-9s %8.0f %12.1f %12.1f %12.1f %6.0f %9.2f %8s %9s %6s\n",
                  label.c_str(), mode_name(mode), r.mib_per_s(), r.thread_us_per_mib(),
                  r.side_us_per_mib(), r.recv_us_per_mib(),
                  100.0 * r.thread_us_per_mib() * r.mib_per_s() / 1e6,
                  r.ops ? double(r.sleeps) / r.ops : 0.0, copied, ratio_text, won_text);
      if (mode == Mode::kZc) {
        zc_ratio.push_back(ratio);
        labels.push_back(label);
      }
      if (mode == Mode::kZcFixed) fixed_ratio.push_back(ratio);
      if (mode == Mode::kIovZc) {
        iov_ratio = ratio;
        iov_won = won;
      }
    }
  }
  std::printf("\n");
  if (zc != 0) {
    std::printf("VERDICT: SEND_ZC unavailable on this kernel (%s)\n", std::strerror(-zc));
  } else {
    // The smallest size where ZC used less sender CPU per MiB than copy, and
    // whether it also did at every larger size.
    auto crossover = [&](const std::vector<double>& ratios) -> std::string {
      for (size_t i = 0; i < ratios.size(); ++i) {
        if (ratios[i] >= 1.0) continue;
        bool all = std::all_of(ratios.begin() + i, ratios.end(), [](double r) { return r < 1.0; });
        char b[32];
        std::snprintf(b, sizeof b, " (%.2fx copy)", ratios[i]);
        return labels[i] + b + (all ? ", and at every larger size" : ", but not at every larger size");
      }
      return "never on this machine";
    };
    std::printf("VERDICT: SEND_ZC uses less sender CPU per MiB than SEND from: %s\n",
                crossover(zc_ratio).c_str());
    std::printf("VERDICT: SEND_ZC on registered buffers: %s\n", crossover(fixed_ratio).c_str());
    std::printf("VERDICT: proxy shape (SENDMSG_ZC vs SENDMSG, 8 x 16 KiB iovecs): ZC %s, "
                "%.2fx the sender CPU per MiB of copy, won %d/%d reps\n",
                iov_ratio < 1.0 ? "wins" : "loses", iov_ratio, iov_won, args.reps);
  }
  return 0;
}
