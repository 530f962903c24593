// A global operator new that counts calls, for the tests that check principle 5 (a warm decode
// step allocates nothing). Linking counting_new.cc into a test binary replaces operator new and
// delete for that whole binary. Thread rules: the count is atomic; any thread.
#pragma once

namespace sg::test {

// operator new calls so far in this process.
long AllocationCount();

// False in builds where operator new cannot be replaced (clang TSan): tests then skip.
bool AllocationCountingOn();

}  // namespace sg::test
