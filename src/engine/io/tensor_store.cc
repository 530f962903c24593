#include "engine/io/tensor_store.h"

namespace sg {

Status TensorStore::Add(std::string name, TensorView view, std::string_view origin) {
  if (tensors_.count(name) != 0) {
    return DataLossError(std::string(origin) + ": duplicate tensor name '" + name + "'");
  }
  tensors_.emplace(std::move(name), std::move(view));
  return OkStatus();
}

const TensorView* TensorStore::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

}  // namespace sg
