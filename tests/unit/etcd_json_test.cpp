// etcd's v3 JSON gateway as the etcd backend parses it (directory/etcd_json.hpp):
// answers captured from etcd 3.4, the request bodies, strict base64, and
// garbage (syntax, wrong types, huge numbers, keys outside the prefix,
// oversized values) refused or dropped without a throw.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "crypto/encoding.hpp"
#include "directory/etcd_json.hpp"

namespace zeq::etcd {
namespace {

const std::string kPrefix = "/z/";  // key prefix: "/z" + "/"

std::string b64(const std::string& s) { return base64_encode(as_bytes(s)); }

TEST(EtcdJson, RangeAnswerOfEtcd34) {
  const std::string body =
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709","revision":"6","raft_term":"2"},)"
      R"("kvs":[{"key":")" + b64("/z/a") + R"(","create_revision":"2","mod_revision":"2","version":"1","value":"dmFs"},)"
      R"({"key":")" + b64("/z/empty") + R"(","create_revision":"3","mod_revision":"5","version":"1"},)"
      R"({"key":")" + b64("/other/x") + R"(","mod_revision":"4","value":"dmFs"}],"more":true,"count":"3"})";
  auto page = parse_range_response(body, kPrefix);
  ASSERT_TRUE(page) << page.message();
  EXPECT_EQ(page->header.cluster_id, 15118495548433857066ull);
  EXPECT_EQ(page->header.revision, 6);
  ASSERT_EQ(page->kvs.size(), 2u);
  EXPECT_EQ(page->kvs[0].name, "a");
  EXPECT_EQ(page->kvs[0].value, Bytes({'v', 'a', 'l'}));
  EXPECT_EQ(page->kvs[1].name, "empty");
  EXPECT_TRUE(page->kvs[1].value.empty());
  EXPECT_EQ(page->dropped, 1u);  // outside the prefix
  EXPECT_TRUE(page->more);
  EXPECT_EQ(page->last_key, "/other/x");

  auto empty = parse_range_response(R"({"header":{"revision":"1"}})", kPrefix);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->kvs.empty());
  EXPECT_FALSE(empty->more);
}

TEST(EtcdJson, WatchLinesOfEtcd34) {
  auto created = parse_watch_chunk(R"({"result":{"header":{"cluster_id":"1","revision":"2"},"created":true}})", kPrefix);
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  EXPECT_FALSE(created->canceled);

  auto put = parse_watch_chunk(R"({"result":{"header":{"revision":"7"},"events":[{"kv":{"key":")" + b64("/z/n1") +
                                   R"(","mod_revision":"7","value":")" + b64("hello") + R"("}}]}})",
                               kPrefix);
  ASSERT_TRUE(put) << put.message();
  ASSERT_EQ(put->events.size(), 1u);
  EXPECT_EQ(put->events[0].kind, WatchEvent::Kind::kPut);
  EXPECT_EQ(put->events[0].name, "n1");
  EXPECT_EQ(put->events[0].value, Bytes({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(put->max_revision, 7);

  auto del = parse_watch_chunk(R"({"result":{"header":{"revision":"8"},"events":[{"type":"DELETE","kv":{"key":")" +
                                   b64("/z/n1") + R"(","mod_revision":"8"}}]}})",
                               kPrefix);
  ASSERT_TRUE(del);
  ASSERT_EQ(del->events.size(), 1u);
  EXPECT_EQ(del->events[0].kind, WatchEvent::Kind::kDelete);

  auto compacted =
      parse_watch_chunk(R"({"result":{"header":{"cluster_id":"1","raft_term":"2"},"canceled":true,"compact_revision":"5"}})",
                        kPrefix);
  ASSERT_TRUE(compacted);
  EXPECT_TRUE(compacted->canceled);
  EXPECT_EQ(compacted->compact_revision, 5);

  auto auth = parse_watch_chunk(
      R"({"result":{"header":{"revision":"6"},"watch_id":"-1","created":true,"canceled":true,"cancel_reason":"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"}})",
      kPrefix);
  ASSERT_TRUE(auth);
  EXPECT_TRUE(auth->canceled);
  EXPECT_NE(auth->cancel_reason.find("invalid auth token"), std::string::npos);

  auto error = parse_watch_chunk(R"({"error":{"grpc_code":14,"http_code":503,"message":"unavailable","http_status":"Service Unavailable"}})",
                                 kPrefix);
  ASSERT_TRUE(error);
  ASSERT_TRUE(error->error);
  EXPECT_EQ(error->error->code, 14);
  EXPECT_EQ(error->error->message, "unavailable");
}

