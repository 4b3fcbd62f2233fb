// ResolveJobInterpreter against real files: a venv-like bin/ with a python, scripts with #! lines, sh -c,
// env and conda run; InspectPython against Debian's python3 and a venv made at test time.
#include "agent/python_env.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace tamga {
namespace {
namespace fs = std::filesystem;

class PythonEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tamga-pyenv-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "venv/bin");
    fs::create_directories(root_ / "conda/envs/train/bin");
    fs::create_directories(root_ / "work");
    Exec(root_ / "venv/bin/python3", "#!/bin/sh\n");
    Exec(root_ / "conda/envs/train/bin/python", "#!/bin/sh\n");
    Exec(root_ / "conda/bin/conda", "#!/bin/sh\n");
    Exec(root_ / "work/train.py", "#!/usr/bin/env python3\nprint(1)\n");
    Exec(root_ / "work/fixed.py", "#!" + (root_ / "venv/bin/python3").string() + " -u\n");
    Exec(root_ / "venv/bin/torchrun", "#!" + (root_ / "venv/bin/python3").string() + "\n");
    Exec(root_ / "work/run.sh", "#!/bin/sh\necho\n");
    env_ = {{"PATH", (root_ / "venv/bin").string() + ":/usr/bin:/bin"}};
  }
  void TearDown() override { fs::remove_all(root_); }
  static void Exec(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    chmod(p.c_str(), 0755);
  }
  std::string Venv() const { return (root_ / "venv/bin/python3").string(); }
  fs::path root_;
  std::map<std::string, std::string> env_;
};

TEST_F(PythonEnvTest, ResolvesLikeExec) {
  std::string work = (root_ / "work").string();
  auto r = ResolveJobInterpreter({"python3", "train.py"}, env_, work);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  EXPECT_EQ(r->how, "argv");
  r = ResolveJobInterpreter({"./train.py"}, env_, work);  // #!/usr/bin/env python3 on the job's PATH
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  EXPECT_NE(r->how.find("shebang"), std::string::npos);
  r = ResolveJobInterpreter({"./fixed.py"}, {{"PATH", "/usr/bin:/bin"}}, work);  // absolute #!
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  r = ResolveJobInterpreter({"torchrun", "--nproc_per_node", "2", "train.py"}, env_, work);  // entry point
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  r = ResolveJobInterpreter({"sh", "-c", "cd x && FOO=1 exec python3 -u train.py"}, env_, work);
  ASSERT_TRUE(r) << "sh -c";
  EXPECT_EQ(r->path, Venv());  // the first command that runs Python
  EXPECT_EQ(r->how, "sh -c: argv");
  r = ResolveJobInterpreter({"env", "-i", "A=B", "python3", "x.py"}, env_, work);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  std::map<std::string, std::string> conda = {{"PATH", "/usr/bin:/bin"},
                                              {"CONDA_EXE", (root_ / "conda/bin/conda").string()}};
  r = ResolveJobInterpreter({(root_ / "conda/bin/conda").string(), "run", "--no-capture-output", "-n",
                             "train", "python", "train.py"},
                            conda, work);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, (root_ / "conda/envs/train/bin/python").string());
  EXPECT_NE(r->how.find("run -n train"), std::string::npos) << r->how;
  // Not Python at all: the job's PATH python3, said so.
  r = ResolveJobInterpreter({"./run.sh"}, env_, work);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, Venv());
  EXPECT_NE(r->how.find("does not name an interpreter"), std::string::npos);
  EXPECT_FALSE(ResolveJobInterpreter({"true"}, {{"PATH", (root_ / "work").string()}}, work));
  // Names that only look like Python are not taken for it; a huge argv[0] is just not found.
  Exec(root_ / "venv/bin/python3x", "#!/bin/sh\n");
  r = ResolveJobInterpreter({"python3x"}, env_, work);
  ASSERT_TRUE(r);
  EXPECT_NE(r->how, "argv");
  std::string huge = "python" + std::string(1 << 20, '3');
  r = ResolveJobInterpreter({huge, "sh", "-c", std::string(1 << 20, 'x')}, env_, work);
  ASSERT_TRUE(r);
  EXPECT_NE(r->how, "argv");
}

TEST_F(PythonEnvTest, InspectsTheInterpretersOwnPackages) {
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "no /usr/bin/python3";
  fs::path venv = root_ / "realvenv";
  ASSERT_EQ(std::system(("/usr/bin/python3 -m venv --without-pip " + venv.string()).c_str()), 0);
  fs::path site;
  for (const auto& e : fs::directory_iterator(venv / "lib")) site = e.path() / "site-packages";
  fs::create_directories(site / "tamgaprobe-1.2.3.dist-info");
  std::ofstream(site / "tamgaprobe-1.2.3.dist-info/METADATA") << "Metadata-Version: 2.1\nName: tamgaprobe\n"
                                                                 "Version: 1.2.3\n";
  auto r = InspectPython((venv / "bin/python").string(), {{"PATH", "/usr/bin:/bin"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, "venv");
  EXPECT_EQ(r->prefix, venv.string());
  EXPECT_EQ(r->packages, "tamgaprobe==1.2.3\n");
  auto sys = InspectPython("/usr/bin/python3", {{"PATH", "/usr/bin:/bin"}});
  ASSERT_TRUE(sys.ok()) << sys.status().ToString();
  EXPECT_EQ(sys->kind, "system");
  EXPECT_EQ(sys->packages.find("tamgaprobe"), std::string::npos);
  EXPECT_FALSE(InspectPython((root_ / "nope").string(), {}).ok());
}

}  // namespace
}  // namespace tamga
