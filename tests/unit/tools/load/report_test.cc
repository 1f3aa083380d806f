#include "tools/load/report.h"

#include <gtest/gtest.h>

#include <string>

namespace ringway::load {
namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

Summary sample() {
  Summary s;
  s.url = "http://127.0.0.1:8080/";
  s.target_rate = 1000;
  s.threads = 2;
  s.connections = 10;
  s.duration_s = 2.0;
  s.counters.requests = 3;
  s.counters.scheduled = 4;
  s.counters.unsent = 1;
  s.counters.connect_errors = 1;
  s.counters.parse_errors = 2;
  s.counters.timeouts = 5;
  s.counters.status[200] = 2;
  s.counters.status[503] = 1;
  s.latency.record(100);
  s.latency.record(200);
  s.latency.record(300);
  return s;
}

TEST(load_report, JsonShape) {
  const std::string j = report_json(sample());
  ASSERT_FALSE(j.empty());
  EXPECT_EQ(j.front(), '{');
  EXPECT_EQ(j.back(), '}');
  EXPECT_EQ(j.find('\n'), std::string::npos);  // one line
  for (const char* key :
       {"\"requests\":3", "\"duration_s\":2.0", "\"rate\":1.500", "\"target_rate\":1000",
        "\"errors\":3", "\"timeouts\":5", "\"scheduled\":4", "\"unsent\":1", "\"mode\":\"open\"",
        "\"status\":{\"200\":2,\"503\":1}",
        "\"errors_by_kind\":{\"connect\":1,\"read\":0,\"write\":0,\"parse\":2}",
        "\"url\":\"http://127.0.0.1:8080/\""}) {
    EXPECT_TRUE(has(j, key)) << key << " in " << j;
  }
  for (const char* key : {"\"p50\":200", "\"p90\":300", "\"p99\":300", "\"p999\":300",
                          "\"p9999\":300", "\"max\":300", "\"min\":100", "\"mean\":200.0"}) {
    EXPECT_TRUE(has(j, key)) << key << " in " << j;
  }
  EXPECT_TRUE(has(j, "\"latency_us\":{"));
}

TEST(load_report, JsonClosedLoopHasNoTarget) {
  Summary s = sample();
  s.closed = true;
  const std::string j = report_json(s);
  EXPECT_TRUE(has(j, "\"mode\":\"closed\""));
  EXPECT_TRUE(has(j, "\"target_rate\":null"));
  EXPECT_TRUE(has(j, "\"scheduled\":null"));
}

TEST(load_report, JsonEmptyRun) {
  Summary s;
  s.url = "http://127.0.0.1/";
  const std::string j = report_json(s);
  EXPECT_TRUE(has(j, "\"status\":{}"));
  EXPECT_TRUE(has(j, "\"rate\":0.000"));
  EXPECT_TRUE(has(j, "\"p50\":0"));
}

TEST(load_report, JsonStringEscapes) {
  EXPECT_EQ(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
  EXPECT_EQ(json_string("caf\xe9\x7f"), "\"caf\\u00e9\\u007f\"");  // valid JSON whatever the bytes
}

TEST(load_report, TableMentionsTheEssentials) {
  const std::string t = report_table(sample());
  EXPECT_TRUE(has(t, "open loop at 1000 req/s"));
  EXPECT_TRUE(has(t, "200: 2"));
  EXPECT_TRUE(has(t, "503: 1"));
  EXPECT_TRUE(has(t, "p99.99"));
  EXPECT_TRUE(has(t, "intended send time"));
}

// The JSON object `key` opens, up to its closing brace.
std::string object_at(const std::string& j, const std::string& key) {
  const size_t at = j.find("\"" + key + "\":{");
  if (at == std::string::npos) return "";
  return j.substr(at, j.find('}', at) - at + 1);
}

TEST(load_report, UnansweredRequestsCountInTheAllLatencyOnly) {
  Summary s = sample();
  s.unanswered.record(5000);
  s.unanswered.record(7000);
  const std::string j = report_json(s);
  EXPECT_TRUE(has(j, "\"unanswered\":2,")) << j;
  EXPECT_EQ(object_at(j, "latency_us"),
            "\"latency_us\":{\"p50\":200,\"p90\":300,\"p99\":300,\"p999\":300,\"p9999\":300,"
            "\"min\":100,\"max\":300,\"mean\":200.0}");
  // 100, 200, 300, 5000, 7000: the median is the third (reported as the top
  // of its 2-wide bucket, as the max no longer caps it), the tail the waits.
  EXPECT_EQ(object_at(j, "latency_all_us"),
            "\"latency_all_us\":{\"p50\":301,\"p90\":7000,\"p99\":7000,\"p999\":7000,"
            "\"p9999\":7000,\"min\":100,\"max\":7000,\"mean\":2520.0}");
  const std::string t = report_table(s);
  EXPECT_TRUE(has(t, "with unanswered")) << t;
  EXPECT_TRUE(has(t, "    p90           300 us     7.000 ms\n")) << t;
  EXPECT_TRUE(has(t, "2 requests without an answer")) << t;
}

TEST(load_report, WithEveryRequestAnsweredBothLatenciesAgree) {
  const std::string j = report_json(sample());
  EXPECT_TRUE(has(j, "\"unanswered\":0,"));
  EXPECT_EQ(object_at(j, "latency_all_us").substr(sizeof("\"latency_all_us\"") - 1),
            object_at(j, "latency_us").substr(sizeof("\"latency_us\"") - 1));
  EXPECT_FALSE(has(report_table(sample()), "unanswered"));
}

TEST(load_report, ProgressLine) {
  EXPECT_EQ(progress_line(3, 2999, 1000.4, 1, 2),
            "[   3s] 2999 requests  1000 req/s  1 errors  2 timeouts");
}

}  // namespace
}  // namespace ringway::load
