// ByteDfa::Compile: Rx -> Thompson NFA (repeats unrolled) -> byte classes -> subset construction
// -> pruning of states that cannot accept -> Hopcroft minimization -> merging of byte classes with
// identical columns -> distances to acceptance. The result is the minimal DFA of the language (so
// the token-mask cache, one mask per state, holds no duplicates), with state 0 the start.
//
// Bounds, so that any input finishes quickly within bounded memory:
//  - the NFA is built only when RxExpandedSize <= max_nfa_states (checked first; the size
//    saturates, so ((a{1000}){1000}){1000} costs a walk of the tree, not of its expansion);
//  - tree depth is capped (kMaxRxDepth) because the NFA builder recurses;
//  - subset construction stops at max_dfa_states (counted before pruning and minimization), and
//    also when the total size of the NFA state sets it has stored (kMaxSubsetElements) or its
//    elementary steps (kMaxWork) run past fixed budgets: a few thousand DFA states that each hold
//    most of a 200000-state NFA would otherwise cost gigabytes and minutes.
#include "engine/constrain/byte_dfa.h"

#include <algorithm>
#include <bitset>
#include <string>
#include <unordered_map>
#include <utility>

namespace sg {
namespace {

constexpr int kMaxRxDepth = 1000;                // tree levels (recursion frames of the builder)
constexpr int64_t kMaxSubsetElements = 1 << 24;  // NFA ids stored over all DFA states (64 MiB)
constexpr int64_t kMaxWork = int64_t{1} << 27;   // subset-construction steps (~0.5 s)

struct NfaState {
  enum Kind : uint8_t { kByte, kSplit, kMatch };
  Kind kind = kSplit;
  int32_t out1 = -1;  // kByte: the next state; kSplit: first epsilon target (-1: none)
  int32_t out2 = -1;  // kSplit: second epsilon target (-1: none)
  int32_t set = -1;   // kByte: index of its byte set among the distinct sets
};

// Thompson construction, built backwards: Build(node, next) returns the start of a fragment whose
// every way out leads to `next` (-1 = no way out, the empty language).
class NfaBuilder {
 public:
  explicit NfaBuilder(int64_t max_states) : max_states_(max_states) {}

  // False when the tree is too deep or (defensively) larger than the size check promised.
  bool Build(const Rx& rx) {
    const int32_t match = Add({NfaState::kMatch, -1, -1, -1});
    start_ = Build(*rx, match, 0);
    return ok_;
  }
  bool too_deep() const { return too_deep_; }
  int32_t start() const { return start_; }
  const std::vector<NfaState>& states() const { return states_; }
  const std::vector<std::bitset<256>>& sets() const { return sets_; }

 private:
  int32_t Add(NfaState s) {
    if (static_cast<int64_t>(states_.size()) >= max_states_) {
      ok_ = false;
      return -1;
    }
    states_.push_back(s);
    return static_cast<int32_t>(states_.size()) - 1;
  }
  int32_t Split(int32_t a, int32_t b) { return Add({NfaState::kSplit, a, b, -1}); }

  int32_t Build(const RxNode& node, int32_t next, int depth) {
    if (!ok_) return -1;
    if (depth > kMaxRxDepth) {
      ok_ = false;
      too_deep_ = true;
      return -1;
    }
    switch (node.kind) {
      case RxKind::kEmpty:
        return next;
      case RxKind::kNothing:
        return -1;
      case RxKind::kByteSet: {
        auto [it, inserted] = set_ids_.try_emplace(node.bytes, static_cast<int32_t>(sets_.size()));
        if (inserted) sets_.push_back(node.bytes);
        return Add({NfaState::kByte, next, -1, it->second});
      }
      case RxKind::kConcat:
        for (size_t i = node.children.size(); i-- > 0;) {
          next = Build(*node.children[i], next, depth + 1);
        }
        return next;
      case RxKind::kAlt: {
        std::vector<int32_t> starts;
        starts.reserve(node.children.size());
        for (const Rx& child : node.children) starts.push_back(Build(*child, next, depth + 1));
        int32_t s = starts.back();
        for (size_t i = starts.size() - 1; i-- > 0;) s = Split(starts[i], s);
        return s;
      }
      case RxKind::kRepeat: {
        const RxNode& child = *node.children[0];
        int32_t cur = next;
        int32_t mandatory = node.min;
        if (node.max == kRxUnbounded) {
          // x* = loop L: (x -> L) | next. x{n,} with n >= 1 = x{n-1} then x+, where x+ enters the
          // body first and the loop state follows it.
          const int32_t loop = Split(-1, next);
          const int32_t body = Build(child, loop, depth + 1);
          if (!ok_) return -1;
          states_[loop].out1 = body;
          if (mandatory == 0) {
            cur = loop;
          } else {
            cur = body;
            --mandatory;
          }
        } else {
          // Optional copies nest: x{0,2} = (x (x)?)?; every skip leads straight to `next`.
          for (int32_t i = 0; i < node.max - node.min && ok_; ++i) {
            cur = Split(Build(child, cur, depth + 1), next);
          }
        }
        for (int32_t i = 0; i < mandatory && ok_; ++i) cur = Build(child, cur, depth + 1);
        return cur;
      }
    }
    return -1;
  }

