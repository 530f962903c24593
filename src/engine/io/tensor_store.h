// Named tensor views over one or more mapped files, and the mappings that keep them valid.
// Thread rules: built by one thread at load; immutable and freely shared afterwards.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/mapped_file.h"
#include "engine/core/status.h"
#include "engine/core/tensor_view.h"

namespace sg {

class TensorStore {
 public:
  // Fails (DataLoss) if `name` is already present; `origin` (a file path) names the culprit.
  Status Add(std::string name, TensorView view, std::string_view origin);
  const TensorView* Find(std::string_view name) const;
  void KeepAlive(std::shared_ptr<MappedFile> file) { files_.push_back(std::move(file)); }

  const std::map<std::string, TensorView, std::less<>>& all() const { return tensors_; }
  const std::vector<std::shared_ptr<MappedFile>>& files() const { return files_; }

 private:
  std::map<std::string, TensorView, std::less<>> tensors_;
  std::vector<std::shared_ptr<MappedFile>> files_;
};

}  // namespace sg
