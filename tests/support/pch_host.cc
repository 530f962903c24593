// The translation unit that owns the test executables' shared precompiled header
// (tests/CMakeLists.txt, streamgen_test_pch); it has no code of its own.