  int64_t max_states_;
  bool ok_ = true;
  bool too_deep_ = false;
  int32_t start_ = -1;
  std::vector<NfaState> states_;
  std::vector<std::bitset<256>> sets_;
  std::unordered_map<std::bitset<256>, int32_t> set_ids_;
};

// Partition of 0..255: bytes that belong to exactly the same NFA byte sets share a class.
// Returns the number of classes; class ids are numbered in order of their smallest byte.
int32_t ByteClasses(const std::vector<std::bitset<256>>& sets, std::array<uint8_t, 256>* cls) {
  std::array<int32_t, 256> c{};  // all bytes start in class 0
  int32_t n = 1;
  for (const std::bitset<256>& set : sets) {
    std::array<int32_t, 512> remap;
    remap.fill(-1);
    int32_t next = 0;
    for (int b = 0; b < 256; ++b) {
      int32_t& slot = remap[c[b] * 2 + (set.test(b) ? 1 : 0)];
      if (slot < 0) slot = next++;
      c[b] = slot;
    }
    n = next;
  }
  for (int b = 0; b < 256; ++b) (*cls)[b] = static_cast<uint8_t>(c[b]);
  return n;
}

uint64_t HashIds(const std::vector<int32_t>& ids) {
  uint64_t h = 1469598103934665603ull;
  for (int32_t id : ids) {
    h ^= static_cast<uint32_t>(id);
    h *= 1099511628211ull;
  }
  return h ^ ids.size();
}

// A DFA under construction: state 0 is the start, -1 (ByteDfa::kDead) the dead state.
struct Table {
  int32_t n = 0;              // states
  int32_t k = 0;              // byte classes (columns)
  std::vector<int32_t> next;  // {n, k}
  std::vector<uint8_t> accepting;
  int32_t At(int32_t s, int32_t c) const { return next[static_cast<size_t>(s) * k + c]; }
};

// Subset construction over byte classes. A DFA state is the sorted set of NFA byte/match states
// reached by epsilon closure (split states are never stored). Stops with ResourceExhausted at
// max_dfa_states or at the memory and work budgets.
Status SubsetConstruct(const NfaBuilder& nfa, int32_t k, const std::vector<int>& rep,
                       const DfaLimits& limits, Table* dfa) {
  const std::vector<NfaState>& states = nfa.states();
  dfa->k = k;
  // Per distinct byte set, the classes it contains.
  std::vector<uint32_t> set_class_off(nfa.sets().size() + 1, 0);
  std::vector<uint8_t> set_classes;
  for (size_t i = 0; i < nfa.sets().size(); ++i) {
    for (int32_t c = 0; c < k; ++c) {
      if (nfa.sets()[i].test(rep[c])) set_classes.push_back(static_cast<uint8_t>(c));
    }
    set_class_off[i + 1] = static_cast<uint32_t>(set_classes.size());
  }

  int64_t work = 0;
  std::vector<uint32_t> stamp(states.size(), 0);
  uint32_t generation = 0;
  std::vector<int32_t> stack;
  auto closure = [&](const std::vector<int32_t>& seeds, std::vector<int32_t>* out) {
    ++generation;
    out->clear();
    stack.assign(seeds.begin(), seeds.end());
    while (!stack.empty()) {
      const int32_t s = stack.back();
      stack.pop_back();
      if (s < 0 || stamp[s] == generation) continue;
      stamp[s] = generation;
      ++work;
      const NfaState& st = states[s];
      if (st.kind == NfaState::kSplit) {
        stack.push_back(st.out2);
        stack.push_back(st.out1);
      } else {
        out->push_back(s);
      }
    }
    std::sort(out->begin(), out->end());
    work += static_cast<int64_t>(out->size());
  };

  std::vector<int32_t> pool;  // every DFA state's NFA set, concatenated
  std::vector<int64_t> pool_off = {0};
  std::unordered_multimap<uint64_t, int32_t> index;
  const int32_t match = 0;  // NfaBuilder adds the match state first
  Status status;
  // The DFA id of `set` (inserted if new); kDead for the empty set; -2 when a limit is hit.
  auto intern = [&](const std::vector<int32_t>& set) -> int32_t {
    if (set.empty()) return ByteDfa::kDead;
    const uint64_t h = HashIds(set);
    auto [lo, hi] = index.equal_range(h);
    for (auto it = lo; it != hi; ++it) {
      const int32_t id = it->second;
      if (pool_off[id + 1] - pool_off[id] == static_cast<int64_t>(set.size()) &&
          std::equal(set.begin(), set.end(), pool.begin() + pool_off[id])) {
        return id;
      }
    }
    const int32_t id = dfa->n;
    if (id >= limits.max_dfa_states) {
      status = ResourceExhaustedError(
          "constraint too complex: its automaton needs more than max_dfa_states (" +
          std::to_string(limits.max_dfa_states) + ") states");
      return -2;
    }
    if (static_cast<int64_t>(pool.size() + set.size()) > kMaxSubsetElements) {
      status = ResourceExhaustedError(
          "constraint too complex: automaton construction exceeded its memory budget (" +
          std::to_string(kMaxSubsetElements) + " NFA states over all DFA states)");
      return -2;
    }
    pool.insert(pool.end(), set.begin(), set.end());
    pool_off.push_back(static_cast<int64_t>(pool.size()));
    index.emplace(h, id);
    dfa->accepting.push_back(std::binary_search(set.begin(), set.end(), match) ? 1 : 0);
    dfa->next.resize(dfa->next.size() + k, ByteDfa::kDead);
    ++dfa->n;
    return id;
  };

  std::vector<int32_t> set;
  closure({nfa.start()}, &set);
  if (intern(set) == -2) return status;
  std::vector<std::vector<int32_t>> targets(k);
  std::vector<int32_t> members;
  for (int32_t d = 0; d < dfa->n; ++d) {
    members.assign(pool.begin() + pool_off[d], pool.begin() + pool_off[d + 1]);
    for (int32_t m : members) {
      const NfaState& st = states[m];
      if (st.kind != NfaState::kByte) continue;
      for (uint32_t i = set_class_off[st.set]; i < set_class_off[st.set + 1]; ++i) {
        targets[set_classes[i]].push_back(st.out1);
      }
      work += set_class_off[st.set + 1] - set_class_off[st.set] + 1;
    }
    for (int32_t c = 0; c < k; ++c) {
      if (targets[c].empty()) continue;
      closure(targets[c], &set);
      targets[c].clear();
      const int32_t to = intern(set);
      if (to == -2) return status;
      dfa->next[static_cast<size_t>(d) * k + c] = to;
    }
    if (work > kMaxWork) {
      return ResourceExhaustedError(
          "constraint too complex: automaton construction exceeded its work budget");
    }
  }
  return OkStatus();
}

// Fewest steps from each state to an accepting one (-1: none) by BFS from every accepting state
// over reversed edges; via[s] = the class of the first step of one shortest path (-1 at accepting
// states).
void DistancesToAccept(const Table& t, std::vector<int32_t>* dist, std::vector<int32_t>* via) {
  std::vector<int32_t> off(t.n + 1, 0);
  for (int32_t to : t.next) {
    if (to != ByteDfa::kDead) ++off[to + 1];
  }
  for (int32_t i = 0; i < t.n; ++i) off[i + 1] += off[i];
  std::vector<std::pair<int32_t, int32_t>> rev(off[t.n]);  // (source, class), grouped by target
  std::vector<int32_t> fill(off.begin(), off.end() - 1);
  for (int32_t s = 0; s < t.n; ++s) {
    for (int32_t c = 0; c < t.k; ++c) {
      const int32_t to = t.At(s, c);
      if (to != ByteDfa::kDead) rev[fill[to]++] = {s, c};
    }
  }
  dist->assign(t.n, -1);
  via->assign(t.n, -1);
  std::vector<int32_t> queue;
  queue.reserve(t.n);
  for (int32_t s = 0; s < t.n; ++s) {
    if (t.accepting[s] != 0) {
      (*dist)[s] = 0;
      queue.push_back(s);
    }
  }
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    const int32_t to = queue[qi];
    for (int32_t e = off[to]; e < off[to + 1]; ++e) {
      const auto [s, c] = rev[e];
      if ((*dist)[s] >= 0) continue;
      (*dist)[s] = (*dist)[to] + 1;
      (*via)[s] = c;
      queue.push_back(s);
    }
  }
}

// Keeps the states with keep[s] (state 0 among them), in order; edges to the others -> kDead.
Table KeepStates(const Table& t, const std::vector<uint8_t>& keep) {
  std::vector<int32_t> renum(t.n, ByteDfa::kDead);
  Table out;
  out.k = t.k;
  for (int32_t s = 0; s < t.n; ++s) {
    if (keep[s] != 0) renum[s] = out.n++;
  }
  out.next.resize(static_cast<size_t>(out.n) * t.k);
  out.accepting.resize(out.n);
  for (int32_t s = 0; s < t.n; ++s) {
    if (renum[s] == ByteDfa::kDead) continue;
    out.accepting[renum[s]] = t.accepting[s];
    for (int32_t c = 0; c < t.k; ++c) {
      const int32_t to = t.At(s, c);
      out.next[static_cast<size_t>(renum[s]) * t.k + c] = to == ByteDfa::kDead ? to : renum[to];
    }
  }
  return out;
}

// Hopcroft's minimization: merges states that accept the same suffixes (the UTF-8 tails of code
// point classes, for one, come out of subset construction once per alternative). The dead state
// takes part as state n. Splitters are whole blocks, each refining by every class; a split block
// always gives its smaller half a new id and queues it, which keeps the O(k n log n) bound.
Table Minimize(const Table& t) {
  const int32_t n = t.n + 1;  // + the dead sink
  const int32_t sink = t.n;
  auto to = [&](int32_t s, int32_t c) {
    if (s == sink) return sink;
    const int32_t x = t.At(s, c);
    return x == ByteDfa::kDead ? sink : x;
  };
  // Predecessors per (class, target): pred[off[c * (n + 1) + x] ..].
  std::vector<int32_t> off(static_cast<size_t>(t.k) * (n + 1) + 1, 0);
  for (int32_t s = 0; s < n; ++s) {
    for (int32_t c = 0; c < t.k; ++c) ++off[static_cast<size_t>(c) * (n + 1) + to(s, c) + 1];
  }
  for (size_t i = 1; i < off.size(); ++i) off[i] += off[i - 1];
  std::vector<int32_t> pred(off.back());
  {
    std::vector<int32_t> fill(off.begin(), off.end() - 1);
    for (int32_t s = 0; s < n; ++s) {
      for (int32_t c = 0; c < t.k; ++c)
        pred[fill[static_cast<size_t>(c) * (n + 1) + to(s, c)]++] = s;
    }
  }
  // The partition: elems grouped by block; block b holds elems[first[b] .. end[b]).
  std::vector<int32_t> elems(n), where(n), block(n);
  std::vector<int32_t> first, end, marked;
  {
    int32_t pos = 0;
    for (int kind = 0; kind < 2; ++kind) {  // accepting, then the rest (with the sink)
      const int32_t b = static_cast<int32_t>(first.size());
      first.push_back(pos);
      for (int32_t s = 0; s < n; ++s) {
        const bool acc = s != sink && t.accepting[s] != 0;
        if (acc != (kind == 0)) continue;
        elems[pos] = s;
        where[s] = pos++;
        block[s] = b;
      }
      end.push_back(pos);
      marked.push_back(0);
      if (first.back() == end.back()) {  // no state of this kind
        first.pop_back();
        end.pop_back();
        marked.pop_back();
      }
    }
  }
  std::vector<int32_t> work;
  for (int32_t b = 0; b < static_cast<int32_t>(first.size()); ++b) work.push_back(b);
  std::vector<int32_t> splitter, touched;
  while (!work.empty()) {
    const int32_t b = work.back();
    work.pop_back();
    splitter.assign(elems.begin() + first[b], elems.begin() + end[b]);
    for (int32_t c = 0; c < t.k; ++c) {
      // Mark the predecessors under c, moving each to the front of its block.
      for (int32_t x : splitter) {
        const size_t slot = static_cast<size_t>(c) * (n + 1) + x;
        for (int32_t i = off[slot]; i < off[slot + 1]; ++i) {
          const int32_t s = pred[i];
          const int32_t y = block[s];
          const int32_t m = first[y] + marked[y];
          if (where[s] < m) continue;  // already marked
          std::swap(elems[where[s]], elems[m]);
          where[elems[where[s]]] = where[s];
          where[s] = m;
          if (marked[y]++ == 0) touched.push_back(y);
        }
      }
      for (int32_t y : touched) {
        const int32_t m = marked[y];
        marked[y] = 0;
        if (m == end[y] - first[y]) continue;  // all of y: no split
        const int32_t nb = static_cast<int32_t>(first.size());
        const int32_t size = end[y] - first[y];
        if (m <= size - m) {  // the marked part is new
          first.push_back(first[y]);
          end.push_back(first[y] + m);
          first[y] += m;
        } else {
          first.push_back(first[y] + m);
          end.push_back(end[y]);
          end[y] = first[y] + m;
        }
        marked.push_back(0);
        for (int32_t i = first[nb]; i < end[nb]; ++i) block[elems[i]] = nb;
        work.push_back(nb);
      }
      touched.clear();
    }
  }
  // One state per block, numbered by the smallest original state (the start stays 0); the
  // sink's block is kDead (it holds only the sink: every kept state can reach acceptance).
  std::vector<int32_t> id(first.size(), -2);
  Table out;
  out.k = t.k;
  std::vector<int32_t> repr;
  id[block[sink]] = ByteDfa::kDead;
  for (int32_t s = 0; s < t.n; ++s) {
    if (id[block[s]] != -2) continue;
    id[block[s]] = out.n++;
    repr.push_back(s);
  }
  out.next.resize(static_cast<size_t>(out.n) * t.k);
  out.accepting.resize(out.n);
  for (int32_t i = 0; i < out.n; ++i) {
    out.accepting[i] = t.accepting[repr[i]];
    for (int32_t c = 0; c < t.k; ++c)
      out.next[static_cast<size_t>(i) * t.k + c] = id[block[to(repr[i], c)]];
  }
  return out;
}

// Merges classes whose columns are identical, so the classes are exactly the distinct columns.
// class_map[old] = new class; new ids follow the order of the old ones (by smallest byte).
Table MergeClasses(const Table& t, std::vector<int32_t>* class_map) {
  class_map->assign(t.k, -1);
  std::vector<int32_t> first_of;                       // an old class of each new class
  std::unordered_multimap<uint64_t, int32_t> columns;  // hash -> new class
  for (int32_t c = 0; c < t.k; ++c) {
    uint64_t h = 1469598103934665603ull;
    for (int32_t s = 0; s < t.n; ++s)
      h = (h ^ static_cast<uint32_t>(t.At(s, c))) * 1099511628211ull;
    auto [lo, hi] = columns.equal_range(h);
    for (auto it = lo; it != hi && (*class_map)[c] < 0; ++it) {
      const int32_t o = first_of[it->second];
      bool same = true;
      for (int32_t s = 0; s < t.n && same; ++s) same = t.At(s, c) == t.At(s, o);
      if (same) (*class_map)[c] = it->second;
    }
    if ((*class_map)[c] < 0) {
      (*class_map)[c] = static_cast<int32_t>(first_of.size());
      columns.emplace(h, (*class_map)[c]);
      first_of.push_back(c);
    }
  }
  Table out;
  out.n = t.n;
  out.k = static_cast<int32_t>(first_of.size());
  out.accepting = t.accepting;
  out.next.resize(static_cast<size_t>(out.n) * out.k);
  for (int32_t s = 0; s < t.n; ++s) {
    for (int32_t c = 0; c < out.k; ++c)
      out.next[static_cast<size_t>(s) * out.k + c] = t.At(s, first_of[c]);
  }
  return out;
}

}  // namespace

