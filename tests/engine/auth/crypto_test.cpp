// The private encoders and OpenSSL wrappers of nurt_auth against published test vectors.
#include "auth/crypto.hpp"

#include <gtest/gtest.h>

namespace nurt::auth::internal {
namespace {

TEST(Crypto, HmacSha256MatchesRfc4231TestCase2) {
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Crypto, ConstantTimeEqualsComparesLengthAndBytes) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(Crypto, Base64UrlRoundTripsRfc4648VectorsWithoutPadding) {
  const std::pair<const char*, const char*> kVectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64UrlEncode(plain), encoded);
    EXPECT_EQ(Base64UrlDecode(encoded), std::string(plain));
  }
}

TEST(Crypto, Base64UrlDecodeIsStrict) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // padding
  EXPECT_FALSE(Base64UrlDecode("Zm9v+").has_value());  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());      // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // non-zero unused bits ("Zg" is canonical)
}

TEST(Crypto, Base32IsLowercaseCrockford) {
  EXPECT_EQ(Base32Encode(""), "");
  EXPECT_EQ(Base32Encode(std::string(5, '\xff')), "zzzzzzzz");
  EXPECT_EQ(Base32Encode(std::string(5, '\0')), "00000000");
  EXPECT_EQ(Base32Encode(std::string(32, '\x5a')).size(), Base32Length(32));
  EXPECT_EQ(Base32Length(32), 52u);
  EXPECT_TRUE(IsBase32("0123456789abcdefghjkmnpqrstvwxyz"));
  EXPECT_FALSE(IsBase32("abcI"));  // no i, l, o, u, no capitals
  EXPECT_FALSE(IsBase32("abc_"));
}

}  // namespace
}  // namespace nurt::auth::internal
