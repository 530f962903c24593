// LoadModel errors: each names the file and the tensor or key, with the right code.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/io/gguf.h"
#include "engine/io/hf_folder.h"
#include "engine/io/safetensors.h"
#include "engine/model/model.h"
#include "test_util.h"

namespace sg {
namespace {

using test::TempDir;
using test::Tiny;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// Copies a GGUF, letting `edit_kv` change metadata values and `edit_tensor` change or drop
// (return false) tensors; bytes are re-sized to the edited shape/type with zeros if they differ.
void RewriteGguf(const std::string& src, const std::string& dst,
                 const std::function<void(GgufKeyValue*)>& edit_kv,
                 const std::function<bool(GgufTensorInfo*)>& edit_tensor) {
  StatusOr<std::unique_ptr<GgufFile>> in = GgufFile::Open(src);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  GgufWriter w;
  for (GgufKeyValue kv : (*in)->metadata()) {
    edit_kv(&kv);
    w.AddValue(kv.key, kv.value);
  }
  for (const GgufTensorInfo& original : (*in)->tensors()) {
    GgufTensorInfo info = original;
    if (!edit_tensor(&info)) continue;
    const TensorView view = (*in)->View(original);
    std::vector<uint8_t> bytes(reinterpret_cast<const uint8_t*>(view.data),
                               reinterpret_cast<const uint8_t*>(view.data) + view.nbytes);
    uint64_t rows = 1;
    for (size_t i = 0; i + 1 < info.shape.size(); ++i) rows *= info.shape[i];
    const uint64_t want = *RowBytes(info.type, info.shape.back()) * rows;
    bytes.resize(want, 0);
    ASSERT_TRUE(w.AddTensor(info.name, info.type, info.shape, std::move(bytes)).ok()) << info.name;
  }
  ASSERT_TRUE(w.Write(dst).ok());
}

class GgufErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = dir_.File("src.gguf");
    dst_ = dir_.File("bad.gguf");
    ASSERT_TRUE(testmodel::WriteTestGguf(Tiny("llama"), src_).ok());
  }
  Status LoadRewritten(const std::function<void(GgufKeyValue*)>& edit_kv,
                       const std::function<bool(GgufTensorInfo*)>& edit_tensor) {
    RewriteGguf(src_, dst_, edit_kv, edit_tensor);
    StatusOr<std::unique_ptr<Model>> m = LoadModel(dst_);
    return m.status();
  }
  static void KeepKv(GgufKeyValue*) {}
  static bool KeepTensor(GgufTensorInfo*) { return true; }

  TempDir dir_;
  std::string src_, dst_;
};

TEST_F(GgufErrorsTest, UnchangedCopyLoads) { EXPECT_TRUE(LoadRewritten(KeepKv, KeepTensor).ok()); }

TEST_F(GgufErrorsTest, MissingTensor) {
  Status s =
      LoadRewritten(KeepKv, [](GgufTensorInfo* t) { return t->name != "blk.1.ffn_up.weight"; });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), dst_ + ": missing tensor 'blk.1.ffn_up.weight'");
}

TEST_F(GgufErrorsTest, WrongShape) {
  Status s = LoadRewritten(KeepKv, [](GgufTensorInfo* t) {
    if (t->name == "blk.0.ffn_gate.weight") t->shape = {256, 512};  // transposed
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(s.message(), dst_ +
                             ": tensor 'blk.0.ffn_gate.weight' has shape [256, 512], "
                             "expected [512, 256]");
}

TEST_F(GgufErrorsTest, UnsupportedWeightType) {
  Status s = LoadRewritten(KeepKv, [](GgufTensorInfo* t) {
    if (t->name == "blk.0.attn_k.weight") t->type = DType::kQ2_K;
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_EQ(s.message(), dst_ +
                             ": tensor 'blk.0.attn_k.weight' has weight type q2_K, which "
                             "streamgen does not support; supported: f32, f16, bf16, q4_0, "
                             "q4_1, q5_0, q5_1, q8_0, q4_K, q5_K, q6_K");
}

TEST_F(GgufErrorsTest, ActivationOnlyTypeIsNotAWeightType) {
  Status s = LoadRewritten(KeepKv, [](GgufTensorInfo* t) {
    if (t->name == "blk.1.ffn_up.weight") t->type = DType::kQ8_K;
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "'blk.1.ffn_up.weight' has weight type q8_K")) << s.message();
}

TEST_F(GgufErrorsTest, QuantizedNormIsRefused) {
  Status s = LoadRewritten(KeepKv, [](GgufTensorInfo* t) {
    if (t->name == "output_norm.weight") t->type = DType::kQ8_0;
    return true;
  });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "'output_norm.weight' has type q8_0")) << s.message();
}

TEST_F(GgufErrorsTest, UnsupportedArchitecture) {
  Status s = LoadRewritten(
      [](GgufKeyValue* kv) {
        if (kv->key == "general.architecture") kv->value.value = std::string("gpt2");
      },
      KeepTensor);
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_EQ(s.message(),
            dst_ + ": architecture 'gpt2' is not supported; supported: llama, qwen2, qwen3");
}

TEST_F(GgufErrorsTest, MissingHyperparameter) {
  Status s = LoadRewritten(
      [](GgufKeyValue* kv) {
        if (kv->key == "llama.block_count") kv->key = "llama.block_count_renamed";
      },
      KeepTensor);
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), dst_ + ": missing metadata key 'llama.block_count'");
}

