#pragma once
// The requests a run sends: the default single GET, or the lines of a
// --requests file, rendered once to wire bytes before the run so the client
// only copies them.
//
// Request-file format (one request per line, used round robin):
//
//   METHOD PATH [Name: value]... [@bodyfile | body=TEXT]
//
// Fields are separated by blanks. A header is `Name: value` (two fields) or
// `Name:value` (one). A field may be double-quoted to hold blanks, with \" and
// \\ as escapes: `X-Note: "two words"`, `body="a b"`. `@bodyfile` reads the
// body from a file (relative paths are relative to the request file). Lines
// that are blank or start with '#' are ignored. Content-Length is added when
// there is a body; Host comes from the URL unless a line or -H sets it.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringway::load {

struct Header {
  std::string name;
  std::string value;
};

struct RequestSpec {
  std::string method = "GET";
  std::string target = "/";
  std::vector<Header> headers;
  std::string body;
  bool has_body = false;
};

// Parses "Name: value" (as given to -H). False with `error` when malformed.
bool parse_header_arg(std::string_view text, Header& out, std::string& error);

// Parses one request-file line into `out`. `base_dir` resolves @bodyfile.
// False with `error` (no file:line prefix) when the line is malformed.
bool parse_request_line(std::string_view line, const std::string& base_dir, RequestSpec& out,
                        std::string& error);

// Parses a whole request file's text; errors read "NAME:LINE: message".
bool parse_request_text(std::string_view text, const std::string& name, const std::string& base_dir,
                        std::vector<RequestSpec>& out, std::string& error);

// Reads and parses a request file.
bool load_request_file(const std::string& path, std::vector<RequestSpec>& out, std::string& error);

// The request's bytes on the wire: request line, Host (unless overridden),
// `extra` headers (-H, unless the line sets the same name), the line's own
// headers, Content-Length when there is a body, then the body.
std::string render_request(const RequestSpec& spec, std::string_view host,
                           const std::vector<Header>& extra);

// Token characters of RFC 9110 (method and header names).
bool is_token(std::string_view text);

}  // namespace ringway::load
