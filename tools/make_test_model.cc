// make_test_model: writes a random test model (GGUF and/or Hugging Face folder) for tests and
// benchmarks. See tools/testmodel/test_model.h for what the weights look like.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "testmodel/test_model.h"

int main(int argc, char** argv) {
  sg::testmodel::TestModelOptions o;
  std::string gguf_path, hf_dir;
  CLI::App app{"make_test_model: write a random llama/qwen2/qwen3 test model\n" +
               sg::testmodel::SizesHelp()};
  app.add_option("--arch", o.arch, "llama | qwen2 | qwen3")->capture_default_str();
  app.add_option("--type", o.type, "weight type (see above)")->capture_default_str();
  app.add_option("--size", o.size, "tiny | small | 135m")->capture_default_str();
  app.add_option("--seed", o.seed, "random seed: same seed, same F32 weights")
      ->capture_default_str();
  app.add_flag("--tied", o.tied, "tie the output projection to the embedding");
  app.add_option("--rope-scaling", o.rope_scaling, "none | llama3 (llama only) | linear")
      ->capture_default_str();
  app.add_option("--shards", o.shards, "--hf only: number of safetensors shards")
      ->capture_default_str();
  app.add_option("--gguf", gguf_path, "write a GGUF file here");
  app.add_option("--hf", hf_dir, "write a Hugging Face folder here (f32/f16/bf16)");
  CLI11_PARSE(app, argc, argv);
  if (gguf_path.empty() && hf_dir.empty()) {
    std::fprintf(stderr, "error: give --gguf FILE and/or --hf DIR\n");
    return 2;
  }
  if (!gguf_path.empty()) {
    sg::Status s = sg::testmodel::WriteTestGguf(o, gguf_path);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s\n", gguf_path.c_str());
  }
  if (!hf_dir.empty()) {
    sg::Status s = sg::testmodel::WriteTestHf(o, hf_dir);
    if (!s.ok()) {
      std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("wrote %s\n", hf_dir.c_str());
  }
  return 0;
}