TEST(EtcdJson, OversizedAndForeignValuesAreDroppedNotFatal) {
  const std::string big(MAX_VALUE_BYTES + 1, 'x');
  auto chunk = parse_watch_chunk(R"({"result":{"events":[{"kv":{"key":")" + b64("/z/big") + R"(","mod_revision":"9","value":")" +
                                     b64(big) + R"("}},{"kv":{"key":")" + b64("/zz") + R"(","mod_revision":"10"}},)"
                                     R"({"kv":{"key":")" + b64("/z/") + R"(","mod_revision":"11"}}]}})",
                                 kPrefix);
  ASSERT_TRUE(chunk) << chunk.message();
  EXPECT_TRUE(chunk->events.empty());
  EXPECT_EQ(chunk->dropped, 3u);        // too big, outside the prefix, no name
  EXPECT_EQ(chunk->max_revision, 11);   // still advances the revision
  // Exactly the bound is kept.
  auto ok = parse_watch_chunk(R"({"result":{"events":[{"kv":{"key":")" + b64("/z/max") + R"(","mod_revision":"9","value":")" +
                                  b64(std::string(MAX_VALUE_BYTES, 'y')) + R"("}}]}})",
                              kPrefix);
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->events.size(), 1u);
  EXPECT_EQ(ok->events[0].value.size(), MAX_VALUE_BYTES);
}

TEST(EtcdJson, GarbageIsAnErrorNeverAThrow) {
  const std::vector<std::string> garbage = {
      "",
      "{",
      "null",
      "[]",
      "\"x\"",
      "{\"result\":5}",
      "{\"result\":{\"events\":5}}",
      "{\"result\":{\"events\":[5]}}",
      "{\"result\":{\"events\":[{\"kv\":{\"key\":\"!!!!\"}}]}}",          // not base64
      "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ=\"}}]}}",           // bad padding
      "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YR==\"}}]}}",          // non-canonical bits
      "{\"result\":{\"events\":[{\"type\":\"BOOM\",\"kv\":{\"key\":\"YQ==\"}}]}}",
      "{\"result\":{\"header\":{\"revision\":\"-5\"}}}",
      "{\"result\":{\"header\":{\"revision\":\"99999999999999999999999\"}}}",
      "{\"result\":{\"header\":{\"revision\":1e999}}}",
      "{\"result\":{\"header\":{\"revision\":\"12abc\"}}}",
      "{\"result\":{\"created\":\"yes\"}}",
      "{\"result\":{\"events\":[{\"kv\":{\"key\":\"L3ovYQ==\",\"mod_revision\":[1]}}]}}",
      std::string("{\"result\":{}}\0garbage", 21),
      std::string(1000, '['),
      "{\"kvs\":{}}",
      "{\"kvs\":[{\"key\":\"\"}]}",
      "{\"more\":true}",
      "\xff\xfe{}",
  };
  for (const auto& g : garbage) {
    EXPECT_NO_THROW({
      (void)parse_watch_chunk(g, kPrefix);
      (void)parse_range_response(g, kPrefix);
      (void)parse_lease_response(g);
      (void)parse_auth_response(g);
      (void)parse_header_response(g);
      (void)parse_error(g);
    }) << g;
  }
  for (const auto& g : garbage) EXPECT_FALSE(parse_watch_chunk(g, kPrefix)) << g;
  EXPECT_FALSE(parse_range_response("{\"kvs\":[{\"key\":\"\"}]}", kPrefix));
  EXPECT_FALSE(parse_range_response("{\"more\":true}", kPrefix));  // more, but from where?
  EXPECT_FALSE(parse_lease_response("{\"ID\":\"0\",\"TTL\":\"5\"}"));
  EXPECT_FALSE(parse_auth_response("{\"token\":\"a b\"}"));  // not a header value
  EXPECT_FALSE(parse_auth_response("{\"token\":\"\"}"));
}