StatusOr<ByteDfa> ByteDfa::Compile(const Rx& rx, const DfaLimits& limits) {
  ByteDfa dfa;
  if (rx == nullptr) return dfa;
  const int64_t size = RxExpandedSize(rx, limits.max_nfa_states);
  if (size > limits.max_nfa_states) {
    return ResourceExhaustedError("constraint too large: it expands to more than max_nfa_states (" +
                                  std::to_string(limits.max_nfa_states) +
                                  ") automaton states (counted repeats are unrolled)");
  }
  NfaBuilder nfa(limits.max_nfa_states);
  if (!nfa.Build(rx)) {
    if (nfa.too_deep()) {
      return ResourceExhaustedError("constraint too deeply nested: more than " +
                                    std::to_string(kMaxRxDepth) + " levels");
    }
    return ResourceExhaustedError("constraint too large: it expands to more than max_nfa_states (" +
                                  std::to_string(limits.max_nfa_states) + ") automaton states");
  }
  if (nfa.start() < 0) return dfa;  // the empty language

  std::array<uint8_t, 256> cls{};
  const int32_t k = ByteClasses(nfa.sets(), &cls);
  std::vector<int> rep(k, -1);  // smallest byte of each class
  for (int b = 255; b >= 0; --b) rep[cls[b]] = b;

  Table table;
  SG_RETURN_IF_ERROR(SubsetConstruct(nfa, k, rep, limits, &table));
  if (table.n == 0) return dfa;  // nothing reachable: the empty language

  // Prune: keep the states from which acceptance is reachable.
  std::vector<int32_t> dist, via;
  DistancesToAccept(table, &dist, &via);
  if (dist[0] < 0) return dfa;  // the start cannot accept: the empty language
  std::vector<uint8_t> keep(table.n);
  for (int32_t s = 0; s < table.n; ++s) keep[s] = dist[s] >= 0 ? 1 : 0;
  table = KeepStates(table, keep);
  table = Minimize(table);
  std::vector<int32_t> class_map;
  table = MergeClasses(table, &class_map);
  DistancesToAccept(table, &dist, &via);

  std::vector<int> final_rep(table.k, 256);  // smallest byte of each final class
  for (int b = 0; b < 256; ++b) {
    const int32_t c = class_map[cls[b]];
    dfa.byte_class_[b] = static_cast<uint8_t>(c);
    final_rep[c] = std::min(final_rep[c], b);
  }
  dfa.num_classes_ = table.k;
  dfa.start_ = 0;
  dfa.table_ = std::move(table.next);
  dfa.accepting_ = std::move(table.accepting);
  dfa.has_next_.resize(table.n);
  dfa.min_to_accept_ = dist;
  dfa.shortest_byte_.resize(table.n);
  for (int32_t s = 0; s < table.n; ++s) {
    bool any = false;
    for (int32_t c = 0; c < table.k && !any; ++c) {
      any = dfa.table_[static_cast<size_t>(s) * table.k + c] != kDead;
    }
    dfa.has_next_[s] = any ? 1 : 0;
    dfa.shortest_byte_[s] = via[s] < 0 ? -1 : final_rep[via[s]];
  }
  return dfa;
}

int32_t ByteDfa::Walk(int32_t state, std::string_view bytes) const {
  for (char c : bytes) {
    if (state == kDead) return kDead;
    state = Next(state, static_cast<uint8_t>(c));
  }
  return state;
}

bool ByteDfa::Matches(std::string_view bytes) const {
  if (start_ == kDead) return false;
  const int32_t s = Walk(start_, bytes);
  return s != kDead && IsAccepting(s);
}

}  // namespace sg
