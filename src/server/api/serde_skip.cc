// SerdeReader's whole-value skipping: serde's IgnoredAny (unknown fields: no recursion, no depth
// limit, strings not UTF-8 checked, numbers not range checked) and serde's Content /
// serde_json::Value buffering (depth-limited, every string and number checked, paths tracked).
// Both are iterative: a body can nest as deep as it likes without touching the C++ stack.
#include <string>
#include <vector>

#include "server/api/serde_codes.h"
#include "server/api/serde_reader.h"

namespace sg::api {
namespace {

using namespace serde_code;  // NOLINT: the error texts

bool IsDigit(int c) { return c >= '0' && c <= '9'; }

}  // namespace

// serde_json's ignore_value, step for step: no recursion, no depth limit.
bool SerdeReader::IgnoreValue() {
  frames_.clear();
  char enclosing = 0;
  while (true) {
    const int c = PeekWs();
    if (c < 0) return SyntaxError(kEofValue, true);
    char frame = 0;
    if (c == 'n' || c == 't' || c == 'f') {
      ++pos_;
      if (!ParseIdent(c == 'n' ? "ull" : c == 't' ? "rue" : "alse")) return false;
    } else if (c == '-') {
      ++pos_;
      if (!IgnoreInteger()) return false;
    } else if (IsDigit(c)) {
      if (!IgnoreInteger()) return false;
    } else if (c == '"') {
      ++pos_;
      if (!IgnoreStr()) return false;
    } else if (c == '[' || c == '{') {
      if (enclosing) frames_.push_back(enclosing);
      enclosing = 0;
      ++pos_;
      frame = static_cast<char>(c);
    } else {
      return SyntaxError(kExpectedValue, true);
    }
    bool accept_comma = false;
    if (frame == 0) {
      if (enclosing) {
        frame = enclosing;
        enclosing = 0;
      } else if (!frames_.empty()) {
        frame = frames_.back();
        frames_.pop_back();
      } else {
        return true;
      }
      accept_comma = true;
    }
    while (true) {
      const int d = PeekWs();
      if (d == ',' && accept_comma) {
        ++pos_;
        break;
      }
      const bool closes = (d == ']' && frame == '[') || (d == '}' && frame == '{');
      if (!closes) {
        if (d < 0) return SyntaxError(frame == '[' ? kEofList : kEofObject, true);
        if (accept_comma) {
          return SyntaxError(frame == '[' ? kExpectedListCommaOrEnd : kExpectedObjectCommaOrEnd,
                             true);
        }
        break;
      }
      ++pos_;
      if (frames_.empty()) return true;
      frame = frames_.back();
      frames_.pop_back();
      accept_comma = true;
    }
    if (frame == '{') {
      const int q = PeekWs();
      if (q != '"') return SyntaxError(q < 0 ? kEofObject : kKeyMustBeString, true);
      ++pos_;
      if (!IgnoreStr()) return false;
      const int colon = PeekWs();
      if (colon != ':') return SyntaxError(colon < 0 ? kEofObject : kExpectedColon, true);
      ++pos_;
    }
    enclosing = frame;
  }
}

bool SerdeReader::ContentString() {
  ++pos_;
  std::string ignored;
  return ParseStr(&ignored);
}

// deserialize_any into serde's Content (untagged enums) or serde_json::Value: every string is
// checked, every number parsed (range), every container counts against the recursion limit, and
// errors carry the element's path as serde_path_to_error tracks it. Iterative: the open
// containers live in `frames_` (each also holds one unit of depth).
bool SerdeReader::SkipContent() {
  struct Open {
    bool first = true;    // no entry read yet
    bool pushed = false;  // a path segment for the current entry is pushed
    size_t index = 0;     // next element index
  };
  frames_.clear();
  std::vector<Open> open;
  while (true) {
    const int c = PeekWs();
    if (c < 0) return SyntaxError(kEofValue, true);
    if (c == 'n' || c == 't' || c == 'f') {
      ++pos_;
      if (!ParseIdent(c == 'n' ? "ull" : c == 't' ? "rue" : "alse")) return false;
    } else if (c == '-' || IsDigit(c)) {
      if (c == '-') ++pos_;
      JsonNumber n;
      if (!ParseNumber(c != '-', &n)) return false;
    } else if (c == '"') {
      if (!ContentString()) return false;
    } else if (c == '[' || c == '{') {
      if (!Enter()) return false;
      ++pos_;
      frames_.push_back(static_cast<char>(c));
      open.emplace_back();
    } else {
      return SyntaxError(kExpectedValue, true);
    }
    // Find the next value to read, closing the containers that end here.
    while (true) {
      if (frames_.empty()) return true;
      Open& o = open.back();
      if (o.pushed) {
        Pop();
        o.pushed = false;
      }
      bool has = false;
      if (frames_.back() == '[') {
        if (!HasNextElement(&o.first, &has)) return false;
        if (has) {
          PushIndex(o.index++);
          o.pushed = true;
          break;
        }
        Leave();
        if (!EndSeq()) return false;
      } else {
        if (!HasNextKey(&o.first, &has)) return false;
        if (has) {
          std::string key;
          if (!ReadKey(&key) || !ParseColon()) return false;
          PushKey(key);
          o.pushed = true;
          break;
        }
        Leave();
        if (!EndMap()) return false;
      }
      frames_.pop_back();
      open.pop_back();
    }
  }
}

}  // namespace sg::api
