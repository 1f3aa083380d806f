#include "config/loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "config/parse.h"
#include "config/yaml_reader.h"

namespace ringway::config {
namespace {

using detail::Field;
using detail::MapReader;

LoadResult failure(const std::string& file_name, const YAML::Mark& mark, const std::string& message) {
  return {nullptr, detail::format_error(file_name, mark, message)};
}

void build(const YAML::Node& root, const std::string& file_name, Config& config) {
  config.source_file = file_name;
  MapReader map(root, "at top level", "", {"listen", "workers", "engine", "limits", "upstreams", "filters",
                                        "default_filters", "routes"});
  detail::parse_listeners(map.require("listen"), config.listeners);
  if (const Field* f = map.find("workers")) detail::parse_workers(*f, config.engine);
  if (const Field* f = map.find("engine")) detail::parse_engine(*f, config.engine);
  if (const Field* f = map.find("limits")) detail::parse_limits(*f, config.limits);
  detail::parse_upstreams(map.require("upstreams"), config.upstreams);
  if (const Field* f = map.find("filters")) detail::parse_filters(*f, config.filters);
  if (const Field* f = map.find("default_filters"))
    config.default_filters = detail::parse_filter_names(*f, config.filters);
  detail::parse_routes(map.require("routes"), file_name, config);
}

}  // namespace

LoadResult load_config_string(const std::string& yaml, const std::string& file_name) {
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(yaml);
    if (documents.empty() || documents[0].IsNull())
      return {nullptr, file_name + ":1:1: the configuration is empty"};
    if (documents.size() > 1)
      // Silently ignoring everything after a stray "---" would be a nasty surprise.
      return failure(file_name, documents[1].Mark(),
                     "a second YAML document; the configuration must be a single document");
    auto config = std::make_shared<Config>();
    build(documents[0], file_name, *config);
    return {std::move(config), ""};
  } catch (const detail::ConfigError& e) {
    return failure(file_name, e.mark, e.message);
  } catch (const YAML::Exception& e) {
    // e.msg is the bare message; e.what() repeats the position in prose.
    return failure(file_name, e.mark, e.msg);
  } catch (const std::exception& e) {
    return {nullptr, file_name + ": " + e.what()};
  }
}

LoadResult load_config_file(const std::string& path) {
  // A configuration is a regular file of sane size: a FIFO would block a
  // reload, /dev/zero would never end (O_NONBLOCK only keeps open() itself
  // from waiting for a FIFO's writer).
  constexpr off_t kMaxConfigBytes = 16 << 20;
  std::string text;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return {nullptr, path + ": cannot read: " + std::strerror(errno)};
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > kMaxConfigBytes) {
    ::close(fd);
    return {nullptr, path + (S_ISREG(st.st_mode) ? ": larger than 16 MiB" : ": not a regular file")};
  }
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) {
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(kMaxConfigBytes)) {  // grew while read
        ::close(fd);
        return {nullptr, path + ": larger than 16 MiB"};
      }
    } else if (n == 0) {
      break;
    } else if (errno != EINTR) {
      int saved = errno;
      ::close(fd);
      return {nullptr, path + ": cannot read: " + std::strerror(saved)};
    }
  }
  ::close(fd);
  return load_config_string(text, path);
}

}  // namespace ringway::config