TEST_F(GgufErrorsTest, BadHeadCountIsRefusedNotCrashed) {
  Status s = LoadRewritten(
      [](GgufKeyValue* kv) {
        if (kv->key == "llama.attention.head_count_kv") kv->value.value = uint64_t{3};
      },
      KeepTensor);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "not a multiple of 3 key/value heads")) << s.message();
}

constexpr char kWhatLoads[] =
    "streamgen loads a GGUF file (such as model-q8_0.gguf) or a Hugging Face model folder "
    "(config.json, model.safetensors or its shards, tokenizer.json)";

TEST(LoadErrorsTest, MissingPath) {
  StatusOr<std::unique_ptr<Model>> m = LoadModel("/nonexistent/streamgen/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(
      m.status().message(),
      std::string("model path '/nonexistent/streamgen/model.gguf' does not exist; ") + kWhatLoads);
  EXPECT_EQ(LoadModel("").status().code(), StatusCode::kNotFound);
}

TEST(LoadErrorsTest, DirectoryWithoutConfigIsNotAModelFolder) {
  TempDir dir;
  StatusOr<std::unique_ptr<Model>> m = LoadModel(dir.path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            dir.path() + ": a directory without config.json is not a Hugging Face model folder; " +
                kWhatLoads);
}

TEST(LoadErrorsTest, FileThatIsNotGgufNamesWhatLoads) {
  TempDir dir;
  std::ofstream(dir.File("weights.bin")) << "PK\x03\x04 a zip archive, not a model";
  StatusOr<std::unique_ptr<Model>> m = LoadModel(dir.File("weights.bin"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(m.status().message(), "not a GGUF file")) << m.status().message();
  EXPECT_TRUE(Contains(m.status().message(), kWhatLoads)) << m.status().message();

  std::ofstream(dir.File("empty.gguf")).flush();
  m = LoadModel(dir.File("empty.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(Contains(m.status().message(), kWhatLoads)) << m.status().message();
}

TEST(LoadErrorsTest, SafetensorsFileOfAFolderPointsAtTheFolder) {
  TempDir dir;
  const std::string folder = dir.File("hf");
  ASSERT_TRUE(testmodel::WriteTestHf(Tiny("llama"), folder).ok());
  StatusOr<std::unique_ptr<Model>> m = LoadModel(folder + "/model.safetensors");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(
      Contains(m.status().message(), folder + " is a Hugging Face model folder: pass the folder"))
      << m.status().message();
  EXPECT_TRUE(LoadModel(folder + "/").ok());  // a trailing slash is fine
}

class HfErrorsTest : public ::testing::Test {
 protected:
  // Writes a tiny folder of `arch`, applies `edit` to config.json and loads it.
  Status LoadEdited(const std::string& arch, const std::function<void(nlohmann::json*)>& edit) {
    dir_path_ = dir_.File("hf");
    EXPECT_TRUE(testmodel::WriteTestHf(Tiny(arch), dir_path_).ok());
    nlohmann::json config;
    {
      std::ifstream f(dir_path_ + "/config.json");
      f >> config;
    }
    edit(&config);
    std::ofstream(dir_path_ + "/config.json") << config.dump();
    return LoadModel(dir_path_).status();
  }
  TempDir dir_;
  std::string dir_path_;
};

TEST_F(HfErrorsTest, UnsupportedModelType) {
  Status s = LoadEdited("llama", [](nlohmann::json* c) { (*c)["model_type"] = "gpt2"; });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ +
                             "/config.json: model_type 'gpt2' is not supported; "
                             "supported: llama, mistral, qwen2, qwen3");
}

TEST_F(HfErrorsTest, MistralIsReadAsLlama) {
  Status s = LoadEdited("llama", [](nlohmann::json* c) { (*c)["model_type"] = "mistral"; });
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(HfErrorsTest, MissingLayerTensor) {
  Status s = LoadEdited("llama", [](nlohmann::json* c) { (*c)["num_hidden_layers"] = 3; });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ + ": missing tensor 'model.layers.2.input_layernorm.weight'");
}

TEST_F(HfErrorsTest, Qwen3NeedsQkNorms) {
  Status s = LoadEdited("qwen2", [](nlohmann::json* c) { (*c)["model_type"] = "qwen3"; });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ + ": missing tensor 'model.layers.0.self_attn.q_norm.weight'");
}

TEST_F(HfErrorsTest, ShapeDisagreesWithConfig) {
  Status s = LoadEdited("llama", [](nlohmann::json* c) { (*c)["intermediate_size"] = 1024; });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ +
                             ": tensor 'model.layers.0.mlp.gate_proj.weight' has shape "
                             "[512, 256], expected [1024, 256]");
}

