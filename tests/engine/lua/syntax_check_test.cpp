#include <gtest/gtest.h>

#include "nurt/lua/runtime.hpp"

namespace nurt::lua {
namespace {

TEST(CheckSyntaxTest, ValidCodeHasNoError) {
  EXPECT_FALSE(CheckSyntax(Chunk{"ctx.a + 1", "w.yaml", 3}, SyntaxKind::kExpression));
  EXPECT_FALSE(CheckSyntax(Chunk{"ctx.a = 1\nctx.b = 2", "w.yaml", 3}, SyntaxKind::kStatements));
}

TEST(CheckSyntaxTest, ReportsTheFileLineAndLuasMessageWithoutThePath) {
  auto err = CheckSyntax(Chunk{"local x = 1\nif x then", "w.yaml", 14}, SyntaxKind::kStatements);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->line, 15);  // 'end' expected at the end of the chunk: its 2nd line, file line 15
  EXPECT_EQ(err->message.find("w.yaml"), std::string::npos) << err->message;
  EXPECT_NE(err->message.find("'end' expected"), std::string::npos) << err->message;
}

// Regression: file paths longer than Lua's LUA_IDSIZE (60) were truncated in the chunk name, so the
// line could not be parsed and the message carried a cut-off path ("…/lua-syntax.y:10:"). Found when
// the test suite ran from a clone in a longer directory.
TEST(CheckSyntaxTest, LongFilePathsKeepTheLineMapping) {
  const std::string path(200, 'p');
  auto err = CheckSyntax(Chunk{"ctx.a +", path, 10}, SyntaxKind::kExpression);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->line, 11);  // the closing line added after the expression
  EXPECT_EQ(err->message, "unexpected symbol near ')'");
}

}  // namespace
}  // namespace nurt::lua
