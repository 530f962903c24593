// markupsafe.escape, the Jinja `escape` filter's escaping; also used by writers of HTML/SVG
// outside templates (bench-serve's chart). Defined in value.cc.
#pragma once

#include <string>
#include <string_view>

namespace sg::jinja {

// & < > " ' as HTML entities (&amp; &lt; &gt; &#34; &#39;).
std::string HtmlEscape(std::string_view s);

}  // namespace sg::jinja