TEST(EtcdJson, LeaseAuthAndErrors) {
  auto grant = parse_lease_response(R"({"header":{"cluster_id":"7","revision":"2"},"ID":"4111120278703707912","TTL":"5"})");
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->id, 4111120278703707912);
  EXPECT_EQ(grant->ttl, 5);
  EXPECT_EQ(grant->header.cluster_id, 7u);
  // A keep-alive of a lease etcd no longer has: no TTL.
  auto gone = parse_lease_response(R"({"result":{"header":{"revision":"2"},"ID":"123"}})");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->ttl, 0);

  auto token = parse_auth_response(R"({"header":{},"token":"ZjiQjWydXrMlUbsb.21"})");
  ASSERT_TRUE(token);
  EXPECT_EQ(*token, "ZjiQjWydXrMlUbsb.21");

  const std::string refused =
      R"({"error":"etcdserver: authentication failed, invalid user ID or password","message":"etcdserver: authentication failed, invalid user ID or password","code":3})";
  auto e = parse_error(refused);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, 3);
  EXPECT_NE(e->message.find("authentication failed"), std::string::npos);
  auto as_auth = parse_auth_response(refused);
  ASSERT_FALSE(as_auth);
  EXPECT_NE(as_auth.message().find("authentication failed"), std::string::npos);
  // LeaseGrantResponse has an "error" string field of its own, empty when fine.
  EXPECT_FALSE(parse_error(R"({"ID":"5","TTL":"5","error":""})"));
  EXPECT_FALSE(parse_error(R"({"header":{"revision":"3"}})"));
}

TEST(EtcdJson, RequestBodies) {
  using json = nlohmann::json;
  EXPECT_EQ(prefix_range_end("/z/"), "/z0");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));

  auto put = json::parse(put_request("/z/n", as_bytes("v"), 42));
  EXPECT_EQ(put["key"], b64("/z/n"));
  EXPECT_EQ(put["value"], b64("v"));
  EXPECT_EQ(put["lease"], "42");
  auto watch = json::parse(watch_request("/z/", "/z0", 8));
  EXPECT_EQ(watch["create_request"]["start_revision"], "8");
  EXPECT_EQ(watch["create_request"]["range_end"], b64("/z0"));
  auto range = json::parse(range_request("/z/", "/z0", 5, 128, false));
  EXPECT_EQ(range["revision"], "5");
  EXPECT_EQ(range["limit"], "128");
  // The password is escaped by hand (no copies); the result is valid JSON.
  auto auth = json::parse(auth_request("root", "p\"w\\d\n"));
  EXPECT_EQ(auth["name"], "root");
  EXPECT_EQ(auth["password"], "p\"w\\d\n");
  EXPECT_EQ(json::parse(lease_id_request(-7))["ID"], "-7");
}

TEST(EtcdJson, Base64IsStrictAndRoundTrips) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = base64_decode(b64(s));
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(std::string(d->begin(), d->end()), s);
  }
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Zm9=v", "=Zm9", "Zm 9v", "Zm9v\n", "====", "Z==="})
    EXPECT_FALSE(base64_decode(bad)) << bad;
}

}  // namespace
}  // namespace zeq::etcd
