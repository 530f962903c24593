// Hostile templates: each must come back as an error value, quickly, without crashing, hanging or
// exhausting memory (these run under ASan+UBSan too). Limits: ChatTemplateLimits (output bytes,
// steps, macro depth) and the parser's nesting bound.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "engine/text/jinja/chat_template.h"

namespace sg {
namespace {

using ojson = nlohmann::ordered_json;

Status RenderStatus(const std::string& tmpl, const ojson& ctx = ojson::object(),
                    const ChatTemplateLimits& limits = {}) {
  auto t = ChatTemplate::Compile(tmpl);
  if (!t.ok()) return t.status();
  RenderOptions o;
  o.date = RenderDate{2024, 7, 26};
  o.limits = limits;
  auto r = t->Render(ctx, o);
  return r.ok() ? OkStatus() : r.status();
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ChatTemplateAbuseTest, HugeRangeIsRefused) {
  const Status s = RenderStatus("{% for i in range(10**9) %}x{% endfor %}");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("Range too big"), std::string::npos) << s.message();
}

TEST(ChatTemplateAbuseTest, NestedLoopsHitTheStepLimit) {
  const Status s = RenderStatus(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
}

TEST(ChatTemplateAbuseTest, QuadraticWorkOnBigValuesHitsTheStepLimit) {
  // Each iteration scans a 100 000-element list: the scans are charged as steps.
  const Status s = RenderStatus(
      "{% set big = range(100000)|list %}{% for i in range(100000) %}"
      "{% if -1 in big %}{% endif %}{% endfor %}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
}

TEST(ChatTemplateAbuseTest, InfiniteMacroRecursionHitsTheDepthLimit) {
  const Status s = RenderStatus("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  const Status mutual = RenderStatus(
      "{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}");
  EXPECT_FALSE(mutual.ok());
}

TEST(ChatTemplateAbuseTest, DeepRecursionThroughDeepExpressionsStaysOnTheStack) {
  // Each level of recursion evaluates a deeply nested expression: the evaluator's own frame
  // bound must stop it even with a generous macro depth.
  const std::string deep = Repeat("(", 30) + "n" + Repeat(")", 30);
  ChatTemplateLimits limits;
  limits.max_depth = 100000;
  const Status s = RenderStatus("{% macro f(n) %}{{ f(" + deep + " + 1) }}{% endmacro %}{{ f(0) }}",
                                ojson::object(), limits);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
}

TEST(ChatTemplateAbuseTest, DeeplyNestedSourceIsASyntaxError) {
  for (const char* open : {"(", "[", "{'a': ", "not ", "-", "[1, ("}) {
    SCOPED_TRACE(open);
    const Status s = RenderStatus("{{ " + Repeat(open, 100000) + "1 }}");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  }
  const Status blocks = RenderStatus(Repeat("{% if true %}", 100000));
  EXPECT_FALSE(blocks.ok());
  const Status loops = RenderStatus(Repeat("{% for x in y %}", 100000));
  EXPECT_FALSE(loops.ok());
  // Long chains build deep trees too.
  for (const char* link : {"|trim", ".a", "[0]", "()", " + 1", " ~ 1", " or 1", " and 1", " * 1",
                           " ** 1", " is defined", " if 1 else 1"}) {
    SCOPED_TRACE(link);
    const Status s = RenderStatus("{{ x" + Repeat(link, 100000) + " }}");
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.message();
  }
  // Chains of a realistic length are fine.
  EXPECT_TRUE(RenderStatus("{{ 'a'" + Repeat(" ~ 'a'", 100) + Repeat("|trim", 50) + " }}").ok());
}

TEST(ChatTemplateAbuseTest, HugeOutputIsRefused) {
  for (const char* t : {
           "{{ 'x' * 10**9 }}",
           "{{ 'x' * 1000000 ~ 'y' * 1000000 }}",
           "{{ [1] * 10**9 }}",
           "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
           "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
           "{% endfor %}",
           "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
           "{% endfor %}",
           "{{ ('ab' * 100000)|replace('', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') }}",
           "{{ 'a'.center(10**9) }}",
           "{{ (range(100000)|list) * 1000 }}",
           "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}"
           "{% endfor %}{{ ns.l|length }}",
       }) {
    SCOPED_TRACE(t);
    const Status s = RenderStatus(t);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.message();
  }
}

TEST(ChatTemplateAbuseTest, PrintingHugeOrDeepValuesIsBounded) {
  // A list holding the same 500 KB string 100 000 times: its repr is refused, not built.
  const Status wide = RenderStatus(
      "{% set s = 'x' * 500000 %}{% set ns = namespace(l=[]) %}{% set l = [s] * 50000 %}"
      "{{ l }}");
  ASSERT_FALSE(wide.ok());
  EXPECT_EQ(wide.code(), StatusCode::kResourceExhausted) << wide.message();
  // Nesting built at run time is refused past 512 levels (so destroying a value never recurses
  // deeper); up to that, printing, comparing and serializing stay bounded too.
  auto build = [](int levels) {
    return "{% set ns = namespace(l=[]) %}{% for i in range(" + std::to_string(levels) +
           ") %}{% set ns.l = [ns.l] %}{% endfor %}";
  };
  const Status deep = RenderStatus(build(20000));
  ASSERT_FALSE(deep.ok());
  EXPECT_NE(deep.message().find("RecursionError"), std::string::npos) << deep.message();
  (void)RenderStatus(build(500) + "{{ ns.l }}");  // past 256 levels it prints "[...]"
  EXPECT_TRUE(RenderStatus(build(500) + "{{ ns.l|tojson }}").ok());
  EXPECT_TRUE(RenderStatus(build(500) + "{{ ns.l == ns.l }}").ok());
  EXPECT_FALSE(RenderStatus(build(500) + "{{ ns.l < ns.l }}").ok());
  // Chains through namespaces and cycles are torn down at the end of the render.
  EXPECT_TRUE(RenderStatus("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns.self.self is "
                           "defined }}")
                  .ok());
  EXPECT_TRUE(RenderStatus("{% set head = namespace(p=none) %}{% set ns = namespace(cur=head) %}"
                           "{% for i in range(50000) %}{% set n = namespace(p=ns.cur) %}"
                           "{% set ns.cur = n %}{% endfor %}")
                  .ok());
}

TEST(ChatTemplateAbuseTest, DeepJsonContextIsBounded) {
  std::string deep = Repeat("[", 5000) + Repeat("]", 5000);
  ojson ctx;
  ctx["x"] = ojson::parse(deep);
  const Status s = RenderStatus("{{ x }}{{ x|tojson }}", ctx);
  // Anything past 256 levels is None; the render itself succeeds.
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(ChatTemplateAbuseTest, UnterminatedConstructsAreSyntaxErrors) {
  for (const char* t : {"{% if true %}",   "{% for x in y %}",
                        "{% macro m() %}", "{{ x",
                        "{% if",           "{# comment",
                        "{% raw %}x",      "{{ 'abc }}",
                        "{% set x %}",     "{% call m() %}",
                        "{{ x[ }}",        "{{ (1, 2 }}",
                        "{{ {'a': }}",     "{% endif %}",
                        "{% else %}",      "{{ }}",
                        "{% %}",           "{% if x %}{% elif %}{% endif %}",
                        "{{ x|}}",         "{{ x is }}",
                        "{{ f(a=1, 2) }}", "{% for in x %}{% endfor %}",
                        "{% set 1 = 2 %}", "{% macro m(a=1, b) %}{% endmacro %}"}) {
    SCOPED_TRACE(t);
    auto c = ChatTemplate::Compile(t);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("TemplateSyntaxError"), std::string::npos)
        << c.status().message();
  }
}

TEST(ChatTemplateAbuseTest, GarbageAndInvalidUtf8AreRefused) {
  EXPECT_FALSE(ChatTemplate::Compile("abc \xFF\xFE {{ x }}").ok());
  EXPECT_FALSE(ChatTemplate::Compile("\xC0\xAF").ok());
  EXPECT_FALSE(ChatTemplate::Compile("\xED\xA0\x80").ok());  // a surrogate
  EXPECT_FALSE(ChatTemplate::Compile(std::string("a\0b", 3)).ok());
  EXPECT_FALSE(ChatTemplate::Compile("{{ @ }}").ok());
  EXPECT_FALSE(ChatTemplate::Compile("{{ '\\xZZ' }}").ok());
  EXPECT_FALSE(ChatTemplate::Compile("{{ '\\U00110000' }}").ok());
  // Every byte value in a tag: errors or renders, never crashes.
  for (int b = 1; b < 256; ++b) {
    std::string t = "{{ x ";
    t += static_cast<char>(b);
    t += " y }}{% if ";
    t += static_cast<char>(b);
    t += " %}{% endif %}";
    (void)RenderStatus(t);
  }
}

TEST(ChatTemplateAbuseTest, RuntimeErrorsAreValues) {
  for (const char* t : {"{{ 1 // 0 }}",
                        "{{ 1 % 0 }}",
                        "{{ 1.0 / 0 }}",
                        "{{ 2 ** 64 }}",
                        "{{ -9223372036854775807 - 2 }}",
                        "{{ x.y.z }}",
                        "{{ [].pop() }}",
                        "{{ {}.update({}) }}",
                        "{{ 'a' < 1 }}",
                        "{{ none + 1 }}",
                        "{{ 'x'() }}",
                        "{% set a, b = [1] %}",
                        "{{ [1, 2]|batch(0)|list }}",
                        "{{ '%d' % 'x' }}",
                        "{{ '{0}'.format() }}",
                        "{{ '{'.format(1) }}",
                        "{{ 'abc'[::0] }}",
                        "{% set ns = 1 %}{% set ns.x = 2 %}",
                        "{{ namespace(a=1)|tojson }}",
                        "{{ range(1, 2, 0) }}",
                        "{{ x|sort(attribute='a.b') }}",
                        "{{ [1, 'a']|sort }}",
                        "{{ {[1]: 2} }}",
                        "{{ 'a' in 1 }}",
                        "{{ 1 in 'a' }}"}) {
    SCOPED_TRACE(t);
    const Status s = RenderStatus(t, ojson::parse(R"({"x": [{"a": 1}, {"a": "s"}]})"));
    EXPECT_FALSE(s.ok());
  }
}

TEST(ChatTemplateAbuseTest, LimitsAreConfigurable) {
  ChatTemplateLimits tight;
  tight.max_output_bytes = 10;
  EXPECT_EQ(RenderStatus("{{ 'x' * 11 }}", ojson::object(), tight).code(),
            StatusCode::kResourceExhausted);
  EXPECT_TRUE(RenderStatus("{{ 'x' * 10 }}", ojson::object(), tight).ok());
  tight = {};
  tight.max_steps = 50;
  EXPECT_EQ(RenderStatus("{% for i in range(100) %}{% endfor %}", ojson::object(), tight).code(),
            StatusCode::kResourceExhausted);
  tight = {};
  tight.max_depth = 3;
  const std::string rec = "{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{% endif %}{% endmacro %}";
  EXPECT_TRUE(RenderStatus(rec + "{{ f(2) }}", ojson::object(), tight).ok());
  EXPECT_FALSE(RenderStatus(rec + "{{ f(3) }}", ojson::object(), tight).ok());
}

}  // namespace
}  // namespace sg
