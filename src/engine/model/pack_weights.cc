#include "engine/model/pack_weights.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "engine/core/huge_buffer.h"

namespace sg {
namespace {

constexpr uint64_t kAlign = 64;  // a cache line: every tensor starts on one

// Every view the forward pass reads, tied views included (they share a data pointer).
std::vector<TensorView*> WeightViews(ModelWeights& w) {
  std::vector<TensorView*> views = {&w.token_embedding, &w.output_norm, &w.output};
  for (LayerWeights& l : w.layers) {
    for (TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv, &l.q_norm,
                          &l.k_norm, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down}) {
      views.push_back(t);
    }
  }
  return views;
}

uint64_t Aligned(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// Offsets in the packed buffer by source pointer, in first-seen order; returns the total.
uint64_t Layout(const std::vector<TensorView*>& views,
                std::map<const std::byte*, uint64_t>* offsets) {
  uint64_t total = 0;
  for (const TensorView* v : views) {
    if (v->empty() || v->data == nullptr || offsets->count(v->data) != 0) continue;
    (*offsets)[v->data] = total;
    total += Aligned(v->nbytes);
  }
  return total;
}

}  // namespace

uint64_t PackedWeightBytes(const Model& model) {
  std::map<const std::byte*, uint64_t> offsets;
  return Layout(WeightViews(const_cast<ModelWeights&>(model.weights)), &offsets);
}

Status PackWeights(Model& model, FunctionRef<void(uint64_t, uint64_t)> progress,
                   uint64_t step_bytes) {
  std::vector<TensorView*> views = WeightViews(model.weights);
  std::map<const std::byte*, uint64_t> offsets;
  const uint64_t total = Layout(views, &offsets);
  SG_ASSIGN_OR_RETURN(std::unique_ptr<HugeBuffer> buffer, HugeBuffer::Allocate(total));
  step_bytes = std::max<uint64_t>(step_bytes, 1);
  uint64_t done = 0, reported = 0;
  std::map<const std::byte*, bool> copied;
  for (const TensorView* v : views) {
    if (v->empty() || v->data == nullptr || copied[v->data]) continue;
    copied[v->data] = true;
    std::byte* dst = buffer->data() + offsets[v->data];
    for (uint64_t at = 0; at < v->nbytes; at += step_bytes) {
      const uint64_t n = std::min(step_bytes, v->nbytes - at);
      std::memcpy(dst + at, v->data + at, n);
      done += n;
      if (done - reported >= step_bytes) {
        progress(done, total);
        reported = done;
      }
    }
  }
  for (TensorView* v : views) {
    if (v->empty() || v->data == nullptr) continue;
    v->data = buffer->data() + offsets[v->data];
  }
  for (const std::shared_ptr<MappedFile>& file : model.tensors.files()) {
    file->ReleaseResidentPages();
  }
  model.packed_weights = std::shared_ptr<HugeBuffer>(std::move(buffer));
  progress(total, total);
  return OkStatus();
}

}  // namespace sg
