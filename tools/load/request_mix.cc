#include "tools/load/request_mix.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ringway::load {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

bool has_control(std::string_view text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

struct Field {
  std::string text;
  bool quoted = false;  // some part was quoted: never a header name or marker
};

// Splits a line into fields the way a shell would for double quotes only:
// blanks separate fields, "..." keeps blanks and knows \" \\ \n \r \t.
bool split_fields(std::string_view line, std::vector<Field>& fields, std::string& error) {
  size_t i = 0;
  while (true) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i >= line.size()) return true;
    Field field;
    while (i < line.size() && !is_blank(line[i])) {
      if (line[i] != '"') {
        field.text += line[i++];
        continue;
      }
      field.quoted = true;
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < line.size()) {
          char e = line[i++];
          switch (e) {
            case 'n':
              c = '\n';
              break;
            case 'r':
              c = '\r';
              break;
            case 't':
              c = '\t';
              break;
            case '"':
            case '\\':
              c = e;
              break;
            default:
              error = std::string("unknown escape '\\") + e + "' in quoted field";
              return false;
          }
        }
        field.text += c;
      }
      if (!closed) {
        error = "unterminated double quote";
        return false;
      }
    }
    fields.push_back(std::move(field));
  }
}

bool read_file(const std::string& path, std::string& out) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return false;
  if (!S_ISREG(st.st_mode)) {
    errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;  // what the caller reports
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return false;
  out = buf.str();
  return true;
}

bool valid_header(const Header& h, std::string& error) {
  if (!is_token(h.name)) {
    error = "bad header name '" + h.name + "'";
    return false;
  }
  if (has_control(h.value)) {
    error = "header '" + h.name + "' has a control character in its value";
    return false;
  }
  if (iequals(h.name, "content-length") || iequals(h.name, "transfer-encoding")) {
    error = "header '" + h.name + "' is set by the tool from the body";
    return false;
  }
  return true;
}

}  // namespace

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) continue;
    if (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr) continue;
    return false;
  }
  return true;
}

bool parse_header_arg(std::string_view text, Header& out, std::string& error) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    error = "header '" + std::string(text) + "' is not 'Name: value'";
    return false;
  }
  out.name = std::string(text.substr(0, colon));
  out.value = std::string(trim(text.substr(colon + 1)));
  return valid_header(out, error);
}

bool parse_request_line(std::string_view line, const std::string& base_dir, RequestSpec& out,
                        std::string& error) {
  std::vector<Field> fields;
  if (!split_fields(line, fields, error)) return false;
  if (fields.size() < 2) {
    error = "expected 'METHOD PATH [Name: value]... [@bodyfile | body=TEXT]'";
    return false;
  }
  out = RequestSpec{};
  out.method = fields[0].text;
  if (fields[0].quoted || !is_token(out.method)) {
    error = "bad method '" + out.method + "'";
    return false;
  }
  out.target = fields[1].text;
  if (out.target.empty() || out.target[0] != '/' || has_control(out.target) ||
      out.target.find_first_of(" \t") != std::string::npos) {
    error = "bad path '" + out.target + "' (must start with '/', no blanks)";
    return false;
  }
  for (size_t i = 2; i < fields.size(); ++i) {
    const Field& f = fields[i];
    if (f.text.starts_with("body=") || (!f.quoted && f.text.starts_with("@"))) {
      if (out.has_body) {
        error = "more than one body";
        return false;
      }
      out.has_body = true;
      if (f.text.starts_with("body=")) {
        out.body = f.text.substr(5);
      } else {
        std::string path = f.text.substr(1);
        if (path.empty()) {
          error = "'@' needs a file name";
          return false;
        }
        if (path[0] != '/' && !base_dir.empty()) path = base_dir + "/" + path;
        if (!read_file(path, out.body)) {
          error = "cannot read body file '" + path + "': " + std::strerror(errno);
          return false;
        }
      }
      continue;
    }
    const size_t colon = f.text.find(':');
    if (colon == std::string::npos || colon == 0) {
      error = "expected 'Name: value', '@bodyfile' or 'body=TEXT', got '" + f.text + "'";
      return false;
    }
    Header h;
    h.name = f.text.substr(0, colon);
    if (colon + 1 == f.text.size()) {
      // "Name:" then the value as the next field (absent: empty value).
      if (i + 1 < fields.size()) h.value = fields[++i].text;
    } else {
      h.value = std::string(trim(std::string_view(f.text).substr(colon + 1)));
    }
    if (!valid_header(h, error)) return false;
    out.headers.push_back(std::move(h));
  }
  return true;
}

bool parse_request_text(std::string_view text, const std::string& name, const std::string& base_dir,
                        std::vector<RequestSpec>& out, std::string& error) {
  out.clear();
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    RequestSpec spec;
    std::string why;
    if (!parse_request_line(line, base_dir, spec, why)) {
      error = name + ":" + std::to_string(line_no) + ": " + why;
      return false;
    }
    out.push_back(std::move(spec));
  }
  if (out.empty()) {
    error = name + ": no requests in file";
    return false;
  }
  return true;
}

bool load_request_file(const std::string& path, std::vector<RequestSpec>& out, std::string& error) {
  std::string text;
  if (!read_file(path, text)) {
    error = "cannot read request file '" + path + "': " + std::strerror(errno);
    return false;
  }
  const size_t slash = path.rfind('/');
  const std::string base_dir = slash == std::string::npos ? "" : path.substr(0, slash);
  return parse_request_text(text, path, base_dir.empty() && slash == 0 ? "/" : base_dir, out,
                            error);
}

std::string render_request(const RequestSpec& spec, std::string_view host,
                           const std::vector<Header>& extra) {
  auto line_sets = [&](std::string_view name) {
    for (const Header& h : spec.headers) {
      if (iequals(h.name, name)) return true;
    }
    return false;
  };
  auto extra_sets = [&](std::string_view name) {
    for (const Header& h : extra) {
      if (iequals(h.name, name)) return true;
    }
    return false;
  };
  std::string out;
  out.reserve(128 + spec.body.size());
  out += spec.method;
  out += ' ';
  out += spec.target;
  out += " HTTP/1.1\r\n";
  if (!line_sets("host") && !extra_sets("host")) {
    out += "Host: ";
    out += host;
    out += "\r\n";
  }
  for (const Header& h : extra) {
    if (line_sets(h.name)) continue;
    out += h.name + ": " + h.value + "\r\n";
  }
  for (const Header& h : spec.headers) out += h.name + ": " + h.value + "\r\n";
  if (spec.has_body) out += "Content-Length: " + std::to_string(spec.body.size()) + "\r\n";
  out += "\r\n";
  out += spec.body;
  return out;
}

}  // namespace ringway::load