TEST_F(HfErrorsTest, WrongJsonTypeIsAnError) {
  Status s = LoadEdited("qwen3", [](nlohmann::json* c) { (*c)["hidden_size"] = "256"; });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "'hidden_size' must be an integer")) << s.message();
}

}  // namespace
}  // namespace sg

namespace sg {
namespace {

// The architecture is checked before the weights are looked for: a folder of an unsupported
// model gets that error even if its weights are .bin files.
TEST_F(HfErrorsTest, UnsupportedArchitectureBeforeMissingWeights) {
  Status s = LoadEdited("llama", [&](nlohmann::json* c) {
    (*c)["model_type"] = "gpt2";
    std::filesystem::remove(dir_path_ + "/model.safetensors");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ +
                             "/config.json: model_type 'gpt2' is not supported; supported: "
                             "llama, mistral, qwen2, qwen3");
}

TEST_F(HfErrorsTest, PytorchBinWeightsAreNamed) {
  Status s = LoadEdited("llama", [&](nlohmann::json*) {
    std::filesystem::rename(dir_path_ + "/model.safetensors", dir_path_ + "/pytorch_model.bin");
  });
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ +
                             ": neither model.safetensors nor model.safetensors.index.json found "
                             "(only PyTorch .bin weights, which streamgen does not read: save the "
                             "model with safetensors, or convert it to GGUF)");
}

// A safetensors folder can only hold float weights: an integer weight names those three.
TEST_F(HfErrorsTest, IntegerWeightNamesTheFloatTypes) {
  Status s = LoadEdited("llama", [&](nlohmann::json*) {
    std::vector<SafetensorsWriteTensor> copy;
    {
      StatusOr<std::unique_ptr<HfFolder>> folder = OpenHfFolder(dir_path_);
      ASSERT_TRUE(folder.ok()) << folder.status().ToString();
      for (const auto& [name, view] : (*folder)->tensors.all()) {
        SafetensorsWriteTensor t{name, view.type, view.shape, {}};
        if (name == "model.layers.0.mlp.up_proj.weight") {
          t.type = DType::kI8;
          t.bytes.assign(static_cast<size_t>(view.numel()), 1);
        } else {
          const auto* b = reinterpret_cast<const uint8_t*>(view.data);
          t.bytes.assign(b, b + view.nbytes);
        }
        copy.push_back(std::move(t));
      }
    }  // the old mapping is gone before the file is replaced
    ASSERT_TRUE(WriteSafetensors(dir_path_ + "/model.safetensors", copy).ok());
  });
  EXPECT_EQ(s.code(), StatusCode::kUnimplemented) << s.ToString();
  EXPECT_EQ(s.message(), dir_path_ +
                             ": tensor 'model.layers.0.mlp.up_proj.weight' has weight type i8, "
                             "which streamgen does not support; supported: f32, f16, bf16");
}

}  // namespace
}  // namespace sg
