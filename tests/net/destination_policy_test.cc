#include "net/destination_policy.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(DestinationPolicy, DeniesInternalAddressesInEverySpelling) {
  auto p = DestinationPolicy::Create({});
  ASSERT_TRUE(p.ok());
  for (const char* ip : {"127.0.0.1",
                         "127.1.2.3",
                         "10.0.0.1",
                         "172.16.5.4",
                         "192.168.1.1",
                         "169.254.169.254",
                         "100.64.0.1",
                         "0.0.0.0",
                         "224.0.0.1",
                         "255.255.255.255",
                         "::1",
                         "::",
                         "fe80::1",
                         "fd00:ec2::254",
                         "fc00::1",
                         "ff02::1",
                         "::ffff:127.0.0.1",
                         "::ffff:169.254.169.254",
                         "64:ff9b::7f00:1",
                         "2002:7f00:1::1",
                         "2001:db8::1",
                         "[::1]"}) {
    Status s = p->Check("host", ip);
    EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << ip;
  }
  for (const char* ip :
       {"8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    EXPECT_TRUE(p->Check("host", ip).ok()) << ip;
  }
}

TEST(DestinationPolicy, AllowListReadmitsCidrsAddressesAndNames) {
  auto p = DestinationPolicy::Create({{"10.1.0.0/16", "127.0.0.1", "ci.internal", "fd12::/16"}, true});
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->Check("x", "10.1.200.3").ok());
  EXPECT_FALSE(p->Check("x", "10.2.0.1").ok());
  EXPECT_TRUE(p->Check("x", "127.0.0.1").ok());
  EXPECT_TRUE(p->Check("x", "::ffff:127.0.0.1").ok());
  EXPECT_FALSE(p->Check("x", "127.0.0.2").ok());
  EXPECT_TRUE(p->Check("CI.internal", "192.168.9.9").ok());  // a name admits what it resolves to
  EXPECT_TRUE(p->Check("x", "fd12:3::1").ok());
  EXPECT_FALSE(p->Check("x", "not-an-ip").ok());
}

TEST(DestinationPolicy, MalformedEntriesAreRejected) {
  EXPECT_FALSE(DestinationPolicy::Create({{"10.0.0.0/33"}, true}).ok());
  EXPECT_FALSE(DestinationPolicy::Create({{"host name"}, true}).ok());
  EXPECT_FALSE(DestinationPolicy::Create({{"::1/129"}, true}).ok());
  EXPECT_FALSE(DestinationPolicy::Create({{"300.1.1.1"}, true}).ok());  // a mistyped address, not a name
  EXPECT_TRUE(DestinationPolicy::AllowAll().Check("x", "127.0.0.1").ok());
}

}  // namespace
}  // namespace tamga
