#include "engine/model/pack_weights.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "engine/core/huge_buffer.h"
#include "engine/kernels/matmul.h"
#include "engine/quant/rows8.h"

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

// Tensors read by matmuls and otherwise at most by GetRows (which unpacks a kRows8 row): the
// ones that may take the kRows8 layout. A tied output qualifies (its embedding lookups read one
// row per token); norms and biases never do.
std::set<const std::byte*> MatMulOnlyData(ModelWeights& w) {
  std::set<const std::byte*> matmul, other;
  matmul.insert(w.output.data);
  other.insert(w.output_norm.data);
  for (LayerWeights& l : w.layers) {
    for (TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      matmul.insert(t->data);
    }
    for (TensorView* t : {&l.attn_norm, &l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm, &l.ffn_norm}) {
      other.insert(t->data);
    }
  }
  std::set<const std::byte*> only;
  for (const std::byte* p : matmul) {
    if (p != nullptr && other.count(p) == 0) only.insert(p);
  }
  return only;
}

// Whether a tensor goes into the 8-row interleaved layout of the integer decode kernels (the
// reference kernels read plain rows; they would only unpack it again).
bool Interleave(const TensorView& v, const std::set<const std::byte*>& matmul_only) {
  return GetMatMulKernels() == MatMulKernels::kFast && matmul_only.count(v.data) != 0 &&
         v.ndim() == 2 && Rows8Eligible(v.type, v.data, v.rows(), v.cols());
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
  const std::set<const std::byte*> matmul_only = MatMulOnlyData(model.weights);
  std::map<const std::byte*, bool> copied;
  std::set<const std::byte*> interleaved;  // source pointers packed as kRows8
  for (const TensorView* v : views) {
    if (v->empty() || v->data == nullptr || copied[v->data]) continue;
    copied[v->data] = true;
    std::byte* dst = buffer->data() + offsets[v->data];
    const bool rows8 = Interleave(*v, matmul_only);
    if (rows8) interleaved.insert(v->data);
    // Whole groups of 8 rows per step when interleaving, so a step never cuts a group.
    const uint64_t group = rows8 ? kRows8 * v->row_bytes() : 1;
    const uint64_t step = std::max<uint64_t>(step_bytes / group, 1) * group;
    for (uint64_t at = 0; at < v->nbytes; at += step) {
      const uint64_t n = std::min(step, v->nbytes - at);
      if (rows8) {
        for (uint64_t g = 0; g < n; g += group) {
          PackRows8Group(v->type, v->data + at + g, v->cols(), dst + at + g);
        }
      } else {
        std::memcpy(dst + at, v->data + at, n);
      }
      done += n;
      if (done - reported >= step_bytes) {
        progress(done, total);
        reported = done;
      }
    }
  }
  for (TensorView* v : views) {
    if (v->empty() || v->data == nullptr) continue;
    if (interleaved.count(v->data) != 0) v->layout = WeightLayout::kRows8;
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
